"""Asynchronous client for Thor's integration REST API."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
import json
import logging
import math
from typing import Any, Final, Self, TypeIs
from urllib.parse import quote

import aiohttp
from yarl import URL

from .backoff import ThorBackoff
from .const import (
    API_KEY_HEADER,
    DEFAULT_REQUEST_TIMEOUT,
    MAX_FINISHED_RANGE_DAYS,
    PRODUCTION_BASE_URL,
    ErrorCode,
)
from .exceptions import (
    ThorAccessDeniedError,
    ThorAlreadyInTransactionError,
    ThorAlreadyReservedError,
    ThorAuthenticationError,
    ThorBadRequestError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorConnectionError,
    ThorError,
    ThorInvalidConnectorError,
    ThorNotInTransactionError,
    ThorNotReservableError,
    ThorPaymentRequiredError,
    ThorRangeTooLargeError,
    ThorRateLimitError,
    ThorResponseError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorTimeoutError,
    ThorWrongTransactionError,
)
from .models import (
    Chargebox,
    FinishedCharge,
    Reservation,
    RunningCharge,
    parse_finished_charges,
    parse_reservations,
    parse_running_charges,
)
from .validation import check_api_key, normalize_base_url

LOGGER = logging.getLogger(__package__)

# The one status Thor documents for each message identifier (§1.5, §2), and what it
# means. An identifier that comes with another status is not trusted (§6 #1): a proxy's
# 5xx page quoting `APIKeyNotFound` must not ask the user for a new key.
_DOCUMENTED_ERRORS: Final[Mapping[str, tuple[int, type[ThorError]]]] = {
    ErrorCode.API_KEY_NOT_FOUND: (403, ThorAuthenticationError),
    ErrorCode.REST_API_NOT_ENABLED: (403, ThorRestApiDisabledError),
    ErrorCode.INVALID_SOURCE_IP_ADDR: (403, ThorSourceIPError),
    ErrorCode.CHARGEBOX_NOT_ACTIVE: (403, ThorChargeboxNotActiveError),
    ErrorCode.CHARGEBOX_NOT_FOUND: (404, ThorChargeboxNotFoundError),
    ErrorCode.CHARGEBOX_NOT_FREE: (402, ThorPaymentRequiredError),
    ErrorCode.CONNECTOR_NOT_VALID: (400, ThorInvalidConnectorError),
    ErrorCode.ALREADY_IN_TRANSACTION: (400, ThorAlreadyInTransactionError),
    ErrorCode.NOT_IN_TRANSACTION: (400, ThorNotInTransactionError),
    ErrorCode.WRONG_TRANSACTION: (400, ThorWrongTransactionError),
    ErrorCode.BOUNDS_TOO_BIG: (400, ThorBadRequestError),
    ErrorCode.TOO_MANY_REQUESTS: (429, ThorRateLimitError),
    ErrorCode.INTERNAL_SERVER_ERROR: (500, ThorServerError),
    # Assumed, not documented: the reservenow and finished-charges error tables are
    # truncated.
    ErrorCode.CHARGEBOX_NOT_RESERVABLE: (400, ThorNotReservableError),
    ErrorCode.ALREADY_RESERVED: (400, ThorAlreadyReservedError),
    ErrorCode.RANGE_TOO_LARGE: (400, ThorRangeTooLargeError),
}
_CODES_BY_LOWER: Final = {str(code).lower(): str(code) for code in _DOCUMENTED_ERRORS}
# Fields of a JSON error object that may hold the identifier (§6 #1).
_CODE_FIELDS: Final = ("message", "error", "code", "Message", "errorMessage")
_ERRORS_BY_STATUS: dict[int, type[ThorError]] = {
    400: ThorBadRequestError,
    401: ThorAuthenticationError,
    402: ThorPaymentRequiredError,
    403: ThorAccessDeniedError,
    404: ThorChargeboxNotFoundError,
    429: ThorRateLimitError,
}
_MAX_DETAIL = 200
_REDACTED: Final = "**REDACTED**"


def _quote_segment(value: str) -> str:
    """Escape a path segment so that no id can change the path (`..`, `/`, `?`)."""
    return quote(value, safe="").replace(".", "%2E")


def _is_integer(value: object) -> TypeIs[int]:
    """Return whether `value` is an int (a bool is not a connector or transaction)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _error_strings(body: str) -> list[str]:
    """Return the decoded strings of an error body that may be shown or hold a code."""
    try:
        data = json.loads(body)
    except ValueError, RecursionError:
        # Not JSON (or absurdly nested): plain text may be shown, an HTML page not.
        text = body.strip()
        return [text] if text and not text.startswith("<") else []
    if isinstance(data, str):
        return [data]
    if not isinstance(data, Mapping):
        return []
    strings: list[str] = []
    for key in _CODE_FIELDS:
        value = data.get(key)
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, Mapping):
            strings.extend(v for v in value.values() if isinstance(v, str))
    return strings


def _documented_code(strings: list[str], status: int) -> str | None:
    """Return the identifier one of `strings` is, if Thor documents it with `status`."""
    for string in strings:
        code = _CODES_BY_LOWER.get(string.strip().lower())
        if code is not None and _DOCUMENTED_ERRORS[code][0] == status:
            return code
    return None


def _http_date(value: str | None) -> datetime | None:
    """Return an aware datetime from an HTTP date (no zone means UTC), else None."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except TypeError, ValueError, IndexError, OverflowError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _retry_after(value: str | None, date: str | None = None) -> float | None:
    """Return the delay of a `Retry-After` header in seconds, None when unusable.

    An HTTP date is read against the answer's own `Date` when there is one, so a local
    clock ahead of Thor's cannot turn a future date into no wait. Bounding the delay is
    `ThorBackoff`'s job.
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    when = _http_date(value)
    if when is None:
        return None
    now = _http_date(date) or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(kw_only=True)
class ThorClient:
    """Client for one Thor API key.

    The aiohttp session is injected and never closed here. The API key is sent in the
    `X-Api-Key` header only; it appears in no message, repr or log line. Redirects are
    not followed (they would carry the key to another host) and nothing is retried.
    After a 429 nothing is sent until `backoff` allows it; share one `ThorBackoff`
    between the clients of an account.
    """

    session: aiohttp.ClientSession
    api_key: str = field(repr=False)
    base_url: str = PRODUCTION_BASE_URL
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    backoff: ThorBackoff = field(default_factory=ThorBackoff, repr=False)

    def __post_init__(self) -> None:
        """Keep the key stripped and the base URL normalized; refuse unusable ones."""
        self.api_key = check_api_key(self.api_key)
        self.base_url = normalize_base_url(self.base_url)

    async def __aenter__(self) -> Self:
        """Use the client as an async context manager."""
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        """Leave the context; the injected session stays open."""

    def _redact(self, text: str, secrets: tuple[str, ...]) -> str:
        """Replace the API key and `secrets` in decoded server text."""
        # Longest first: a secret inside another must not leave a piece of it behind.
        for secret in sorted({self.api_key, *secrets} - {""}, key=len, reverse=True):
            text = text.replace(secret, _REDACTED)
        return text

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        expect_json: bool = True,
        allow_empty: bool = False,
        secrets: tuple[str, ...] = (),
    ) -> Any:
        """Send one request and return its decoded JSON body (None when not expected).

        With `allow_empty` an empty (or blank) body is returned as None instead of
        being refused as not JSON. `secrets` are redacted, like the key, from anything
        an error answer echoes.
        """
        # Thor asked for silence: nothing is sent until the back-off is over.
        if (wait := self.backoff.remaining()) > 0:
            LOGGER.debug("%s %s not sent: %.0f s of back-off left", method, path, wait)
            raise ThorRateLimitError(
                f"Thor asked to wait; {math.ceil(wait)} s left", retry_after=wait
            )
        url = URL(self.base_url + path, encoded=True)
        if params:
            url = url.with_query(params)
        headers = {API_KEY_HEADER: self.api_key, "Accept": "application/json"}
        try:
            async with asyncio.timeout(self.request_timeout):
                # Redirects are not followed: aiohttp would forward the key header to
                # whatever host the Location names.
                async with self.session.request(
                    method, url, headers=headers, json=body, allow_redirects=False
                ) as response:
                    text = await response.text(errors="replace")
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
                    date = response.headers.get("Date")
        except TimeoutError as err:
            LOGGER.debug("%s %s timed out", method, path)
            raise ThorTimeoutError(
                f"Timeout after {self.request_timeout:g} s talking to Thor"
            ) from err
        except aiohttp.ClientError as err:
            LOGGER.debug("%s %s failed: %s", method, path, type(err).__name__)
            raise ThorConnectionError(
                f"Error talking to Thor: {type(err).__name__}"
            ) from err

        LOGGER.debug("%s %s -> %s", method, path, status)
        if status >= 400:
            requested = _retry_after(retry_after, date)
            raise self._error(status, text, requested, secrets)
        if status >= 300:
            raise ThorResponseError(
                f"Thor answered {method} {path} with a redirect (HTTP {status})",
                status=status,
            )
        if not expect_json or (allow_empty and not text.strip()):
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as err:
            raise ThorResponseError(
                f"Thor answered {method} {path} with a body that is not JSON",
                status=status,
            ) from err

    def _error(
        self,
        status: int,
        body: str,
        requested_retry_after: float | None,
        secrets: tuple[str, ...],
    ) -> ThorError:
        """Build the exception for an error answer; a 429 starts the back-off."""
        # Decoded first, so that a key hidden behind JSON escapes is redacted too.
        strings = _error_strings(body)
        code = _documented_code(strings, status)
        detail = self._redact(strings[0], secrets)[:_MAX_DETAIL] if strings else ""
        if code is not None:
            cls = _DOCUMENTED_ERRORS[code][1]
        else:
            cls = _ERRORS_BY_STATUS.get(status) or (
                ThorServerError if status >= 500 else ThorError
            )
        message = f"Thor answered HTTP {status}"
        if code:
            message += f" {code}"
        elif detail:
            message += f": {detail}"
        if cls is ThorRateLimitError:
            wait = self.backoff.hold(requested_retry_after)
            LOGGER.debug(
                "Backing off %.0f s (Retry-After: %s)", wait, requested_retry_after
            )
            return ThorRateLimitError(
                message,
                status=status,
                code=code,
                retry_after=wait,
                requested_retry_after=requested_retry_after,
            )
        return cls(message, status=status, code=code)

    @staticmethod
    def _check_chargebox_id(chargebox_id: str) -> str:
        """Refuse an empty chargebox id before any request."""
        if not isinstance(chargebox_id, str) or not chargebox_id.strip():
            raise ValueError("The chargebox id must not be empty")
        return chargebox_id

    @staticmethod
    def _check_connector(connector: int) -> int:
        """Refuse connector numbers below 1 before any request."""
        if not _is_integer(connector) or connector < 1:
            raise ValueError("The connector number must be an integer >= 1")
        return connector

    async def get_chargebox(self, chargebox_id: str) -> Chargebox:
        """Return one chargebox with its occupied and reserved connectors."""
        self._check_chargebox_id(chargebox_id)
        data = await self._request(
            "GET", f"/chargeboxes/{_quote_segment(chargebox_id)}"
        )
        chargebox = Chargebox.from_dict(data)
        if chargebox.id != chargebox_id:
            raise ThorResponseError(
                "Thor answered with another chargebox than the one asked for",
                status=200,
            )
        return chargebox

    async def list_chargeboxes(self, *, only_active: bool = True) -> list[Chargebox]:
        """Return the account's chargeboxes (404 is taken as none)."""
        try:
            data = await self._request(
                "GET",
                "/chargeboxes",
                params={"onlyactive": "true" if only_active else "false"},
            )
        except ThorChargeboxNotFoundError:
            return []
        if not isinstance(data, list):
            raise ThorResponseError("The chargebox list is not a JSON array")
        return [Chargebox.from_dict(item) for item in data]

    async def running_charges(
        self, chargebox_id: str | None = None
    ) -> list[RunningCharge]:
        """Return the running charges, optionally of one chargebox only."""
        params = None
        if chargebox_id is not None:
            params = {"chargebox": self._check_chargebox_id(chargebox_id)}
        data = await self._request("GET", "/charges/running", params=params)
        return parse_running_charges(data)

    async def finished_charges(
        self, date_from: date, date_to: date, chargebox_id: str | None = None
    ) -> list[FinishedCharge]:
        """Return the charges that ended between two dates (inclusive, `YYYYMMDD`).

        Which time zone Thor reads the dates in is not documented (§6 #18): ask for a
        day more on each side and de-duplicate by transaction.
        """
        if date_to < date_from:
            raise ValueError("The end date must not be before the start date")
        params = {
            "from": date_from.strftime("%Y%m%d"),
            "to": date_to.strftime("%Y%m%d"),
        }
        if chargebox_id is not None:
            params["chargebox"] = self._check_chargebox_id(chargebox_id)
        data = await self._request("GET", "/charges/finished", params=params)
        return parse_finished_charges(data)

    async def finished_charges_between(
        self, first: date, last: date, chargebox_id: str | None = None
    ) -> list[FinishedCharge]:
        """Return the charges that ended from `first` to `last` (inclusive days).

        A range longer than `MAX_FINISHED_RANGE_DAYS` is read in several requests, one
        after the other, oldest first; a record listed by two of them is returned once
        (by transaction, else by chargebox, connector and start).
        """
        if last < first:
            raise ValueError("The end date must not be before the start date")
        seen: set[tuple[object, ...]] = set()
        charges: list[FinishedCharge] = []
        day = first
        while True:
            end = last
            if (last - day).days >= MAX_FINISHED_RANGE_DAYS:
                end = day + timedelta(days=MAX_FINISHED_RANGE_DAYS - 1)
            for charge in await self.finished_charges(day, end, chargebox_id):
                key: tuple[object, ...] = (
                    ("t", charge.id)
                    if charge.id is not None
                    else ("c", charge.chargebox, charge.connector, charge.date_started)
                )
                if charge.id is None and charge.date_started is None:
                    key = ("o", id(charge))  # Nothing tells it apart: keep it.
                if key not in seen:
                    seen.add(key)
                    charges.append(charge)
            if end >= last:
                return charges
            day = end + timedelta(days=1)

    async def start_charge(self, chargebox_id: str, connector: int) -> str:
        """Ask Thor to start a charge and return its `id_tag` (never retried).

        A success only means the command was forwarded to the chargebox; keep the
        id_tag, it is needed to stop the charge.
        """
        body = {
            "chargebox": self._check_chargebox_id(chargebox_id),
            "connector": self._check_connector(connector),
        }
        data = await self._request("POST", "/charges/start", body=body)
        id_tag = data.get("id_tag") if isinstance(data, Mapping) else None
        if not isinstance(id_tag, str) or not id_tag:
            raise ThorResponseError("Thor's start answer has no id_tag", status=200)
        return id_tag

    async def stop_charge(
        self,
        chargebox_id: str,
        connector: int,
        id_tag: str,
        transaction: int | None = None,
    ) -> None:
        """Ask Thor to stop the charge started with `id_tag` on the connector."""
        if not isinstance(id_tag, str) or not id_tag:
            raise ValueError("The id_tag must not be empty")
        body: dict[str, Any] = {
            "chargebox": self._check_chargebox_id(chargebox_id),
            "connector": self._check_connector(connector),
            "id_tag": id_tag,
        }
        if transaction is not None:
            if not _is_integer(transaction):
                raise ValueError("The transaction must be an integer")
            body["transaction"] = transaction
        # Thor may echo the id_tag in an error; it must not end up in a message or log.
        await self._request(
            "POST", "/charges/stop", body=body, expect_json=False, secrets=(id_tag,)
        )

    async def reservations(self, chargebox_id: str | None = None) -> list[Reservation]:
        """Return the reservations, optionally of one chargebox only."""
        params = None
        if chargebox_id is not None:
            params = {"chargebox": self._check_chargebox_id(chargebox_id)}
        data = await self._request("GET", "/reservations", params=params)
        return parse_reservations(data)

    async def reserve_now(
        self, chargebox_id: str, connector: int, expiry: datetime
    ) -> Reservation | None:
        """Reserve a connector until `expiry` (an aware datetime); never retried.

        Thor documents no answer: the reservation is returned when the body is a JSON
        object that looks like one (possibly wrapped like the list), None when the body
        is empty or says nothing usable. Thor has no endpoint to cancel it: it ends at
        its expiry.
        """
        if not isinstance(expiry, datetime) or expiry.tzinfo is None:
            raise ValueError("The expiry must be an aware datetime")
        body = {
            "chargebox": self._check_chargebox_id(chargebox_id),
            "connector": self._check_connector(connector),
            "expiry_date": math.floor(expiry.timestamp() * 1000),
        }
        data = await self._request(
            "POST", "/charges/reservenow", body=body, allow_empty=True
        )
        if isinstance(data, Mapping) and isinstance(data.get("items"), list):
            return next(
                (
                    item
                    for item in parse_reservations(data)
                    if item.chargebox == chargebox_id and item.connector == connector
                ),
                None,
            )
        return Reservation.from_dict(data)
