"""Data sources and batching for the training loop."""

from ganzoo.data.convert import to_model_range
from ganzoo.data.order import ShuffledIndices
from ganzoo.data.sources import ImageArrays, TensorImages, UnpairedImages

__all__ = ["ImageArrays", "ShuffledIndices", "TensorImages", "UnpairedImages", "to_model_range"]
