"""The table of Thor's failures: each row, what derives from it, its translations."""

import json
from pathlib import Path

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.thor.config_flow import _form_error
from custom_components.thor.const import DOMAIN
from custom_components.thor.errors import (
    ACCOUNT_ISSUE_KEYS,
    CHARGEBOX_ISSUE_KEYS,
    FAILURE_KEYS,
    FAILURES,
    ISSUE_KEYS,
    FailureContext,
    FailureKind,
    IssueScope,
    classify,
    failure_of,
)
from custom_components.thor.thor_api import (
    ThorAccessDeniedError,
    ThorAlreadyInTransactionError,
    ThorAlreadyReservedError,
    ThorAuthenticationError,
    ThorBadRequestError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
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

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "thor" / "translations"
LANGUAGES = {
    language: json.loads(
        (TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")
    )
    for language in ("en", "it")
}

RESERVATION = FailureContext.RESERVATION
HISTORY = FailureContext.HISTORY
ACCOUNT = IssueScope.ACCOUNT
CHARGEBOX = IssueScope.CHARGEBOX

# error, context, key, kind, validation, stale, scope
ROWS = [
    (ThorAuthenticationError, None, "authentication_failed", "auth", 0, 0, None),
    (ThorRestApiDisabledError, None, "rest_api_disabled", "dashboard", 0, 0, ACCOUNT),
    (ThorSourceIPError, None, "source_ip_refused", "dashboard", 0, 0, ACCOUNT),
    (ThorChargeboxNotActiveError, None, "chargebox_not_active", "dashboard", 0, 0, CHARGEBOX),
    (ThorChargeboxNotFoundError, None, "chargebox_not_found", "dashboard", 0, 0, CHARGEBOX),
    (ThorAccessDeniedError, None, "access_denied", "denied", 0, 0, None),
    (ThorRateLimitError, None, "rate_limited", "rate_limit", 0, 0, None),
    (ThorTimeoutError, None, "communication_error", "transient", 0, 0, None),
    (ThorServerError, None, "server_error", "transient", 0, 0, None),
    (ThorResponseError, None, "invalid_response", "malformed", 0, 0, None),
    (ThorPaymentRequiredError, None, "payment_required", "refusal", 0, 0, None),
    (ThorInvalidConnectorError, None, "invalid_connector", "refusal", 1, 0, None),
    (ThorAlreadyInTransactionError, None, "already_charging", "refusal", 1, 1, None),
    (ThorNotInTransactionError, None, "not_charging", "refusal", 1, 1, None),
    (ThorWrongTransactionError, None, "wrong_transaction", "refusal", 0, 0, None),
    (ThorNotReservableError, None, "chargebox_not_reservable", "refusal", 1, 1, None),
    (ThorAlreadyReservedError, None, "connector_already_reserved", "refusal", 1, 1, None),
    (ThorBadRequestError, None, "request_failed", "refusal", 0, 0, None),
    (ThorRangeTooLargeError, None, "request_failed", "refusal", 0, 0, None),
    (ThorError, None, "request_failed", "refusal", 0, 0, None),
    # A reservation: a charge running on the connector is why it is refused.
    (ThorAlreadyInTransactionError, RESERVATION, "connector_occupied", "refusal", 1, 1, None),
    (ThorNotReservableError, RESERVATION, "chargebox_not_reservable", "refusal", 1, 1, None),
    (ThorAlreadyReservedError, RESERVATION, "connector_already_reserved", "refusal", 1, 1, None),
    (ThorServerError, RESERVATION, "server_error", "transient", 0, 0, None),
    # A history read: any 400 is about the range, its only input.
    (ThorBadRequestError, HISTORY, "history_range_refused", "refusal", 1, 0, None),
    (ThorRangeTooLargeError, HISTORY, "history_range_refused", "refusal", 1, 0, None),
    (ThorInvalidConnectorError, HISTORY, "history_range_refused", "refusal", 1, 0, None),
    (ThorAuthenticationError, HISTORY, "authentication_failed", "auth", 0, 0, None),
    (ThorChargeboxNotFoundError, HISTORY, "chargebox_not_found", "dashboard", 0, 0, CHARGEBOX),
]  # fmt: skip


@pytest.mark.parametrize(
    ("error", "context", "key", "kind", "validation", "stale", "scope"), ROWS
)
def test_rows(
    *,
    error: type[ThorError],
    context: FailureContext | None,
    key: str,
    kind: str,
    validation: int,
    stale: int,
    scope: IssueScope | None,
) -> None:
    """Each client error means one thing, in every request or in its context."""
    failure = classify(error("detail", status=400), context)
    assert (failure.key, failure.kind) == (key, FailureKind(kind))
    assert (failure.validation, failure.stale) == (bool(validation), bool(stale))
    assert failure.scope is scope
    assert failure.issue == (None if scope is None else key)
    assert failure.placeholders["error"] == "detail"


def test_every_row_is_reachable() -> None:
    """No row hides behind an earlier, more general one."""
    for row in FAILURES:
        failure = classify(row.error_type("detail"), row.context)
        assert failure.key == row.key, row


@pytest.mark.parametrize(
    ("error", "context", "key"),
    [
        (ThorAlreadyInTransactionError, None, "already_charging"),
        (ThorAlreadyInTransactionError, RESERVATION, "connector_occupied"),
        (ThorInvalidConnectorError, RESERVATION, "invalid_connector"),
    ],
)
def test_refusal_foreseen_before_sending(
    error: type[ThorError], context: FailureContext | None, key: str
) -> None:
    """A refusal the last reading foresees reads as Thor's own would."""
    foreseen = failure_of(error, context)
    answered = classify(error("detail", status=400), context)
    assert (foreseen.key, foreseen.validation, foreseen.stale) == (
        key,
        answered.validation,
        answered.stale,
    )
    assert foreseen.placeholders == {"error": ""}


def test_rate_limit_wait() -> None:
    """A rate limit says how long to wait, at least a second, rounded up for people."""
    failure = classify(ThorRateLimitError("HTTP 429", status=429, retry_after=29.2))
    assert failure.retry_after == 29.2
    assert failure.placeholders == {"error": "HTTP 429", "retry_after": "30"}
    failure = classify(ThorRateLimitError("backing off", retry_after=0.01))
    assert failure.placeholders["retry_after"] == "1"
    assert classify(ThorServerError("HTTP 503")).retry_after is None


def test_issue_keys_follow_the_table() -> None:
    """Repair issues are the dashboard failures, each of the account or of a box."""
    assert ACCOUNT_ISSUE_KEYS == ("rest_api_disabled", "source_ip_refused")
    assert CHARGEBOX_ISSUE_KEYS == ("chargebox_not_active", "chargebox_not_found")
    assert set(ISSUE_KEYS) == {*ACCOUNT_ISSUE_KEYS, *CHARGEBOX_ISSUE_KEYS}
    assert {row.key for row in FAILURES if row.kind is FailureKind.DASHBOARD} == set(
        ISSUE_KEYS
    )
    assert {key for _, _, key, *_ in ROWS} == FAILURE_KEYS


@pytest.mark.parametrize(
    ("error", "context", "cls"),
    [
        (ThorAlreadyInTransactionError, None, ServiceValidationError),
        (ThorAlreadyInTransactionError, RESERVATION, ServiceValidationError),
        (ThorBadRequestError, HISTORY, ServiceValidationError),
        (ThorBadRequestError, None, HomeAssistantError),
        (ThorPaymentRequiredError, None, HomeAssistantError),
        (ThorRateLimitError, None, HomeAssistantError),
    ],
)
def test_presented_as_the_row_says(
    error: type[ThorError],
    context: FailureContext | None,
    cls: type[HomeAssistantError],
) -> None:
    """Validation rows are ServiceValidationErrors, the others not; both translated."""
    failure = classify(error("detail", status=400), context)
    exception = failure.exception({"chargebox": "Garage", "connector": "2"})
    assert type(exception) is cls
    assert exception.translation_domain == DOMAIN
    assert exception.translation_key == failure.key
    assert exception.translation_placeholders == {
        "chargebox": "Garage",
        "connector": "2",
        **failure.placeholders,
    }


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_key_is_translated(language: str) -> None:
    """Each row has a message, each repair issue a title and text, in each language.

    The config flow shows each failure as one of its form errors, translated too.
    """
    strings = LANGUAGES[language]
    for row in FAILURES:
        assert strings["exceptions"][row.key]["message"].strip(), row.key
        failure = classify(row.error_type("detail"), row.context)
        assert strings["config"]["error"][_form_error(failure)].strip(), row.key
    for key in ISSUE_KEYS:
        assert strings["issues"][key]["title"].strip(), key
        assert strings["issues"][key]["description"].strip(), key
