"""The version of ganzoo, in a module of its own so that the loop can record it without importing the
package's public entrance (ganzoo/__init__.py re-exports it as ``ganzoo.__version__``)."""

from __future__ import annotations

__version__ = "0.1.0"
