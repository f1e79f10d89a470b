"""What a command writes never replaces what it reads, nor a file it did not make.

Every command that writes files (``translate``, ``generate``, ``interpolate``,
``data make-edges``, and any later one) records its inputs on an :class:`Outputs` and plans
every target on it *before* writing the first one:

- a target that is one of the inputs (the same path, a link to it, a hard link) is refused,
  even with ``--overwrite``;
- a target that already exists is refused unless ``--overwrite`` (before anything is written,
  every existing file is one this invocation did not make);
- two targets of one invocation with the same name get distinct names (``a.png``, ``a-2.png``);
- a target inside a "folder" that is a file, or that is itself a folder, is refused.

A refusal is a :class:`~ganzoo.errors.UsageError` (exit code 2) naming the path; when it comes,
nothing has been written. The module also spells the command lines ganzoo prints for users to
paste (:func:`shell_command`), quoted so that paths with spaces survive.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterable
from pathlib import Path

from ganzoo.errors import UsageError


class Outputs:
    """The inputs and the planned targets of one invocation of a command."""

    def __init__(self, overwrite: bool = False, inputs: Iterable[Path] = ()):
        self.overwrite = overwrite
        self._inputs: set[Path] = set()
        self._input_ids: set[tuple[int, int]] = set()  # (device, inode): hard links are inputs too
        self._planned: set[Path] = set()
        self._series: list[tuple[Path, Callable[[str], bool]]] = []
        self._folders: dict[Path, None] = {}  # an ordered set: many targets share a folder
        self.read(*inputs)

    def read(self, *paths: Path) -> None:
        """Record files the command reads: they are never written."""
        for path in paths:
            resolved = Path(path).resolve()
            self._inputs.add(resolved)
            try:
                stat = resolved.stat()
            except OSError:
                continue
            self._input_ids.add((stat.st_dev, stat.st_ino))

    def folder(self, path: Path, flag: str | None = None) -> Path:
        """A folder outputs go into (created by :meth:`create_folders`); refused when it, or a
        folder above it, is a file."""
        path = Path(path)
        if os.path.lexists(path) and not path.is_dir():
            raise UsageError(f"{_named(path, flag)} is a file, not a folder")
        _check_parents(path, _named(path, flag))
        self._folders[path] = None
        return path

    def file(self, path: Path, flag: str | None = None, fresh: bool = False) -> Path:
        """Plan one file; returns the name it gets (made distinct from this invocation's other
        targets; with ``fresh`` also from existing files, for names the user did not choose)."""
        path = Path(path)
        taken = (lambda p: self._taken(p) or os.path.lexists(p)) if fresh else self._taken
        path = distinct_name(path, taken)
        self._check_target(path, _named(path, flag))
        self._planned.add(path.resolve())
        self._folders[path.parent] = None
        return path

    def series(self, folder: Path, ours: Callable[[str], bool], flag: str | None = None) -> Path:
        """Files in ``folder`` named by a rule rather than listed (``generate --out`` may write
        millions): each existing entry of the folder that ``ours`` claims is checked like a file."""
        folder = self.folder(folder, flag)
        if folder.is_dir():
            with os.scandir(folder) as entries:
                for entry in entries:
                    if ours(entry.name):
                        self._check_target(folder / entry.name, _named(folder / entry.name, None))
        self._series.append((folder.resolve(), ours))
        return folder

    def create_folders(self) -> None:
        """Make the planned targets' folders: call it once every target is planned."""
        for folder in self._folders:
            folder.mkdir(parents=True, exist_ok=True)

    def _taken(self, path: Path) -> bool:
        resolved = path.resolve()
        return resolved in self._planned or any(
            resolved.parent == folder and ours(resolved.name) for folder, ours in self._series
        )

    def _check_target(self, path: Path, name: str) -> None:
        if self._is_input(path):
            raise UsageError(
                f"{name} is an input of this command: it is never overwritten, not even with "
                "--overwrite; write the output elsewhere"
            )
        _check_parents(path, name)
        if path.is_dir():
            raise UsageError(f"{name} is a folder, not a file: write the output elsewhere")
        if os.path.lexists(path) and not self.overwrite:
            raise UsageError(f"{name} already exists: refusing to overwrite it (--overwrite allows it)")

    def _is_input(self, path: Path) -> bool:
        if path.resolve() in self._inputs:
            return True
        try:
            stat = path.stat()
        except OSError:
            return False
        return (stat.st_dev, stat.st_ino) in self._input_ids


def distinct_name(path: Path, taken: Callable[[Path], bool]) -> Path:
    """``path``, or the first of ``stem-2.ext``, ``stem-3.ext``, ... that is not ``taken``."""
    candidate, number = path, 1
    while taken(candidate):
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


def shell_command(*words: object) -> str:
    """A command line for the user to paste, each word quoted for the shell where needed."""
    return " ".join(shlex.quote(str(word)) for word in words)


def _named(path: Path, flag: str | None) -> str:
    return f"{flag} '{path}'" if flag else f"'{path}'"


def _check_parents(path: Path, name: str) -> None:
    """Refuse when the nearest existing entry above ``path`` is not a folder."""
    for ancestor in path.parents:
        if ancestor.is_dir():
            return
        if os.path.lexists(ancestor):
            raise UsageError(f"cannot write {name}: '{ancestor}' is a file, not a folder")
