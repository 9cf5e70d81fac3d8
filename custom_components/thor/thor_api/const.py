"""Constants of the Thor integration API."""

from datetime import timedelta
from enum import StrEnum
from typing import Final

API_PATH: Final = "/latest/integration"
"""Path of the integration API; appended to a base URL that is only an origin."""
PRODUCTION_BASE_URL: Final = f"https://api.thor.tools{API_PATH}"
DEVELOPMENT_BASE_URL: Final = f"https://dev.api.thor.tools{API_PATH}"
DEFAULT_REQUEST_TIMEOUT: Final = 15.0
API_KEY_HEADER: Final = "X-Api-Key"

# Rate-limit back-off (§6 #7: Thor gives no limits). The floor keeps a `Retry-After: 0`
# from turning into a request loop, the ceiling keeps an absurd value from silencing
# the integration for days.
DEFAULT_MIN_BACKOFF: Final = 30.0
"""Shortest wait after a 429, seconds."""
DEFAULT_MAX_BACKOFF: Final = 300.0
"""Longest wait after a 429, seconds."""
DEFAULT_RATE_LIMIT_BACKOFF: Final = 60.0
"""Wait after a 429 without a usable `Retry-After`, seconds."""

MAX_FINISHED_RANGE_DAYS: Final = 33
"""Most days asked of `charges/finished` in one request (§6 #18: Thor documents no
limit): the longest month with `FINISHED_DATE_MARGIN` on each side, so a question
about a month is one request; `ThorClient.finished_charges_between` splits longer
ranges."""

FINISHED_DATE_MARGIN: Final = timedelta(days=1)
"""Asked for on each side of a range of finished charges: the time zone Thor reads
`from`/`to` in is not documented (§6 #18), so a charge ending late in the local day
may be on the next day for Thor."""

MAX_TEXT_LENGTH: Final = 255
"""Longest free text kept from Thor: Home Assistant refuses longer states."""


class ErrorCode(StrEnum):
    """Message identifiers Thor documents for failed requests."""

    API_KEY_NOT_FOUND = "APIKeyNotFound"
    REST_API_NOT_ENABLED = "RestAPINotEnabled"
    INVALID_SOURCE_IP_ADDR = "InvalidSourceIPAddr"
    CHARGEBOX_NOT_ACTIVE = "ChargeboxNotActive"
    CHARGEBOX_NOT_FOUND = "ChargeboxNotFound"
    CHARGEBOX_NOT_FREE = "ChargeboxNotFree"
    CONNECTOR_NOT_VALID = "ConnectorNotValid"
    ALREADY_IN_TRANSACTION = "AlreadyInTransaction"
    NOT_IN_TRANSACTION = "NotInTransaction"
    WRONG_TRANSACTION = "WrongTransaction"
    TOO_MANY_REQUESTS = "TooManyRequests"
    INTERNAL_SERVER_ERROR = "InternalServerError"
    BOUNDS_TOO_BIG = "BoundsTooBig"
    # Not documented (the reservation and history pages are truncated): the
    # identifiers we assume, as the project's simulator answers them.
    CHARGEBOX_NOT_RESERVABLE = "ChargeboxNotReservable"
    ALREADY_RESERVED = "AlreadyReserved"
    RANGE_TOO_LARGE = "RangeTooLarge"


class ConnectorType(StrEnum):
    """Plug type of a connector."""

    CCS = "ccs"
    CHADEMO = "chademo"
    COMMANDO = "commando"
    TYPE_1 = "type_1"
    TYPE_2 = "type_2"
    TYPE_3A = "type_3a"
    TYPE_3C = "type_3c"
    SCHUKO = "schuko"


class ConnectorFormat(StrEnum):
    """Whether the connector has a tethered cable or a socket."""

    CABLE = "CABLE"
    SOCKET = "SOCKET"


class PowerType(StrEnum):
    """Electrical supply of a connector."""

    AC_1_PHASE = "AC_1_PHASE"
    AC_3_PHASE = "AC_3_PHASE"
    DC = "DC"


class Vehicle(StrEnum):
    """Vehicle class a chargebox serves."""

    CAR = "car"
    BICYCLE = "bicycle"
