"""Data sources and batching for the training loop."""

from ganzoo.data.sources import TensorImages
from ganzoo.data.order import ShuffledIndices
from ganzoo.data.convert import to_model_range

__all__ = ["ShuffledIndices", "TensorImages", "to_model_range"]
