"""The one classification of Thor's failures.

Polling, the config flow and the start/stop commands all ask `classify` what a client
error means: its kind, the translation key of its message (under `exceptions`), the
repair issue it raises and, for a rate limit, how long to wait. Each caller only chooses
how to present it (an update failure, a form error, a command message).
"""

from dataclasses import dataclass
from enum import StrEnum
import math
from typing import Final

from .thor_api import (
    DEFAULT_RATE_LIMIT_BACKOFF,
    ThorAccessDeniedError,
    ThorAlreadyInTransactionError,
    ThorAuthenticationError,
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
    ThorWrongTransactionError,
)


class FailureKind(StrEnum):
    """What a failure means for the user."""

    AUTH = "auth"
    """Thor refused the API key: only a new key helps (reauthentication)."""
    DASHBOARD = "dashboard"
    """Only a change in the Thor dashboard helps: a repair issue says which."""
    RATE_LIMIT = "rate_limit"
    """Thor asked for silence: nothing is sent until `retry_after` has passed."""
    TRANSIENT = "transient"
    """Network trouble or a failure on Thor's side: trying again later may work."""
    MALFORMED = "malformed"
    """Thor's answer could not be used."""
    REFUSAL = "refusal"
    """Thor refused this request (its state or its input), with a reason."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ThorFailure:
    """What a Thor client error means, for every caller alike."""

    kind: FailureKind
    key: str
    """Translation key of the message, under `exceptions`."""
    issue: str | None
    """Translation key of the repair issue the failure raises, None for none."""
    retry_after: float | None
    """Seconds to wait before sending anything again (rate limits only)."""
    error: str
    """Short detail from the client; it never contains the API key."""

    @property
    def placeholders(self) -> dict[str, str]:
        """Return the placeholders every failure message may use besides the target."""
        placeholders = {"error": self.error}
        if self.retry_after is not None:
            placeholders["retry_after"] = str(math.ceil(self.retry_after))
        return placeholders


# Most specific first: the first matching class decides.
_CLASSIFICATION: Final[tuple[tuple[type[ThorError], FailureKind, str], ...]] = (
    (ThorAuthenticationError, FailureKind.AUTH, "authentication_failed"),
    (ThorRestApiDisabledError, FailureKind.DASHBOARD, "rest_api_disabled"),
    (ThorSourceIPError, FailureKind.DASHBOARD, "source_ip_refused"),
    (ThorChargeboxNotActiveError, FailureKind.DASHBOARD, "chargebox_not_active"),
    (ThorChargeboxNotFoundError, FailureKind.DASHBOARD, "chargebox_not_found"),
    (ThorAccessDeniedError, FailureKind.REFUSAL, "access_denied"),
    (ThorRateLimitError, FailureKind.RATE_LIMIT, "rate_limited"),
    (ThorConnectionError, FailureKind.TRANSIENT, "communication_error"),
    (ThorServerError, FailureKind.TRANSIENT, "server_error"),
    (ThorResponseError, FailureKind.MALFORMED, "invalid_response"),
    (ThorPaymentRequiredError, FailureKind.REFUSAL, "payment_required"),
    (ThorInvalidConnectorError, FailureKind.REFUSAL, "invalid_connector"),
    (ThorAlreadyInTransactionError, FailureKind.REFUSAL, "already_charging"),
    (ThorNotInTransactionError, FailureKind.REFUSAL, "not_charging"),
    (ThorWrongTransactionError, FailureKind.REFUSAL, "wrong_transaction"),
    (ThorError, FailureKind.REFUSAL, "request_failed"),
)

MIN_RETRY_WAIT: Final = 1.0
"""Seconds waited at least before trying again after a rate limit.

The client refuses requests locally while its back-off runs and says how much of it
is left; retrying on the last split second would spin.
"""

FAILURE_KEYS: Final = frozenset(key for _, _, key in _CLASSIFICATION)
"""Every message key `classify` can return (the translations test checks them)."""
ISSUE_KEYS: Final = tuple(
    key for _, kind, key in _CLASSIFICATION if kind is FailureKind.DASHBOARD
)
"""Every repair issue a failure can raise."""
CHARGEBOX_ISSUE_KEYS: Final = ("chargebox_not_active", "chargebox_not_found")
"""Repair issues about one chargebox; the others are about the whole account."""
ACCOUNT_ISSUE_KEYS: Final = tuple(
    key for key in ISSUE_KEYS if key not in CHARGEBOX_ISSUE_KEYS
)


def classify(err: ThorError) -> ThorFailure:
    """Return what a Thor client error means."""
    kind, key = next(
        (kind, key) for cls, kind, key in _CLASSIFICATION if isinstance(err, cls)
    )
    retry_after: float | None = None
    if isinstance(err, ThorRateLimitError):
        # The client bounds the wait; it is None only from an older or mocked client.
        retry_after = max(
            MIN_RETRY_WAIT,
            DEFAULT_RATE_LIMIT_BACKOFF if err.retry_after is None else err.retry_after,
        )
    return ThorFailure(
        kind=kind,
        key=key,
        issue=key if kind is FailureKind.DASHBOARD else None,
        retry_after=retry_after,
        error=str(err),
    )
