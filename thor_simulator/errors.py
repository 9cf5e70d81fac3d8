"""Errors of the simulated API and of the simulator's own controls."""

from collections.abc import Mapping
from http import HTTPStatus

# Message identifiers with the description Thor's documentation gives them. The
# descriptions never contain an identifier, so a client can tell them apart.
DESCRIPTIONS: dict[str, str] = {
    "APIKeyNotFound": "An invalid API key was given in the header of the request.",
    "RestAPINotEnabled": "REST API integration is set as disabled in the administration dashboard.",
    "InvalidSourceIPAddr": "The request comes from an IP address that is different from the one given in the REST API integration configuration.",
    "ChargeboxNotActive": "Chargebox is not set as active in the administration dashboard.",
    "ChargeboxNotFound": "No chargebox with the given identifier was found.",
    "ChargeboxNotFree": "Chargebox has a payment type that is not Free.",
    "ConnectorNotValid": "The connector value is lesser than or equal to zero or is greater than the number of connectors that the chargebox has.",
    "AlreadyInTransaction": "The given connector of the given chargebox is already involved in a transaction.",
    "NotInTransaction": "The given connector of the given chargebox is currently not involved in a transaction.",
    "WrongTransaction": "The id_tag or transaction (if given) field is not valid.",
    "TooManyRequests": "Too many start charge requests on the given chargebox and connector.",
    "BoundsTooBig": "The bounding box is too large: latitude and longitude spans must be at most 2.",
    "InternalServerError": "Something unexpected went wrong while executing the request.",
    "BadRequest": "The request is not valid.",
    # Not documented by Thor (its reservation and history errors are truncated):
    # the simulator's assumptions.
    "ChargeboxNotReservable": "The chargebox is not set as reservable.",
    "AlreadyReserved": "The given connector of the given chargebox is already reserved.",
    "RangeTooLarge": "The date range is too large: at most 366 days.",
}


def code_for_status(status: int) -> str:
    """Return a message identifier for an HTTP status without a documented one."""
    if status == 429:
        return "TooManyRequests"
    if status == 500:
        return "InternalServerError"
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP{status}"
    return "".join(word[:1].upper() + word[1:] for word in phrase.split())


class ApiError(Exception):
    """An error answer of the simulated Thor API."""

    def __init__(
        self,
        status: int,
        code: str,
        *,
        detail: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Keep the status, the message identifier and extra headers."""
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.detail = detail or DESCRIPTIONS.get(code, code_for_status(status))
        self.headers = dict(headers or {})


class SimulatorError(ValueError):
    """A simulator control was used in a way the current state does not allow."""


class UnknownChargeboxError(SimulatorError, KeyError):
    """No simulated chargebox has that id."""

    def __str__(self) -> str:
        """Return the message without KeyError's quoting."""
        return str(self.args[0]) if self.args else ""
