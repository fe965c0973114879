"""Register the pandas accessors when pandas is imported, without importing pandas ourselves.

``import clientsense`` must make ``df.clientsense`` work, but importing pandas (and the pyarrow it
pulls in) costs ~85 MB and ~0.5 s that analysing messages does not need (scoring runs on numpy
arrays; only frames, rollups and training use pandas). So the accessors are registered at once if
pandas is already imported, and otherwise by a one-shot import hook right after pandas finishes
importing.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

_lock = threading.Lock()


def _register() -> None:
    from . import pandas_ext  # noqa: F401  (the decorators register the accessors)


class _AfterPandas(importlib.abc.MetaPathFinder):
    """Finds nothing itself: on the import of ``pandas`` it asks the other finders for the spec
    and wraps the loader so that the accessors are registered once pandas has executed."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "pandas":
            return None
        _remove_hook()  # one shot; also keeps find_spec below from finding this finder again
        spec = importlib.util.find_spec("pandas")
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            _register()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


_hook = _AfterPandas()


def _remove_hook() -> None:
    with _lock:
        if _hook in sys.meta_path:
            sys.meta_path.remove(_hook)


def install() -> None:
    """Register the accessors now if pandas is loaded, else as soon as it is imported."""
    if "pandas" in sys.modules:
        _register()
        return
    with _lock:
        if _hook not in sys.meta_path:
            sys.meta_path.insert(0, _hook)
