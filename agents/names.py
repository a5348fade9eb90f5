"""Callables by name: the one registry behind the agent factories and the learners.

A :class:`Registry` maps names to callables; :meth:`Registry.get` also takes an import path
``"package.module:function"`` when the registry allows it (agents do), so a user's callable
needs no registration. Every refusal is a :class:`~grasp_env.errors.ConfigError` naming the
kind of thing, what was expected and what came.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from grasp_env.errors import ConfigError

T = TypeVar("T", bound=Callable[..., Any])


class Registry(Generic[T]):
    """Named callables of one kind.

    Args:
        kind: what they are, in messages ("agent", "learner").
        imports: :meth:`get` also resolves ``"module:function"`` paths.
    """

    def __init__(self, kind: str, *, imports: bool = False) -> None:
        self.kind, self.imports = kind, imports
        self._items: dict[str, T] = {}

    def _article(self) -> str:
        return "an" if self.kind[0] in "aeiou" else "a"

    def register(self, name: str, item: T, overwrite: bool = False) -> None:
        """Make ``item`` available as ``name``.

        Raises:
            ConfigError: ``name`` is empty, has a colon, or is taken (and ``overwrite`` is
                False), or ``item`` is not callable.
        """
        if not name or ":" in name:
            raise ConfigError(
                f"expected {self._article()} {self.kind} name without ':', got {name!r}"
            )
        if not callable(item):
            raise ConfigError(f"expected a callable {self.kind} for {name!r}, got {item!r}")
        if name in self._items and not overwrite:
            raise ConfigError(
                f"{self.kind} name {name!r} is already registered;"
                " pass overwrite=True to replace it"
            )
        self._items[name] = item

    def unregister(self, name: str) -> None:
        """Forget ``name`` (no error if it is not registered)."""
        self._items.pop(name, None)

    def available(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._items)

    def get(self, name: str) -> T:
        """The callable of ``name`` (or of the import path ``"module:function"``).

        Raises:
            ConfigError: the name is neither registered nor an importable path.
        """
        if name in self._items:
            return self._items[name]
        if self.imports and ":" in name:
            return self._imported(name)
        paths = " or 'module:function'" if self.imports else ""
        raise ConfigError(
            f"expected {self._article()} {self.kind} name in {self.available()}{paths},"
            f" got {name!r}"
        )

    def _imported(self, name: str) -> T:
        module_name, _, attribute = name.partition(":")
        try:
            item = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"expected an importable 'module:function', got {name!r}: {exc}"
            ) from exc
        if not callable(item):
            raise ConfigError(f"expected {name!r} to be callable, got {type(item).__name__}")
        return item


__all__ = ["Registry"]
