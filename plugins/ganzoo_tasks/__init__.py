"""Built-in plugin: the tasks ganzoo's own models train for, and the data kind of each.

Registered through the same hook a third-party plugin uses to add a task of its own."""

from ganzoo import TaskSpec, hookimpl

BUILT_IN_TASKS = (
    TaskSpec("unconditional", "images from noise", data_kind="images"),
    TaskSpec("class-conditional", "images from noise and a class or attributes (labelled images)",
             data_kind="images"),
    TaskSpec("paired-translation", "image to image, trained on aligned pairs", data_kind="paired"),
    TaskSpec("unpaired-translation", "image to image, trained on two unaligned domains", data_kind="unpaired"),
    TaskSpec("inpainting", "fill a masked region (with an exemplar)", data_kind="inpainting"),
)


@hookimpl
def register_tasks(register):
    for task in BUILT_IN_TASKS:
        register(task)
