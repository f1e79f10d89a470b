"""Built-in plugin: the tasks ganzoo's own models train for, and the data kind of each.

Registered through the same hook a third-party plugin uses to add a task of its own."""

from ganzoo.plugin import BatchKey, BatchSchema, TaskSpec, hookimpl

#: Declared once per data kind, shared by the tasks that train on it.
IMAGES = BatchSchema((BatchKey("image", summary="a training image"),))
PAIRED = BatchSchema(
    (
        BatchKey("A", summary="an image of domain A"),
        BatchKey("B", channels="channels_b", summary="the same example in domain B"),
    )
)
UNPAIRED = BatchSchema(
    (
        BatchKey("A", summary="an image of domain A"),
        BatchKey("B", channels="channels_b", summary="an independent draw from domain B"),
    )
)
INPAINTING = BatchSchema(
    (
        BatchKey("image", summary="the whole image, the target"),
        BatchKey("mask", kind="mask", summary="the hole to fill"),
        BatchKey("exemplar", summary="another image of the same identity or class"),
    )
)

BUILT_IN_TASKS = (
    TaskSpec("unconditional", "images from noise", data_kind="images", batch=IMAGES),
    TaskSpec(
        "class-conditional",
        "images from noise and a class or attributes (labelled images)",
        data_kind="images",
        batch=IMAGES,
    ),
    TaskSpec("paired-translation", "image to image, trained on aligned pairs", data_kind="paired", batch=PAIRED),
    TaskSpec(
        "unpaired-translation", "image to image, trained on two unaligned domains", data_kind="unpaired", batch=UNPAIRED
    ),
    TaskSpec("inpainting", "fill a masked region (with an exemplar)", data_kind="inpainting", batch=INPAINTING),
)


@hookimpl
def register_tasks(register):
    for task in BUILT_IN_TASKS:
        register(task)
