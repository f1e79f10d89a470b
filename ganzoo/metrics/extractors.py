"""The Inception feature extractor (a ``ganzoo.protocols.FeatureExtractor``): the network that
maps images to the features FID, KID and precision/recall compare, and the logits of the
Inception Score, as the published numbers compute them.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ganzoo.data.download import download
from ganzoo.errors import GanzooError

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{INCEPTION_FILE}"


def rgb(images: torch.Tensor) -> torch.Tensor:
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def inception_weights(path: str | Path | None = None) -> Path:
    """The Inception weights file: ``path``, else ``$GANZOO_INCEPTION_WEIGHTS``, else the torch hub
    cache (``$TORCH_HOME/hub/checkpoints``), downloaded there when missing. The URL can be
    redirected to a mirror with ``$GANZOO_INCEPTION_URL``."""

    given = path or os.environ.get("GANZOO_INCEPTION_WEIGHTS")
    if given:
        given = Path(given).expanduser()
        if not given.is_file():
            raise GanzooError(
                f"Inception weights '{given}' do not exist: it should be {INCEPTION_FILE} from {INCEPTION_URL}"
            )
        return given
    cached = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    if cached.is_file():
        return cached
    url = os.environ.get("GANZOO_INCEPTION_URL", INCEPTION_URL)
    try:
        return download([url], cached)
    except GanzooError:
        raise GanzooError(
            f"no Inception weights: {INCEPTION_FILE} is not in the torch hub cache and could not be "
            f"downloaded from {url}. Fetch it by hand and put it at {cached} (or pass "
            f"--inception-weights PATH, or set GANZOO_INCEPTION_WEIGHTS)"
        ) from None


class InceptionExtractor(nn.Module):
    """The standard FID Inception-v3 (TF 2015-12-05 weights, via torchmetrics/torch-fidelity):
    2048-d pool features and 1008 logits. ``antialias=False`` resizes like the TensorFlow
    reference implementation, which is what makes FIDs comparable with published ones."""

    name = "inception"
    num_features = 2048
    num_classes = 1008

    def __init__(self, weights: str | Path | None = None, antialias: bool = False):
        super().__init__()
        # lazy: torchmetrics takes seconds to import; only this extractor needs it
        from torchmetrics.image.fid import NoTrainInceptionV3

        path = inception_weights(weights)
        try:  # refuse a file that is not a plain tensor state dict before anything unpickles it fully
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise GanzooError(
                f"'{path}' is not an Inception state dict ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            ) from None
        try:
            self.net = NoTrainInceptionV3(
                name="inception-v3-compat",
                features_list=["2048", "logits_unbiased"],
                feature_extractor_weights_path=str(path),
                antialias=antialias,
            )
        except RuntimeError as exc:
            raise GanzooError(f"'{path}' does not fit Inception-v3: {str(exc).splitlines()[0]}") from None
        self.key = f"inception-2015-12-05-{'antialias' if antialias else 'tf-resize'}"

    def _both(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pool, logits = self.net._torch_fidelity_forward(rgb(images))  # both outputs in one pass
        return pool.reshape(len(images), -1), logits.reshape(len(images), -1)

    def features(self, images):
        return self._both(images)[0]

    def logits(self, images):
        return self._both(images)[1]
