"""Voluptuous, as Home Assistant provides it: `from .vol import vol`.

Home Assistant 2026.10 aliases `voluptuous` to probatio at start-up; the code imports
voluptuous (what 2026.9 has too) and is type-checked against probatio. One place for
that choice.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import probatio as vol
else:
    import voluptuous as vol

__all__ = ["vol"]
