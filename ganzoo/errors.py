"""Errors ganzoo shows to users.

Every error a user can cause is a :class:`GanzooError`; the CLI prints its message on one
line and exits 1, or 2 for a :class:`UsageError` (a wrong name, flag or value).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class GanzooError(Exception):
    """A failure ganzoo explains in one line (exit code 1 in the CLI)."""

    exit_code = 1
    """The command line's exit status for this kind of error."""


class UsageError(GanzooError, ValueError):
    """The user asked for something that does not exist or is malformed (exit code 2). A
    ValueError too, so Python callers may catch it as the standard library's kind of error."""

    exit_code = 2
    """The command line's exit status for this kind of error."""


class UnknownNameError(UsageError, LookupError):
    """A name that no registry entry, option or run has; suggests the closest ones."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        self.kind, self.name = kind, name
        self.known = sorted(known)
        """The names that do exist, sorted (the message suggests the closest)."""
        super().__init__(f"unknown {kind} '{name}'.{did_you_mean(name, self.known)}")


class DuplicateNameError(GanzooError):
    """Two plugins registered the same name in one registry."""


class PluginError(GanzooError):
    """A plugin failed to import, validate or register."""


class UnknownPhaseError(PluginError):
    """A model was asked for the loss of a phase it does not declare: a bug in the model's plugin,
    raised by its ``phase_loss`` instead of silently treating the phase as another one."""

    def __init__(self, model: object, phase_name: str):
        declared = ", ".join(phase.name for phase in model.phases)  # type: ignore[attr-defined]
        super().__init__(f"{type(model).__name__} has no phase '{phase_name}' (it declares: {declared})")


class CheckpointError(GanzooError):
    """A checkpoint or run folder that cannot be read safely."""


class DataError(GanzooError):
    """A dataset that is missing, empty or malformed."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the closest known names, or a list of what exists."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if known and len(known) <= 12:
        return " Known: " + ", ".join(known) + "."
    return ""


def shortened(text: str, limit: int = 60) -> str:
    """``text`` as an error message quotes it: whole when short, else its start and its length
    (a 1 MB value pasted by mistake is not echoed back in full)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (a library's multi-line dump cut to what a
    one-line error can quote), or its class name when it has no message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
