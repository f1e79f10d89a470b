"""The sample grids of a run (samples/step-N.png): for a model that samples from noise, the same
noise (and conditions) all through training; for one that previews, fixed held-out examples as
rows of input | output | target. Every process draws them alike, its random streams untouched
(work outside training never changes training); rank 0's, a listener of the run, writes each one."""

from __future__ import annotations

from typing import Any

import torch

from ganzoo.data import to_model_range
from ganzoo.data.convert import to_uint8
from ganzoo.data.loading import open_dataset
from ganzoo.errors import GanzooError
from ganzoo.execution import eager_networks
from ganzoo.hookspecs import hookimpl
from ganzoo.protocols import PreviewsExamples, SamplesFromNoise
from ganzoo.training.distributed import World
from ganzoo.training.ema import GeneratorEMA
from ganzoo.training.lifecycle import Lifecycle
from ganzoo.training.plan import TrainPlan
from ganzoo.training.rng import rng_untouched
from ganzoo.training.run_dir import RunDir
from ganzoo.training.samples import SampleSheet, grid_image, save_png

PREVIEW_EXAMPLES = 8  # rows of a translation model's sample grid


class SampleGrids:
    def __init__(
        self,
        plan: TrainPlan,
        model: torch.nn.Module,
        ema: GeneratorEMA,
        data: Any,
        device: torch.device,
        masks: frozenset[str],
        world: World,
        run_dir: RunDir,
        lifecycle: Lifecycle,
    ):
        self.model, self.ema, self.device, self.masks = model, ema, device, masks
        self.run_dir, self.lifecycle = run_dir, lifecycle
        noise = isinstance(model, SamplesFromNoise)
        self.sheet = SampleSheet.for_model(model, data.info, plan.settings.seed) if noise else None
        self.examples = None
        if self.sheet is None and isinstance(model, PreviewsExamples):
            with world.writer_first():  # rank 0 prepares the held-out split's cache; the others then read it
                self.examples = held_out_examples(plan, data)

    def draw(self, step: int) -> None:
        """Draw the grid of ``step`` with the averaged generator and announce it (on_sample)."""
        if self.sheet is None and self.examples is None:
            return
        with rng_untouched(), eager_networks():  # compiled networks would compile again for eval mode
            grid = self._grid()
        self.lifecycle.emit("on_sample", step=step, path=self.run_dir.sample_path(step), grid=grid)

    @hookimpl(tryfirst=True)
    def on_sample(self, path, grid: torch.Tensor) -> None:
        """Written first of every implementation: the others find the file."""
        save_png(grid, path)

    def _grid(self) -> torch.Tensor:
        if self.sheet is not None:
            with self.ema.swapped_in(self.model) as model:
                return grid_image(self.sheet.images(model, self.device), nrow=self.sheet.columns)
        assert self.examples is not None
        with self.ema.swapped_in(self.model) as model, torch.no_grad():  # model-defined columns
            assert isinstance(model, PreviewsExamples)
            model.eval()
            try:
                rows = model.preview(to_model_range(self.examples, self.device, self.masks))
            finally:
                model.train()
        return grid_image(to_uint8(rows.flatten(0, 1)), nrow=rows.shape[1])


def held_out_examples(plan: TrainPlan, data: Any, count: int = PREVIEW_EXAMPLES) -> dict[str, torch.Tensor]:
    """The first examples of the held-out split (val, else test, else the training data)."""
    spec, settings = plan.dataset.spec, plan.settings
    held_out = next((s for s in ("val", "test") if s in spec.splits), None)
    if held_out:
        try:
            data = open_dataset(
                spec,
                root=settings.data_root,
                resolution=settings.resolution,
                split=held_out,
                fit=settings.fit,
                options=settings.data_options,
            )
        except GanzooError:  # a user folder without that split: show training examples
            pass
    return data.batch(torch.arange(min(count, len(data))))
