"""What an evaluation compares, and its defaults: the one place ``ganzoo eval``, ``Run.evaluate``,
``ganzoo train --eval-*`` and the docs take them from. No torch here: the CLI reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_METRIC = "fid"
DEFAULT_EXTRACTOR = "inception"
DEFAULT_SAMPLES = 10_000  # generated samples of `ganzoo eval` and Run.evaluate
SAMPLES_DURING_TRAINING = 2000  # `train --eval-n`: fewer, so that evaluating every N steps stays cheap
MIN_REAL_IMAGES = 10_000  # real images compared by default: at least this many (when the split has them)


@dataclass(kw_only=True)
class EvalSettings:
    metrics: tuple[str, ...] = (DEFAULT_METRIC,)
    n: int = DEFAULT_SAMPLES  # generated samples
    real: int | None = None  # real images (default: real_count)
    split: str | None = None  # default: "test" when the dataset has it, else "train"
    extractor: str = DEFAULT_EXTRACTOR
    inception_weights: str | None = None
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)

    def real_count(self, available: int) -> int:
        """Real images compared: ``real``, else max(n, MIN_REAL_IMAGES); at most ``available``."""
        return min(available, self.real or max(self.n, MIN_REAL_IMAGES))


#: The defaults, to read: ``EVAL_DEFAULTS.n``.
EVAL_DEFAULTS = EvalSettings()
