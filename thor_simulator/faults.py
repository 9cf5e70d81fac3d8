"""Faults injected into the simulator's API answers (never into the admin API)."""

from dataclasses import dataclass, fields, replace
from typing import Any

ERROR_BODIES = ("json_message", "json_error", "json_code", "text", "empty")

_BOOLS = ("hang", "malformed_json", "html_error", "drop_connection", "retry_after")
_OPTIONAL_STRINGS = ("path", "code")


@dataclass
class Faults:
    """Faults applied to API requests; change them live with `set()`/`clear()`.

    Applied in this order to each matching request: `latency`, then the first of
    `hang`, `drop_connection`, `html_error`, `status`, `malformed_json` that is set;
    `error_body` and `retry_after` shape every error answer (real or injected).
    """

    latency: float = 0.0
    """Seconds (real time) added before answering."""
    hang: bool = False
    """Never answer; the connection is dropped when the simulator stops."""
    status: int | None = None
    """Answer every request with this HTTP status and an error body."""
    malformed_json: bool = False
    """Answer 200 with a truncated JSON body."""
    html_error: bool = False
    """Answer 502 with a proxy's HTML error page."""
    drop_connection: bool = False
    """Close the TCP connection without answering."""
    error_body: str = "json_message"
    """Shape of error bodies: json_message, json_error, json_code, text or empty."""
    retry_after: bool = True
    """Send Retry-After on 429 answers."""
    count: int | None = None
    """Apply to the next N matching API requests only, then clear all faults."""
    path: str | None = None
    """Apply only to requests whose path contains this substring."""
    code: str | None = None
    """Message identifier of `status` answers (default: derived from the status)."""
    retry_after_seconds: int = 1
    """Retry-After value of injected 429 answers."""

    def set(self, **changes: Any) -> None:
        """Validate and apply changes; unknown names raise TypeError, bad values ValueError."""
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise TypeError(f"Unknown fault {name!r}")
            _validate(name, value)
        for name, value in changes.items():
            setattr(self, name, float(value) if name == "latency" else value)

    def clear(self) -> None:
        """Remove every fault."""
        for f in fields(self):
            setattr(self, f.name, f.default)

    @property
    def active(self) -> bool:
        """Whether anything differs from the defaults."""
        return self != Faults()

    def to_dict(self) -> dict[str, Any]:
        """Return the faults as JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def take(self, request_path: str) -> Faults:
        """Return the faults that apply to one API request, counting it down.

        A request the `path` filter excludes gets no faults at all.
        """
        if self.path is not None and self.path not in request_path:
            return Faults()
        applied = replace(self)
        if self.count is not None:
            self.count -= 1
            if self.count <= 0:
                self.clear()
        return applied


def _validate(name: str, value: Any) -> None:
    """Raise ValueError when `value` is not acceptable for the fault `name`."""
    if name in _BOOLS:
        ok = isinstance(value, bool)
    elif name in _OPTIONAL_STRINGS:
        ok = value is None or isinstance(value, str)
    elif name == "latency":
        ok = _number(value) and value >= 0
    elif name == "status":
        ok = value is None or (_integer(value) and 100 <= value <= 599)
    elif name == "error_body":
        ok = value in ERROR_BODIES
    elif name == "count":
        ok = value is None or (_integer(value) and value >= 1)
    else:  # retry_after_seconds
        ok = _integer(value) and value >= 0
    if not ok:
        raise ValueError(f"Invalid value for fault {name!r}: {value!r}")


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
