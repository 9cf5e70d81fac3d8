"""The one table of Thor's failures, and how a failure is shown.

`FAILURES` says, for each client error class, everything a caller needs: its kind, the
translation key of its message (under `exceptions`), whether it is a validation error
(the user's input or the connector's state), whether Thor contradicted Home
Assistant's reading (read again), and which repair issue it raises. `classify` finds the
row of an error, `failure_of` the row of a refusal foreseen before sending;
`ThorFailure.exception` turns a failure into the translated Home Assistant exception
an action raises. Callers ask these; none re-derives a kind from a translation key.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import math
from typing import TYPE_CHECKING, Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .thor_api import (
    DEFAULT_RATE_LIMIT_BACKOFF,
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
    ThorRateLimitError,
    ThorResponseError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorWrongTransactionError,
)

if TYPE_CHECKING:
    from .runtime import ThorConfigEntry


class FailureKind(StrEnum):
    """What a failure means for the user."""

    AUTH = "auth"
    """Thor refused the API key: only a new key helps (reauthentication)."""
    DASHBOARD = "dashboard"
    """Only a change in the Thor dashboard helps: a repair issue says which."""
    DENIED = "denied"
    """Thor refused the key access without saying why (a bare 403): its rights decide."""
    RATE_LIMIT = "rate_limit"
    """Thor asked for silence: nothing is sent until `retry_after` has passed."""
    TRANSIENT = "transient"
    """Network trouble or a failure on Thor's side: trying again later may work."""
    MALFORMED = "malformed"
    """Thor's answer could not be used."""
    REFUSAL = "refusal"
    """Thor refused this request (its state or its input), with a reason."""


class IssueScope(StrEnum):
    """What a repair issue is about."""

    ACCOUNT = "account"
    """The whole account (its key, its dashboard settings)."""
    CHARGEBOX = "chargebox"
    """One chargebox of the account."""


class FailureContext(StrEnum):
    """A kind of request whose failures some rows read differently."""

    RESERVATION = "reservation"
    HISTORY = "history"


@dataclass(frozen=True, kw_only=True, slots=True)
class FailureRow:
    """One row of the table: a client error class and what it means."""

    error_type: type[ThorError]
    kind: FailureKind
    key: str
    """Translation key of the message, under `exceptions` (and of the repair issue)."""
    validation: bool = False
    """The user's input or the connector's state: a `ServiceValidationError`."""
    stale: bool = False
    """Thor contradicted Home Assistant's last reading: read again."""
    scope: IssueScope | None = None
    """What the repair issue `key` is about; None when the failure raises none."""
    context: FailureContext | None = None
    """The kind of request this row alone speaks for; None for every request."""


FAILURES: Final[tuple[FailureRow, ...]] = (
    # The rows of a context are read before the common ones, whatever their place.
    FailureRow(
        error_type=ThorAlreadyInTransactionError,
        kind=FailureKind.REFUSAL,
        key="connector_occupied",
        validation=True,
        stale=True,
        context=FailureContext.RESERVATION,
    ),
    # A history read has one input, its range: every 400 is about it.
    FailureRow(
        error_type=ThorBadRequestError,
        kind=FailureKind.REFUSAL,
        key="history_range_refused",
        validation=True,
        context=FailureContext.HISTORY,
    ),
    # Most specific class first: the first matching row decides.
    FailureRow(
        error_type=ThorAuthenticationError,
        kind=FailureKind.AUTH,
        key="authentication_failed",
    ),
    FailureRow(
        error_type=ThorRestApiDisabledError,
        kind=FailureKind.DASHBOARD,
        key="rest_api_disabled",
        scope=IssueScope.ACCOUNT,
    ),
    FailureRow(
        error_type=ThorSourceIPError,
        kind=FailureKind.DASHBOARD,
        key="source_ip_refused",
        scope=IssueScope.ACCOUNT,
    ),
    FailureRow(
        error_type=ThorChargeboxNotActiveError,
        kind=FailureKind.DASHBOARD,
        key="chargebox_not_active",
        scope=IssueScope.CHARGEBOX,
    ),
    FailureRow(
        error_type=ThorChargeboxNotFoundError,
        kind=FailureKind.DASHBOARD,
        key="chargebox_not_found",
        scope=IssueScope.CHARGEBOX,
    ),
    FailureRow(
        error_type=ThorAccessDeniedError, kind=FailureKind.DENIED, key="access_denied"
    ),
    FailureRow(
        error_type=ThorRateLimitError, kind=FailureKind.RATE_LIMIT, key="rate_limited"
    ),
    FailureRow(
        error_type=ThorConnectionError,
        kind=FailureKind.TRANSIENT,
        key="communication_error",
    ),
    FailureRow(
        error_type=ThorServerError, kind=FailureKind.TRANSIENT, key="server_error"
    ),
    FailureRow(
        error_type=ThorResponseError, kind=FailureKind.MALFORMED, key="invalid_response"
    ),
    FailureRow(
        error_type=ThorPaymentRequiredError,
        kind=FailureKind.REFUSAL,
        key="payment_required",
    ),
    FailureRow(
        error_type=ThorInvalidConnectorError,
        kind=FailureKind.REFUSAL,
        key="invalid_connector",
        validation=True,
    ),
    FailureRow(
        error_type=ThorAlreadyInTransactionError,
        kind=FailureKind.REFUSAL,
        key="already_charging",
        validation=True,
        stale=True,
    ),
    FailureRow(
        error_type=ThorNotInTransactionError,
        kind=FailureKind.REFUSAL,
        key="not_charging",
        validation=True,
        stale=True,
    ),
    FailureRow(
        error_type=ThorWrongTransactionError,
        kind=FailureKind.REFUSAL,
        key="wrong_transaction",
    ),
    FailureRow(
        error_type=ThorNotReservableError,
        kind=FailureKind.REFUSAL,
        key="chargebox_not_reservable",
        validation=True,
        stale=True,
    ),
    FailureRow(
        error_type=ThorAlreadyReservedError,
        kind=FailureKind.REFUSAL,
        key="connector_already_reserved",
        validation=True,
        stale=True,
    ),
    FailureRow(error_type=ThorError, kind=FailureKind.REFUSAL, key="request_failed"),
)
"""Every failure a Thor request can end in."""

MIN_RETRY_WAIT: Final = 1.0
"""Seconds waited at least before trying again after a rate limit.

The client refuses requests locally while its back-off runs and says how much of it
is left; retrying on the last split second would spin.
"""

FAILURE_KEYS: Final = frozenset(row.key for row in FAILURES)
"""Every message key `classify` can return (the translations test checks them)."""
CHARGEBOX_ISSUE_KEYS: Final = tuple(
    row.key for row in FAILURES if row.scope is IssueScope.CHARGEBOX
)
"""Repair issues about one chargebox."""
ACCOUNT_ISSUE_KEYS: Final = tuple(
    row.key for row in FAILURES if row.scope is IssueScope.ACCOUNT
)
"""Repair issues about the whole account."""
ISSUE_KEYS: Final = ACCOUNT_ISSUE_KEYS + CHARGEBOX_ISSUE_KEYS
"""Every repair issue a failure can raise."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ThorFailure:
    """What a Thor client error means: its row of `FAILURES`, and its details."""

    kind: FailureKind
    key: str
    """Translation key of the message, under `exceptions`."""
    validation: bool
    """The user's input or the connector's state: a `ServiceValidationError`."""
    stale: bool
    """Thor contradicted Home Assistant's last reading: read again."""
    scope: IssueScope | None
    """What the repair issue `key` is about; None when the failure raises none."""
    retry_after: float | None
    """Seconds to wait before sending anything again (rate limits only)."""
    error: str
    """Short detail from the client; it never contains the API key."""

    @property
    def issue(self) -> str | None:
        """Return the translation key of the repair issue raised, None for none."""
        return None if self.scope is None else self.key

    @property
    def placeholders(self) -> dict[str, str]:
        """Return the placeholders every failure message may use besides the target."""
        placeholders = {"error": self.error}
        if self.retry_after is not None:
            placeholders["retry_after"] = str(math.ceil(self.retry_after))
        return placeholders

    def exception(self, placeholders: Mapping[str, str]) -> HomeAssistantError:
        """Return the translated exception that tells the user about the failure.

        `placeholders` name the target (chargebox, connector, ...); the failure adds
        its own. Validation failures are `ServiceValidationError`s.
        """
        cls = ServiceValidationError if self.validation else HomeAssistantError
        return cls(
            translation_domain=DOMAIN,
            translation_key=self.key,
            translation_placeholders={**placeholders, **self.placeholders},
        )


def _failure(
    error_type: type[ThorError],
    context: FailureContext | None,
    *,
    retry_after: float | None = None,
    error: str = "",
) -> ThorFailure:
    """Return the failure of the row that decides for an error class."""
    row = next(
        row
        for wanted in (context, None)
        for row in FAILURES
        if row.context is wanted and issubclass(error_type, row.error_type)
    )
    return ThorFailure(
        kind=row.kind,
        key=row.key,
        validation=row.validation,
        stale=row.stale,
        scope=row.scope,
        retry_after=retry_after,
        error=error,
    )


def failure_of(
    error_type: type[ThorError], context: FailureContext | None = None
) -> ThorFailure:
    """Return what a request refused with `error_type` would mean, without sending it.

    For refusals the last reading foresees: they are shown as Thor's would be.
    """
    return _failure(error_type, context)


def classify(err: ThorError, context: FailureContext | None = None) -> ThorFailure:
    """Return what a Thor client error means, for a request of `context` if given."""
    retry_after: float | None = None
    if isinstance(err, ThorRateLimitError):
        # The client bounds the wait; it is None only from an older or mocked client.
        retry_after = max(
            MIN_RETRY_WAIT,
            DEFAULT_RATE_LIMIT_BACKOFF if err.retry_after is None else err.retry_after,
        )
    return _failure(type(err), context, retry_after=retry_after, error=str(err))


async def async_request_failed(
    entry: ThorConfigEntry,
    err: ThorError,
    placeholders: Mapping[str, str],
    context: FailureContext | None = None,
) -> HomeAssistantError:
    """Return the message for a request of an account that Thor did not carry out.

    `placeholders` name what the request was about; `context` is the kind of request,
    for the failures it reads differently. A refused API key asks the user to sign in
    again; a contradicted reading is read again.
    """
    failure = classify(err, context)
    coordinator = entry.runtime_data.coordinator
    if failure.kind is FailureKind.AUTH:
        entry.async_start_reauth(coordinator.hass)
    if failure.stale:
        # Thor knows better than the last reading: read again.
        await coordinator.async_request_refresh()
    return failure.exception(placeholders)
