"""Exceptions raised by the Thor API client.

Every request error derives from `ThorError` and carries the HTTP status (None when no
response arrived) and Thor's message identifier (None when the body had none). Input
refused before any request raises a `ValueError` subclass instead. Messages never
contain the API key.
"""


class ThorError(Exception):
    """Base class of every Thor client error."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None
    ) -> None:
        """Keep the HTTP status and Thor's message identifier."""
        super().__init__(message)
        self.status = status
        self.code = code


class ThorConnectionError(ThorError):
    """Thor could not be reached (network error, dropped connection)."""


class ThorTimeoutError(ThorConnectionError):
    """Thor did not answer within the request timeout."""


class ThorAuthenticationError(ThorError):
    """The API key is missing or not valid (`APIKeyNotFound`)."""


class ThorAccessDeniedError(ThorError):
    """The key is valid but Thor refused the request (403)."""


class ThorRestApiDisabledError(ThorAccessDeniedError):
    """The REST integration is disabled in the Thor dashboard (`RestAPINotEnabled`)."""


class ThorSourceIPError(ThorAccessDeniedError):
    """The request came from another IP than the configured one (`InvalidSourceIPAddr`)."""


class ThorChargeboxNotActiveError(ThorAccessDeniedError):
    """The chargebox is not flagged active in the dashboard (`ChargeboxNotActive`)."""


class ThorChargeboxNotFoundError(ThorError):
    """No chargebox with that id (`ChargeboxNotFound`)."""


class ThorPaymentRequiredError(ThorError):
    """The chargebox's payment type is not Free (`ChargeboxNotFree`)."""


class ThorBadRequestError(ThorError):
    """Thor refused the request as invalid (400)."""


class ThorInvalidConnectorError(ThorBadRequestError):
    """The connector number is not valid for the chargebox (`ConnectorNotValid`)."""


class ThorTransactionError(ThorBadRequestError):
    """The connector's transaction state does not allow the command."""


class ThorAlreadyInTransactionError(ThorTransactionError):
    """A transaction already runs on the connector (`AlreadyInTransaction`)."""


class ThorNotInTransactionError(ThorTransactionError):
    """No transaction runs on the connector (`NotInTransaction`)."""


class ThorWrongTransactionError(ThorTransactionError):
    """The id_tag or transaction does not match the running one (`WrongTransaction`)."""


class ThorNotReservableError(ThorBadRequestError):
    """The chargebox takes no reservations (`ChargeboxNotReservable`, assumed)."""


class ThorAlreadyReservedError(ThorBadRequestError):
    """The connector is already reserved (`AlreadyReserved`, assumed)."""


class ThorRangeTooLargeError(ThorBadRequestError):
    """The date range of the charge history is too long (`RangeTooLarge`, assumed)."""


class ThorRateLimitError(ThorError):
    """Thor answered 429, or a back-off from an earlier 429 is still running.

    `retry_after` is the bounded wait in seconds before the client sends again;
    `requested_retry_after` is what Thor's `Retry-After` said (None when absent or
    unusable), for logs and diagnostics only. `status` is None when nothing was sent.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        requested_retry_after: float | None = None,
    ) -> None:
        """Keep the wait and the delay Thor asked for."""
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after
        self.requested_retry_after = requested_retry_after


class ThorServerError(ThorError):
    """Thor failed on its side (5xx)."""


class ThorResponseError(ThorError):
    """Thor's answer could not be used (not JSON, missing fields, a redirect)."""


class ThorInvalidApiKeyError(ValueError):
    """The API key is empty or has characters an HTTP header cannot carry."""


class ThorInvalidBaseUrlError(ValueError):
    """The base URL is not an absolute http(s) URL Thor can be reached at."""


class ThorInsecureBaseUrlError(ThorInvalidBaseUrlError):
    """The base URL uses plain http to a host that is not local."""
