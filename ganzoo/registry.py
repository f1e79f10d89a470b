"""One generic registry: named entries, who provided them, wildcard listing."""

from __future__ import annotations

import builtins
import fnmatch
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from ganzoo.errors import DuplicateNameError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Provider:
    """The plugin (and the distribution carrying it) that registered an entry."""

    plugin: str
    distribution: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        if self.distribution and self.version:
            return f"{self.plugin} ({self.distribution} {self.version})"
        return self.plugin


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    spec: T
    provider: Provider


def natural_key(name: str) -> list:
    """Sort 'gan2' before 'gan10', as a person would."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class Registry(Generic[T]):
    """Entries of one kind (models, datasets, losses, metrics) keyed by unique name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, spec: T, provider: Provider) -> None:
        if not name or not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
            raise ValueError(f"{self.kind} name '{name}' must be lower-case letters, digits, '.', '_' or '-'")
        if name in self._entries:
            first = self._entries[name].provider
            raise DuplicateNameError(f"{self.kind} '{name}' is registered by both plugin {first} and plugin {provider}")
        self._entries[name] = Entry(name, spec, provider)

    def unregister_provider(self, plugin: str) -> None:
        self._entries = {k: e for k, e in self._entries.items() if e.provider.plugin != plugin}

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._entries) from None

    def get(self, name: str) -> T:
        return self.entry(name).spec

    def list(self, pattern: str | None = None) -> list[Entry[T]]:
        """Entries whose name matches the shell-style pattern, in natural order."""
        names = sorted(self._entries, key=natural_key)
        if pattern:
            names = [n for n in names if fnmatch.fnmatchcase(n, pattern.lower())]
        return [self._entries[n] for n in names]

    def names(self) -> builtins.list[str]:  # `list` here would name the method above
        return [e.name for e in self.list()]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._entries)
