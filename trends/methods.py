"""Registries: every method, reader and report section is found by name in one place.

A statistic keeps a :class:`Registry` of its methods; each method registers itself
with a one-line description and the reference behind it. The public function looks
the method up by name, the CLI takes its choices from :meth:`Registry.names`, and the
report's methods section and the docs print :meth:`Registry.table`. Adding a method is
one function and one ``@REGISTRY.register(...)`` line (ruptures' cost factory is the
model)::

    TESTS = Registry("compare method")

    @TESTS.register("score", description="conditional score test", reference="Gu et al. 2008")
    def _score(...): ...

    TESTS.get("score").func(...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .checks import check_choice

__all__ = ["Entry", "Registry"]


@dataclass(frozen=True)
class Entry:
    """One registered name: what it does and where it comes from."""

    name: str
    func: Callable[..., Any]
    description: str
    reference: str = ""


class Registry:
    """Names to :class:`Entry` objects, in the order they were registered.

    Parameters
    ----------
    kind : str
        What the entries are (``"trend method"``), for messages.
    option : str
        The keyword that names an entry (``"method"``), for messages.
    """

    def __init__(self, kind: str, *, option: str = "method") -> None:
        self.kind = kind
        self.option = option
        self._entries: dict[str, Entry] = {}

    def register(
        self, name: str, *, description: str, reference: str = ""
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: register the decorated function under ``name``."""

        def add(func: Callable[..., Any]) -> Callable[..., Any]:
            self.add(name, func, description=description, reference=reference)
            return func

        return add

    def add(self, name: str, func: Callable[..., Any], *, description: str, reference: str = ""):
        """Register ``func`` under ``name`` (a name registers once)."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = Entry(name, func, description, reference)

    def get(self, name: Any) -> Entry:
        """The entry called ``name``; an OptionError lists the valid names."""
        return self._entries[check_choice(self.option, name, self._entries)]

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def table(self) -> pd.DataFrame:
        """One row per entry: ``name``, ``description``, ``reference``."""
        return pd.DataFrame(
            [(e.name, e.description, e.reference) for e in self],
            columns=["name", "description", "reference"],
        )
