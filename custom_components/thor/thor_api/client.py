"""Asynchronous client for Thor's integration REST API."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import json
import logging
import math
from typing import Any, Self, TypeIs
from urllib.parse import quote

import aiohttp
from yarl import URL

from .const import (
    API_KEY_HEADER,
    DEFAULT_REQUEST_TIMEOUT,
    PRODUCTION_BASE_URL,
    ErrorCode,
)
from .exceptions import (
    ThorAccessDeniedError,
    ThorAlreadyInTransactionError,
    ThorAuthenticationError,
    ThorBadRequestError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorConnectionError,
    ThorError,
    ThorInvalidConnectorError,
    ThorNotInTransactionError,
    ThorPaymentRequiredError,
    ThorRateLimitError,
    ThorResponseError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorTimeoutError,
    ThorWrongTransactionError,
)
from .models import Chargebox, RunningCharge, parse_running_charges

LOGGER = logging.getLogger(__package__)

_ERRORS_BY_CODE: dict[str, type[ThorError]] = {
    ErrorCode.API_KEY_NOT_FOUND: ThorAuthenticationError,
    ErrorCode.REST_API_NOT_ENABLED: ThorRestApiDisabledError,
    ErrorCode.INVALID_SOURCE_IP_ADDR: ThorSourceIPError,
    ErrorCode.CHARGEBOX_NOT_ACTIVE: ThorChargeboxNotActiveError,
    ErrorCode.CHARGEBOX_NOT_FOUND: ThorChargeboxNotFoundError,
    ErrorCode.CHARGEBOX_NOT_FREE: ThorPaymentRequiredError,
    ErrorCode.CONNECTOR_NOT_VALID: ThorInvalidConnectorError,
    ErrorCode.ALREADY_IN_TRANSACTION: ThorAlreadyInTransactionError,
    ErrorCode.NOT_IN_TRANSACTION: ThorNotInTransactionError,
    ErrorCode.WRONG_TRANSACTION: ThorWrongTransactionError,
    ErrorCode.TOO_MANY_REQUESTS: ThorRateLimitError,
    ErrorCode.INTERNAL_SERVER_ERROR: ThorServerError,
    ErrorCode.BOUNDS_TOO_BIG: ThorBadRequestError,
}
_ERRORS_BY_STATUS: dict[int, type[ThorError]] = {
    400: ThorBadRequestError,
    401: ThorAuthenticationError,
    402: ThorPaymentRequiredError,
    403: ThorAccessDeniedError,
    404: ThorChargeboxNotFoundError,
    429: ThorRateLimitError,
}
_MAX_DETAIL = 200


def _quote_segment(value: str) -> str:
    """Escape a path segment so that no id can change the path (`..`, `/`, `?`)."""
    return quote(value, safe="").replace(".", "%2E")


def _is_integer(value: object) -> TypeIs[int]:
    """Return whether `value` is an int (a bool is not a connector or transaction)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _error_code(body: str) -> tuple[str | None, str]:
    """Return Thor's message identifier (if any) and a short detail from an error body."""
    detail = ""
    candidates: list[str] = []
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        for key in ("message", "error", "code", "Message", "errorMessage"):
            value = data.get(key)
            if isinstance(value, str):
                candidates.append(value)
            elif isinstance(value, Mapping):
                candidates.extend(str(v) for v in value.values() if isinstance(v, str))
    elif isinstance(data, str):
        candidates.append(data)
    elif data is None and not body.lstrip().startswith("<"):
        candidates.append(body.strip())
    for candidate in candidates:
        for code in ErrorCode:
            if code.value.lower() in candidate.lower():
                return code.value, candidate[:_MAX_DETAIL]
    if candidates:
        detail = candidates[0][:_MAX_DETAIL]
    return None, detail


def _retry_after(value: str | None) -> float | None:
    """Return the delay of a `Retry-After` header (seconds or HTTP date), in seconds."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except TypeError, ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(kw_only=True)
class ThorClient:
    """Client for one Thor API key.

    The aiohttp session is injected and never closed here. The API key is sent in the
    `X-Api-Key` header only; it appears in no message, repr or log line. Redirects are
    not followed (they would carry the key to another host) and nothing is retried.
    """

    session: aiohttp.ClientSession
    api_key: str = field(repr=False)
    base_url: str = PRODUCTION_BASE_URL
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    async def __aenter__(self) -> Self:
        """Use the client as an async context manager."""
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        """Leave the context; the injected session stays open."""

    def _redact(self, text: str) -> str:
        """Remove the API key from text that came from the server."""
        return text.replace(self.api_key, "**REDACTED**") if self.api_key else text

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        expect_json: bool = True,
    ) -> Any:
        """Send one request and return its decoded JSON body (None when not expected)."""
        url = URL(self.base_url.rstrip("/") + path, encoded=True)
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
            raise self._error(status, text, retry_after)
        if status >= 300:
            raise ThorResponseError(
                f"Thor answered {method} {path} with a redirect (HTTP {status})",
                status=status,
            )
        if not expect_json:
            return None
        try:
            return json.loads(text)
        except ValueError as err:
            raise ThorResponseError(
                f"Thor answered {method} {path} with a body that is not JSON",
                status=status,
            ) from err

    def _error(self, status: int, body: str, retry_after: str | None) -> ThorError:
        """Build the exception for an error answer."""
        code, detail = _error_code(self._redact(body))
        cls = _ERRORS_BY_CODE.get(code) if code else None
        if cls is None:
            cls = _ERRORS_BY_STATUS.get(status)
        if cls is None:
            cls = ThorServerError if status >= 500 else ThorError
        message = f"Thor answered HTTP {status}"
        if code:
            message += f" {code}"
        elif detail:
            message += f": {detail}"
        if cls is ThorRateLimitError:
            return ThorRateLimitError(
                message, status=status, code=code, retry_after=_retry_after(retry_after)
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
        return Chargebox.from_dict(data)

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
        await self._request("POST", "/charges/stop", body=body, expect_json=False)
