"""Faults injected into the simulator's API answers (never into the admin API)."""

from dataclasses import dataclass, fields, replace
from typing import Any

ERROR_BODIES = ("json_message", "json_error", "json_code", "text", "empty")

_BOOLS = (
    "hang",
    "malformed_json",
    "html_error",
    "drop_connection",
    "retry_after",
    "omit_running",
    "omit_list_connectors",
)
_OPTIONAL_STRINGS = ("path", "code", "error_raw_body")
_INTEGERS = ("status", "count", "retry_after_seconds")
# aiohttp refuses header values that could split the header block.
_HEADER_BREAKERS = frozenset("\r\n\0")


@dataclass
class Faults:
    """Faults applied to API requests; change them live with `set()`/`clear()`.

    Applied in this order to each matching request: `latency`, then the first of
    `hang`, `drop_connection`, `html_error`, `status`, `malformed_json` that is set;
    `error_body`, `retry_after` and `retry_after_header` shape every error answer
    (real or injected), `error_raw_body` replaces the body of `status` answers and
    `omit_running` empties running-charges answers that pass the key check;
    `omit_list_connectors` strips the chargebox list's connector states.
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
    retry_after_header: str | None = None
    """Exact Retry-After value of every 429 answer, injected or the real start
    throttle's, e.g. "0", "-5", "1e9" or an HTTP date; overrides
    `retry_after_seconds` (`retry_after` false still drops the header)."""
    error_raw_body: str | None = None
    """Exact body of `status` answers, instead of the `error_body` shape: sent as
    application/json when it parses as JSON, else text/plain. `{api_key}` becomes
    the API key (the request's when valid, else the account's first) and `{id_tag}`
    the request body's id_tag when it has one, so a server can echo secrets."""
    omit_running: bool = False
    """`charges/running` answers list no charge (count 0) while the chargebox still
    shows its occupied connectors: an inconsistent poll. With `count`, restrict
    `path` to /charges/running to spoil that many polls only."""
    omit_list_connectors: bool = False
    """`GET /chargeboxes` (the list) leaves `occupied_connectors` and
    `reserved_connectors` out of every item, as Thor's truncated docs of the list
    allow; the single `GET /chargeboxes/{id}` keeps them. A client must then read
    the connector states one chargebox at a time."""

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
    elif name == "retry_after_header":
        ok = value is None or (
            isinstance(value, str) and not _HEADER_BREAKERS.intersection(value)
        )
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


def parse_fault(spec: str) -> tuple[str, Any]:
    """Parse `NAME=VALUE` (command line) into a validated fault and its value.

    Strings are taken verbatim, booleans are true/false, numbers are decimal.
    """
    name, sep, text = spec.partition("=")
    name = name.strip()
    if not sep:
        raise ValueError(f"expected NAME=VALUE, got {spec!r}")
    if name not in {f.name for f in fields(Faults)}:
        raise TypeError(f"Unknown fault {name!r}")
    value: Any = text
    try:
        if name in _BOOLS:
            value = {"true": True, "false": False}[text.strip().lower()]
        elif name in _INTEGERS:
            value = int(text)
        elif name == "latency":
            value = float(text)
    except KeyError, ValueError:
        raise ValueError(f"Invalid value for fault {name!r}: {text!r}") from None
    _validate(name, value)
    return name, value


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
