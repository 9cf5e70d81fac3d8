"""Shims that let the test harness run on Home Assistant 2026.11 and newer.

pytest-homeassistant-custom-component (the harness) has no release for 2026.11 yet:
`scripts/setup --ha-newest` installs 0.13.375, made for 2026.10.4, next to 2026.11.0
(requirements_test_newest.txt). It needs two shims there, nothing else. This module is
a pytest plugin that pyproject.toml loads with `-p` so that it runs before the plugins
installed packages declare, the harness among them; on older Home Assistant releases it
does nothing.

Remove this module (and its `-p` in pyproject.toml) when
pytest-homeassistant-custom-component supports 2026.11.
"""

from collections.abc import Sequence
import importlib.abc
from importlib.machinery import ModuleSpec, PathFinder
from importlib.metadata import version
import sys
from types import ModuleType

_LOGGER_MODULE = "homeassistant.components.logger"


def _needs_shims() -> bool:
    """Tell whether the installed Home Assistant is 2026.11 or newer.

    Reads the installed version without importing Home Assistant: importing it is
    itself one of the shims.
    """
    year, month = (int(part) for part in version("homeassistant").split(".")[:2])
    return (year, month) >= (2026, 11)


class _ReexportClearLoggerOverwrites(importlib.abc.MetaPathFinder):
    """Make `homeassistant.components.logger` export `_clear_logger_overwrites` again.

    The harness's common.py imports it from there; 2026.11 keeps it in
    `homeassistant.components.logger.helpers` only. Added when the module is first
    imported rather than now: importing Home Assistant's core this early would come
    before the harness patches its JSON and time helpers, and those patches would miss.
    """

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        """Find the logger integration as usual, and re-export after it ran."""
        if fullname != _LOGGER_MODULE:
            return None
        sys.meta_path.remove(self)  # once is enough
        spec = PathFinder.find_spec(fullname, path, target)
        loader = spec.loader if spec is not None else None
        if not isinstance(loader, importlib.abc.Loader):
            return spec
        exec_module = loader.exec_module

        def exec_and_reexport(module: ModuleType) -> None:
            exec_module(module)
            from homeassistant.components.logger.helpers import (  # noqa: PLC0415
                _clear_logger_overwrites,
            )

            module._clear_logger_overwrites = _clear_logger_overwrites  # type: ignore[attr-defined]

        loader.exec_module = exec_and_reexport  # type: ignore[method-assign]
        return spec


if _needs_shims():
    # Shim 1: Home Assistant 2026.11 aliases httpx to httpx2 when the `homeassistant`
    # package is imported, and refuses to once httpx was imported ("httpx was already
    # imported"). The harness's plugin imports respx, and so httpx, before any of Home
    # Assistant: import the bare package first (what the harness's first Home Assistant
    # import would run anyway).
    import homeassistant  # noqa: F401

    # Shim 2: see the class.
    sys.meta_path.insert(0, _ReexportClearLoggerOverwrites())
