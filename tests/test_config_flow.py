"""Tests of the Thor config flows: the account entry and its chargebox subentries."""

from collections.abc import Generator
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    SubentryFlowResult,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor import entries
from custom_components.thor.const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_CHARGEBOX_IDS,
    CONF_ENVIRONMENT,
    DOMAIN,
    ENVIRONMENT_DEVELOPMENT,
    ENVIRONMENT_PRODUCTION,
    SUBENTRY_TYPE_CHARGEBOX,
    account_title,
)
from custom_components.thor.entries import async_get_backoff
from custom_components.thor.thor_api import (
    DEVELOPMENT_BASE_URL,
    PRODUCTION_BASE_URL,
    Chargebox,
    ThorAccessDeniedError,
    ThorAuthenticationError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorConnectionError,
    ThorError,
    ThorNotInTransactionError,
    ThorPaymentRequiredError,
    ThorRateLimitError,
    ThorResponseError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorTimeoutError,
)
from tests.conftest import API_KEY, CHARGEBOX_ID, account_entry
from thor_simulator import ThorSimulator

GARAGE = Chargebox.from_dict({"id": CHARGEBOX_ID, "alias": "Garage", "connectors": []})
CARPORT = Chargebox.from_dict({"id": "CB-CARPORT", "alias": None, "connectors": []})
SHED = Chargebox.from_dict({"id": "CB-SHED", "alias": "Shed", "connectors": []})
ACCOUNT = {box.id: box for box in (GARAGE, CARPORT, SHED)}
"""Every chargebox `get_chargebox` finds on the mocked account."""

# Failures of the whole account, and the form error (or subentry abort) they give.
ACCOUNT_ERRORS = [
    (ThorAuthenticationError("APIKeyNotFound"), "invalid_auth"),
    (ThorRestApiDisabledError("RestAPINotEnabled"), "rest_api_disabled"),
    (ThorSourceIPError("InvalidSourceIPAddr"), "source_ip_refused"),
    (ThorConnectionError("down"), "cannot_connect"),
    (ThorTimeoutError("slow"), "cannot_connect"),
    (ThorServerError("HTTP 500"), "cannot_connect"),
    (ThorRateLimitError("HTTP 429"), "cannot_connect"),
    (RuntimeError("bug"), "unknown"),
]
# Failures of reading one chargebox typed by hand.
CHARGEBOX_ERRORS = [
    *ACCOUNT_ERRORS,
    (ThorChargeboxNotActiveError("ChargeboxNotActive"), "chargebox_not_active"),
    (ThorChargeboxNotFoundError("ChargeboxNotFound"), "chargebox_not_found"),
    (ThorResponseError("not JSON"), "invalid_response"),
    (ThorAccessDeniedError("HTTP 403"), "access_denied"),
    (ThorError("HTTP 418"), "request_failed"),
    # Refusals meant for commands are plain refusals in a form that only reads.
    (ThorPaymentRequiredError("ChargeboxNotFree"), "request_failed"),
    (ThorNotInTransactionError("NotInTransaction"), "request_failed"),
]
# What makes the list unreadable without being the account's fault.
UNREADABLE_LISTS = [
    pytest.param([], id="empty"),
    pytest.param(ThorChargeboxNotFoundError("ChargeboxNotFound"), id="not_found"),
    pytest.param(ThorResponseError("not a JSON array"), id="bad_response"),
    pytest.param(ThorAccessDeniedError("HTTP 403"), id="access_denied"),
]


def _settings(
    api_key: str = API_KEY,
    environment: str = ENVIRONMENT_PRODUCTION,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Return what the settings form submits."""
    advanced = {} if base_url is None else {CONF_BASE_URL: base_url}
    return {
        CONF_API_KEY: api_key,
        CONF_ENVIRONMENT: environment,
        "advanced": advanced,
    }


def _fields(result: FlowResult[Any, Any]) -> dict[Any, Any]:
    """Return the fields of a form: marker -> selector or section."""
    schema = result["data_schema"]
    assert schema is not None
    return dict(schema.schema)


def _marker(result: FlowResult[Any, Any], key: str, section: str | None = None) -> Any:
    """Return the schema marker of a field."""
    fields = _fields(result)
    if section is not None:
        fields = dict(fields[section].schema.schema)
    return next(k for k in fields if k == key)


def _suggested(
    result: FlowResult[Any, Any], key: str, section: str | None = None
) -> Any:
    """Return the value a form suggests for a field (None when it suggests none)."""
    return (_marker(result, key, section).description or {}).get("suggested_value")


def _options(result: FlowResult[Any, Any], key: str) -> list[dict[str, str]]:
    """Return the chargeboxes a selector offers."""
    options: list[dict[str, str]] = _fields(result)[key].config["options"]
    return options


def _subentries(
    entry: ConfigEntry,
) -> list[tuple[str, dict[str, Any], str, str | None]]:
    """Return (type, data, title, unique id) of each subentry of an entry."""
    return [
        (sub.subentry_type, dict(sub.data), sub.title, sub.unique_id)
        for sub in entry.subentries.values()
    ]


def _chargebox(box: Chargebox) -> tuple[str, dict[str, Any], str, str]:
    """Return the subentry expected for a chargebox."""
    return (SUBENTRY_TYPE_CHARGEBOX, {CONF_CHARGEBOX_ID: box.id}, box.name, box.id)


def _get_chargebox(chargebox_id: str) -> Chargebox:
    """Answer get_chargebox like Thor on the mocked account."""
    if chargebox_id in ACCOUNT:
        return ACCOUNT[chargebox_id]
    raise ThorChargeboxNotFoundError("ChargeboxNotFound")


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep the created or reloaded entries from setting up the integration."""
    with patch(
        "custom_components.thor.async_setup_entry", return_value=True
    ) as setup_entry:
        yield setup_entry


@pytest.fixture
def mock_client() -> Generator[MagicMock]:
    """Return the client class the flows build, with Garage and Carport listed."""
    with patch(
        "custom_components.thor.entries.ThorClient", autospec=True
    ) as client_class:
        client = client_class.return_value
        client.list_chargeboxes.return_value = [GARAGE, CARPORT]
        client.get_chargebox.side_effect = _get_chargebox
        yield client_class


@pytest.fixture
def two_box_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return an account entry with Garage and Carport, added (not loaded)."""
    entry = account_entry((CHARGEBOX_ID, "Garage"), (CARPORT.id, CARPORT.name))
    entry.add_to_hass(hass)
    return entry


async def _start_user_flow(hass: HomeAssistant) -> ConfigFlowResult:
    """Open the user step."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )


async def _submit_settings(hass: HomeAssistant, **settings: Any) -> ConfigFlowResult:
    """Fill the user step; return the step that follows."""
    result = await _start_user_flow(hass)
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(**settings)
    )


async def _choose(
    hass: HomeAssistant, result: ConfigFlowResult, *chargebox_ids: str
) -> ConfigFlowResult:
    """Tick chargeboxes in the chargebox step."""
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_IDS: list(chargebox_ids)}
    )


# ------------------------------------------------------------------- user flow


@pytest.mark.parametrize(
    ("settings", "title"),
    [
        ({CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION}, "Thor"),
        ({CONF_ENVIRONMENT: ENVIRONMENT_DEVELOPMENT}, "Thor (development)"),
        ({}, "Thor"),
        (
            {
                CONF_ENVIRONMENT: ENVIRONMENT_DEVELOPMENT,
                CONF_BASE_URL: "http://192.168.1.20:8765/latest/integration",
            },
            "Thor (192.168.1.20)",
        ),
        ({CONF_BASE_URL: "https://thor.example.com/api"}, "Thor (thor.example.com)"),
        ({CONF_BASE_URL: "http://[::1]:8765/latest/integration"}, "Thor (::1)"),
    ],
)
def test_account_title(settings: dict[str, str], title: str) -> None:
    """The automatic title says where the account is, unless it is production."""
    assert account_title(settings) == title


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_adds_one_chargebox(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """Key, then the account's chargeboxes, then one account entry with the chosen."""
    result = await _start_user_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key=f"  {API_KEY}  ")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "chargebox"
    assert _options(result, CONF_CHARGEBOX_IDS) == [
        {"value": CHARGEBOX_ID, "label": f"Garage ({CHARGEBOX_ID})"},
        {"value": "CB-CARPORT", "label": "CB-CARPORT"},
    ]
    selector = _fields(result)[_marker(result, CONF_CHARGEBOX_IDS)]
    assert selector.config["multiple"] is True
    assert selector.config["mode"] == "list"
    # Out of several chargeboxes none is ticked for the user.
    assert _suggested(result, CONF_CHARGEBOX_IDS) is None

    result = await _choose(hass, result, CHARGEBOX_ID)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Thor"
    assert result["data"] == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
    }
    entry = result["result"]
    assert entry.unique_id is None
    assert entry.version == 2
    assert _subentries(entry) == [_chargebox(GARAGE)]

    client = mock_client.return_value
    # Inactive chargeboxes are listed too; the list is enough, nothing else is read.
    client.list_chargeboxes.assert_awaited_once_with(only_active=False)
    client.get_chargebox.assert_not_awaited()
    # The key is stripped and the production host used, on HA's shared session,
    # with no back-off: there is no entry to share one with yet.
    mock_client.assert_called_once_with(
        session=async_get_clientsession(hass),
        api_key=API_KEY,
        base_url=PRODUCTION_BASE_URL,
    )


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_adds_two_chargeboxes(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """Both chargeboxes ticked: one entry with a subentry each."""
    result = await _submit_settings(hass)
    result = await _choose(hass, result, CHARGEBOX_ID, "CB-CARPORT")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert _subentries(entry) == [_chargebox(GARAGE), _chargebox(CARPORT)]
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_single_chargebox_is_preselected(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """A lone chargebox comes ticked."""
    mock_client.return_value.list_chargeboxes.return_value = [GARAGE]
    result = await _submit_settings(hass)
    assert result["step_id"] == "chargebox"
    assert _suggested(result, CONF_CHARGEBOX_IDS) == [CHARGEBOX_ID]


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize("submitted", [{}, {CONF_CHARGEBOX_IDS: []}])
async def test_user_flow_requires_a_chargebox(
    hass: HomeAssistant, mock_client: MagicMock, submitted: dict[str, Any]
) -> None:
    """Nothing ticked is refused; ticking one then creates the entry."""
    result = await _submit_settings(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], submitted
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "chargebox"
    assert result["errors"] == {"base": "no_chargebox_selected"}

    result = await _choose(hass, result, "CB-CARPORT")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert _subentries(result["result"]) == [_chargebox(CARPORT)]


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_development_environment(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """The development environment talks to the development host and says so."""
    result = await _submit_settings(hass, environment=ENVIRONMENT_DEVELOPMENT)
    result = await _choose(hass, result, CHARGEBOX_ID)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Thor (development)"
    assert result["data"] == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_DEVELOPMENT,
    }
    assert mock_client.call_args.kwargs["base_url"] == DEVELOPMENT_BASE_URL


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("typed", "stored", "title"),
    [
        (
            "http://127.0.0.1:8765",
            "http://127.0.0.1:8765/latest/integration",
            "Thor (127.0.0.1)",
        ),
        (
            "  http://192.168.1.20:8765/latest/integration/  ",
            "http://192.168.1.20:8765/latest/integration",
            "Thor (192.168.1.20)",
        ),
        ("http://10.0.0.5:8080/thor/", "http://10.0.0.5:8080/thor", "Thor (10.0.0.5)"),
        (
            "http://localhost:8765",
            "http://localhost:8765/latest/integration",
            "Thor (localhost)",
        ),
        ("http://[::1]:8765", "http://[::1]:8765/latest/integration", "Thor (::1)"),
        (
            "https://thor.example.com/",
            "https://thor.example.com/latest/integration",
            "Thor (thor.example.com)",
        ),
    ],
)
async def test_user_flow_custom_base_url(
    hass: HomeAssistant, mock_client: MagicMock, typed: str, stored: str, title: str
) -> None:
    """A custom base URL is normalised, stored, used and named in the title."""
    result = await _submit_settings(hass, base_url=typed)
    assert result["step_id"] == "chargebox"
    result = await _choose(hass, result, CHARGEBOX_ID)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_BASE_URL] == stored
    assert result["title"] == title
    assert mock_client.call_args.kwargs["base_url"] == stored


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_blank_base_url_is_ignored(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """A base URL of spaces means "use the environment"."""
    result = await _submit_settings(hass, base_url="   ")
    result = await _choose(hass, result, CHARGEBOX_ID)
    assert CONF_BASE_URL not in result["data"]
    assert result["title"] == "Thor"


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("http://thor.example.com", "insecure_url"),
        ("http://8.8.8.8:8765", "insecure_url"),
        ("ftp://192.168.1.20", "invalid_url"),
        ("thor.example.com", "invalid_url"),
        ("http://[::1", "invalid_url"),
        ("https://user:secret@thor.example.com", "invalid_url"),
        ("https://thor.example.com/?key=1", "invalid_url"),
        ("https://thor.example.com/#top", "invalid_url"),
    ],
)
async def test_user_flow_refuses_base_url(
    hass: HomeAssistant, mock_client: MagicMock, typed: str, error: str
) -> None:
    """Plain http on a public host and malformed URLs are refused, then fixed."""
    result = await _submit_settings(hass, base_url=typed)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"advanced": error}
    # What the user typed stays in the form.
    assert _suggested(result, CONF_BASE_URL, "advanced") == typed
    mock_client.return_value.list_chargeboxes.assert_not_awaited()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(base_url="https://thor.example.com")
    )
    assert result["step_id"] == "chargebox"


@pytest.mark.parametrize(
    ("typed", "error"), [("   ", "empty"), ("key\nwith-break", "invalid_api_key")]
)
async def test_user_flow_refuses_api_key(
    hass: HomeAssistant, mock_client: MagicMock, typed: str, error: str
) -> None:
    """A key that cannot be sent is refused without asking Thor."""
    result = await _submit_settings(hass, api_key=typed)
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_API_KEY: error}
    mock_client.return_value.list_chargeboxes.assert_not_awaited()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings()
    )
    assert result["step_id"] == "chargebox"


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(("exception", "error"), ACCOUNT_ERRORS)
async def test_user_flow_account_errors(
    hass: HomeAssistant, mock_client: MagicMock, exception: Exception, error: str
) -> None:
    """Account failures of the list are shown on the first form; then it recovers."""
    client = mock_client.return_value
    client.list_chargeboxes.side_effect = exception
    result = await _submit_settings(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}
    assert _suggested(result, CONF_API_KEY) == API_KEY

    client.list_chargeboxes.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings()
    )
    assert result["step_id"] == "chargebox"
    result = await _choose(hass, result, CHARGEBOX_ID)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unexpected_error_is_logged(
    hass: HomeAssistant, mock_client: MagicMock, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected error is logged with its traceback, never with the key."""
    mock_client.return_value.list_chargeboxes.side_effect = RuntimeError("bug")
    result = await _submit_settings(hass)
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error listing the Thor chargeboxes" in caplog.text
    assert "RuntimeError: bug" in caplog.text
    assert API_KEY not in caplog.text


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize("list_outcome", UNREADABLE_LISTS)
async def test_user_flow_asks_for_id_without_list(
    hass: HomeAssistant, mock_client: MagicMock, list_outcome: Any
) -> None:
    """An empty or unreadable list leads to a text field for one chargebox id."""
    client = mock_client.return_value
    if isinstance(list_outcome, Exception):
        client.list_chargeboxes.side_effect = list_outcome
    else:
        client.list_chargeboxes.return_value = list_outcome
    result = await _submit_settings(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "chargebox_manual"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: f"  {CHARGEBOX_ID} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Thor"
    assert result["data"] == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
    }
    assert _subentries(result["result"]) == [_chargebox(GARAGE)]
    client.get_chargebox.assert_awaited_once_with(CHARGEBOX_ID)


@pytest.mark.usefixtures("mock_setup_entry")
async def test_manual_id_errors_then_success(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """An empty id, then an unknown id, are refused; the right id creates the entry."""
    client = mock_client.return_value
    client.list_chargeboxes.return_value = []
    result = await _submit_settings(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: "   "}
    )
    assert result["step_id"] == "chargebox_manual"
    assert result["errors"] == {CONF_CHARGEBOX_ID: "empty"}
    client.get_chargebox.assert_not_awaited()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: "CB-TYPO"}
    )
    assert result["step_id"] == "chargebox_manual"
    assert result["errors"] == {"base": "chargebox_not_found"}
    assert _suggested(result, CONF_CHARGEBOX_ID) == "CB-TYPO"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: "CB-SHED"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert _subentries(result["result"]) == [_chargebox(SHED)]


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(("exception", "error"), CHARGEBOX_ERRORS)
async def test_manual_read_errors(
    hass: HomeAssistant,
    mock_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
    exception: Exception,
    error: str,
) -> None:
    """Errors reading the typed chargebox are shown; a retry creates the entry."""
    client = mock_client.return_value
    client.list_chargeboxes.return_value = []
    client.get_chargebox.side_effect = exception
    result = await _submit_settings(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "chargebox_manual"
    assert result["errors"] == {"base": error}
    assert API_KEY not in caplog.text

    client.get_chargebox.side_effect = _get_chargebox
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_account_already_configured(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """A key listing a chargebox of an existing entry points the user at that entry."""
    existing = account_entry((CARPORT.id, "Carport"), api_key="older-key")
    existing.add_to_hass(hass)
    hass.config_entries.async_update_entry(existing, title="Home chargers")

    result = await _submit_settings(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "account_already_configured"
    assert result["description_placeholders"] == {"title": "Home chargers"}
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_account_already_configured_by_key(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """The same key on the same host is the same account, even with no list."""
    existing = account_entry((CARPORT.id, "Carport"))
    existing.add_to_hass(hass)

    result = await _submit_settings(hass, api_key=f" {API_KEY} ")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "account_already_configured"
    assert result["description_placeholders"] == {"title": "Thor"}
    mock_client.return_value.list_chargeboxes.assert_not_awaited()

    # The same key on another host is another account.
    mock_client.return_value.list_chargeboxes.return_value = [GARAGE]
    result = await _submit_settings(hass, environment=ENVIRONMENT_DEVELOPMENT)
    assert result["step_id"] == "chargebox"


async def test_account_configured_while_choosing(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """A chargebox added by another flow meanwhile aborts the creation."""
    result = await _submit_settings(hass)
    account_entry((CHARGEBOX_ID, "Garage"), api_key="other-key").add_to_hass(hass)
    result = await _choose(hass, result, CHARGEBOX_ID)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "account_already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_manual_chargebox_already_configured(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """A typed chargebox configured in any entry aborts, without asking Thor."""
    account_entry((CARPORT.id, "Carport"), api_key="other-key").add_to_hass(hass)
    client = mock_client.return_value
    client.list_chargeboxes.return_value = []
    result = await _submit_settings(hass)
    assert result["step_id"] == "chargebox_manual"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: " CB-CARPORT "}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    client.get_chargebox.assert_not_awaited()
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_account_of_an_entry_not_yet_migrated(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """An entry of the one-entry-per-chargebox layout still names its account."""
    MockConfigEntry(
        domain=DOMAIN,
        title="Carport",
        version=1,
        data={
            CONF_API_KEY: "older-key",
            CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
            CONF_CHARGEBOX_ID: CARPORT.id,
        },
    ).add_to_hass(hass)

    result = await _submit_settings(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "account_already_configured"
    assert result["description_placeholders"] == {"title": "Carport"}


# ---------------------------------------------------------------------- reauth


async def test_reauth(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_setup_entry: AsyncMock,
    two_box_entry: MockConfigEntry,
) -> None:
    """Only the new key is asked; it must list the entry's chargeboxes; then reload."""
    result = await two_box_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert list(_fields(result)) == [CONF_API_KEY]
    assert result["description_placeholders"] == {"name": "Thor"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: " new-api-key "}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert two_box_entry.data == {
        CONF_API_KEY: "new-api-key",
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
    }
    assert _subentries(two_box_entry) == [
        _chargebox(GARAGE),
        (
            SUBENTRY_TYPE_CHARGEBOX,
            {CONF_CHARGEBOX_ID: CARPORT.id},
            CARPORT.id,
            CARPORT.id,
        ),
    ]
    client = mock_client.return_value
    client.list_chargeboxes.assert_awaited_once_with(only_active=False)
    client.get_chargebox.assert_not_awaited()
    mock_client.assert_called_once_with(
        session=async_get_clientsession(hass),
        api_key="new-api-key",
        base_url=PRODUCTION_BASE_URL,
    )
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("listed", "missing"),
    [
        ([GARAGE], "CB-CARPORT"),
        ([SHED], f"{CHARGEBOX_ID}, CB-CARPORT"),
        ([], f"{CHARGEBOX_ID}, CB-CARPORT"),
    ],
)
async def test_reauth_wrong_account(
    hass: HomeAssistant,
    mock_client: MagicMock,
    two_box_entry: MockConfigEntry,
    listed: list[Chargebox],
    missing: str,
) -> None:
    """A key that cannot read every chargebox of the entry is refused; then recovers."""
    client = mock_client.return_value
    client.list_chargeboxes.return_value = listed
    # The key of another account does not find them one by one either.
    client.get_chargebox.side_effect = ThorChargeboxNotFoundError("ChargeboxNotFound")
    result = await two_box_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "key-of-another-account"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "wrong_account"}
    assert result["description_placeholders"] == {
        "name": "Thor",
        "chargeboxes": missing,
    }
    assert two_box_entry.data[CONF_API_KEY] == API_KEY

    client.list_chargeboxes.return_value = [CARPORT, GARAGE, SHED]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-api-key"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert two_box_entry.data[CONF_API_KEY] == "new-api-key"


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    "list_outcome",
    [
        pytest.param([GARAGE], id="left_out"),
        pytest.param(ThorResponseError("not a JSON array"), id="unreadable"),
    ],
)
async def test_reauth_reads_chargeboxes_the_list_misses(
    hass: HomeAssistant,
    mock_client: MagicMock,
    two_box_entry: MockConfigEntry,
    list_outcome: Any,
) -> None:
    """A chargebox the list leaves out (one typed by hand) is read on its own."""
    client = mock_client.return_value
    if isinstance(list_outcome, Exception):
        client.list_chargeboxes.side_effect = list_outcome
    else:
        client.list_chargeboxes.return_value = list_outcome
    result = await two_box_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-api-key"}
    )
    assert result["reason"] == "reauth_successful"
    assert client.get_chargebox.await_args_list[-1].args == ("CB-CARPORT",)


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reauth_inactive_chargebox_is_on_the_account(
    hass: HomeAssistant, mock_client: MagicMock, two_box_entry: MockConfigEntry
) -> None:
    """Thor calling a chargebox inactive means the key's account has it."""
    client = mock_client.return_value
    client.list_chargeboxes.return_value = [GARAGE]
    client.get_chargebox.side_effect = ThorChargeboxNotActiveError("ChargeboxNotActive")
    result = await two_box_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-api-key"}
    )
    assert result["reason"] == "reauth_successful"


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("exception", "error"),
    [
        *ACCOUNT_ERRORS,
        (ThorAccessDeniedError("HTTP 403"), "access_denied"),
    ],
)
async def test_reauth_errors(
    hass: HomeAssistant,
    mock_client: MagicMock,
    two_box_entry: MockConfigEntry,
    exception: Exception,
    error: str,
) -> None:
    """An invalid key or an unreachable Thor keep the form open; then it recovers."""
    client = mock_client.return_value
    client.list_chargeboxes.side_effect = exception
    client.get_chargebox.side_effect = exception
    result = await two_box_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "other-key"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": error}
    assert two_box_entry.data[CONF_API_KEY] == API_KEY

    client.list_chargeboxes.side_effect = None
    client.get_chargebox.side_effect = _get_chargebox
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-api-key"}
    )
    assert result["reason"] == "reauth_successful"
    assert two_box_entry.data[CONF_API_KEY] == "new-api-key"


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    "failure",
    [(ThorServerError("HTTP 500"), "cannot_connect"), (RuntimeError("bug"), "unknown")],
)
async def test_reauth_reading_a_missed_chargebox_fails(
    hass: HomeAssistant,
    mock_client: MagicMock,
    two_box_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    failure: tuple[Exception, str],
) -> None:
    """A failure reading a chargebox the list misses keeps the form and the old key."""
    exception, error = failure
    client = mock_client.return_value
    client.list_chargeboxes.return_value = [GARAGE]
    client.get_chargebox.side_effect = exception
    result = await two_box_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-api-key"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert two_box_entry.data[CONF_API_KEY] == API_KEY
    # Only what nobody expected is logged with its traceback.
    assert ("Unexpected error" in caplog.text) is (error == "unknown")
    assert "new-api-key" not in caplog.text

    client.get_chargebox.side_effect = _get_chargebox
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-api-key"}
    )
    assert result["reason"] == "reauth_successful"
    assert two_box_entry.data[CONF_API_KEY] == "new-api-key"


async def test_reauth_refuses_empty_key(
    hass: HomeAssistant, mock_client: MagicMock, two_box_entry: MockConfigEntry
) -> None:
    """A key made of spaces is refused without asking Thor."""
    result = await two_box_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "  "}
    )
    assert result["errors"] == {CONF_API_KEY: "empty"}
    mock_client.return_value.list_chargeboxes.assert_not_awaited()


# ----------------------------------------------------------------- reconfigure


async def test_reconfigure_keeps_key_left_empty(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_setup_entry: AsyncMock,
    two_box_entry: MockConfigEntry,
) -> None:
    """The stored key is never shown; left empty it is kept; then reload."""
    result = await two_box_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"name": "Thor"}
    assert _suggested(result, CONF_API_KEY) is None
    assert str(type(_marker(result, CONF_API_KEY)).__name__) == "Optional"
    assert _suggested(result, CONF_ENVIRONMENT) == ENVIRONMENT_PRODUCTION
    assert _suggested(result, CONF_BASE_URL, "advanced") == ""
    assert _fields(result)["advanced"].options == {"collapsed": True}
    assert API_KEY not in repr(result)

    user_input = _settings(environment=ENVIRONMENT_DEVELOPMENT)
    del user_input[CONF_API_KEY]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert two_box_entry.data == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_DEVELOPMENT,
    }
    # The automatic title follows the environment.
    assert two_box_entry.title == "Thor (development)"
    assert len(two_box_entry.subentries) == 2
    mock_client.assert_called_once_with(
        session=async_get_clientsession(hass),
        api_key=API_KEY,
        base_url=DEVELOPMENT_BASE_URL,
    )
    mock_client.return_value.list_chargeboxes.assert_awaited_once_with(
        only_active=False
    )
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reconfigure_a_loaded_entry_reloads_it_once(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A loaded entry reloads with the new settings, once (its own listener)."""
    client_class = entries.ThorClient
    assert isinstance(client_class, MagicMock)
    client_class.reset_mock()
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key="new-api-key")
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.settings[CONF_API_KEY] == "new-api-key"
    # One client for the flow's check, one for the single reload.
    assert [call.kwargs["api_key"] for call in client_class.call_args_list] == [
        "new-api-key",
        "new-api-key",
    ]


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_new_key_and_base_url(
    hass: HomeAssistant, mock_client: MagicMock, two_box_entry: MockConfigEntry
) -> None:
    """A new key and a custom base URL replace the stored settings."""
    result = await two_box_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _settings(api_key=" new-api-key ", base_url="http://192.168.1.20:8765"),
    )
    assert result["reason"] == "reconfigure_successful"
    assert two_box_entry.data == {
        CONF_API_KEY: "new-api-key",
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
        CONF_BASE_URL: "http://192.168.1.20:8765/latest/integration",
    }
    assert two_box_entry.title == "Thor (192.168.1.20)"
    assert two_box_entry.unique_id is None
    assert mock_client.call_args.kwargs == {
        "session": async_get_clientsession(hass),
        "api_key": "new-api-key",
        "base_url": "http://192.168.1.20:8765/latest/integration",
    }


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_keeps_title_given_by_user(
    hass: HomeAssistant, mock_client: MagicMock, two_box_entry: MockConfigEntry
) -> None:
    """A title the user chose is not replaced by the automatic one."""
    hass.config_entries.async_update_entry(two_box_entry, title="Home chargers")
    result = await two_box_entry.start_reconfigure_flow(hass)
    assert result["description_placeholders"] == {"name": "Home chargers"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(base_url="http://192.168.1.20:8765")
    )
    assert result["reason"] == "reconfigure_successful"
    assert two_box_entry.title == "Home chargers"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_removes_custom_base_url(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """An entry on a custom URL shows it open; clearing it goes back to the host."""
    entry = account_entry(
        (CHARGEBOX_ID, "Garage"), base_url="http://127.0.0.1:8765/latest/integration"
    )
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, title="Thor (127.0.0.1)")
    result = await entry.start_reconfigure_flow(hass)
    assert _fields(result)["advanced"].options == {"collapsed": False}
    assert (
        _suggested(result, CONF_BASE_URL, "advanced")
        == "http://127.0.0.1:8765/latest/integration"
    )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key="", base_url="")
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
    }
    assert entry.title == "Thor"
    assert mock_client.call_args.kwargs["base_url"] == PRODUCTION_BASE_URL


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_wrong_account(
    hass: HomeAssistant, mock_client: MagicMock, two_box_entry: MockConfigEntry
) -> None:
    """Settings that cannot read every chargebox of the entry are refused."""
    client = mock_client.return_value
    client.list_chargeboxes.return_value = [SHED]
    client.get_chargebox.side_effect = ThorChargeboxNotFoundError("ChargeboxNotFound")
    result = await two_box_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key="key-of-another-account")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "wrong_account"}
    assert result["description_placeholders"] == {
        "name": "Thor",
        "chargeboxes": f"{CHARGEBOX_ID}, CB-CARPORT",
    }
    # What the user typed stays in the form.
    assert _suggested(result, CONF_API_KEY) == "key-of-another-account"
    assert two_box_entry.data[CONF_API_KEY] == API_KEY

    client.list_chargeboxes.return_value = [GARAGE, CARPORT]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key="")
    )
    assert result["reason"] == "reconfigure_successful"
    assert two_box_entry.data[CONF_API_KEY] == API_KEY


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("typed_or_raised", "error"),
    [
        ({"api_key": "key\nwith-break"}, {CONF_API_KEY: "invalid_api_key"}),
        ({"base_url": "http://thor.example.com"}, {"advanced": "insecure_url"}),
        ({"base_url": "thor.example.com"}, {"advanced": "invalid_url"}),
        (ThorAuthenticationError("APIKeyNotFound"), {"base": "invalid_auth"}),
        (ThorRestApiDisabledError("RestAPINotEnabled"), {"base": "rest_api_disabled"}),
        (ThorConnectionError("down"), {"base": "cannot_connect"}),
        (RuntimeError("bug"), {"base": "unknown"}),
    ],
)
async def test_reconfigure_errors(
    hass: HomeAssistant,
    mock_client: MagicMock,
    two_box_entry: MockConfigEntry,
    typed_or_raised: dict[str, str] | Exception,
    error: dict[str, str],
) -> None:
    """Bad input or Thor errors keep the form open and the entry unchanged."""
    client = mock_client.return_value
    settings = {"api_key": "new-api-key"}
    if isinstance(typed_or_raised, Exception):
        client.list_chargeboxes.side_effect = typed_or_raised
    else:
        settings |= typed_or_raised
    result = await two_box_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(**settings)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == error
    assert two_box_entry.data[CONF_API_KEY] == API_KEY

    client.list_chargeboxes.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key="new-api-key")
    )
    assert result["reason"] == "reconfigure_successful"
    assert two_box_entry.data[CONF_API_KEY] == "new-api-key"


# ------------------------------------------------------------- subentry flow


async def _start_subentry_flow(
    hass: HomeAssistant, entry: MockConfigEntry
) -> SubentryFlowResult:
    """Press "Add chargebox" on an entry."""
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_TYPE_CHARGEBOX), context={"source": SOURCE_USER}
    )


async def _configure_subentry(
    hass: HomeAssistant, result: SubentryFlowResult, user_input: dict[str, Any]
) -> SubentryFlowResult:
    """Submit a step of a subentry flow."""
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )


async def test_subentry_types(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """An account entry offers "Add chargebox"."""
    mock_config_entry.add_to_hass(hass)
    assert mock_config_entry.supported_subentry_types == {
        SUBENTRY_TYPE_CHARGEBOX: {"supports_reconfigure": False}
    }


async def test_subentry_flow_adds_chargebox(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """Only chargeboxes no Thor entry has are offered; the chosen one is added."""
    mock_config_entry.add_to_hass(hass)
    # Another entry (another key of the same account) already has Shed.
    account_entry((SHED.id, "Shed"), api_key="other-key").add_to_hass(hass)
    client = mock_client.return_value
    client.list_chargeboxes.return_value = [GARAGE, CARPORT, SHED]

    result = await _start_subentry_flow(hass, mock_config_entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "chargebox"
    assert _options(result, CONF_CHARGEBOX_ID) == [
        {"value": "CB-CARPORT", "label": "CB-CARPORT"}
    ]
    selector = _fields(result)[_marker(result, CONF_CHARGEBOX_ID)]
    assert selector.config.get("multiple", False) is False

    result = await _configure_subentry(hass, result, {CONF_CHARGEBOX_ID: "CB-CARPORT"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "CB-CARPORT"
    assert result["data"] == {CONF_CHARGEBOX_ID: "CB-CARPORT"}
    assert result["unique_id"] == "CB-CARPORT"
    assert _subentries(mock_config_entry) == [
        (
            SUBENTRY_TYPE_CHARGEBOX,
            {CONF_CHARGEBOX_ID: CHARGEBOX_ID},
            "Garage",
            CHARGEBOX_ID,
        ),
        _chargebox(CARPORT),
    ]
    client.list_chargeboxes.assert_awaited_once_with(only_active=False)
    client.get_chargebox.assert_not_awaited()
    # The entry's settings, and its shared rate-limit back-off.
    mock_client.assert_called_once_with(
        session=async_get_clientsession(hass),
        api_key=API_KEY,
        base_url=PRODUCTION_BASE_URL,
        backoff=async_get_backoff(hass, mock_config_entry.entry_id),
    )


async def test_subentry_flow_no_chargeboxes_left(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """When every listed chargebox is configured there is nothing to add."""
    mock_config_entry.add_to_hass(hass)
    mock_client.return_value.list_chargeboxes.return_value = [GARAGE]
    result = await _start_subentry_flow(hass, mock_config_entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_chargeboxes_left"


async def test_subentry_flow_chargebox_added_meanwhile(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """A chargebox added by another flow while choosing aborts."""
    mock_config_entry.add_to_hass(hass)
    result = await _start_subentry_flow(hass, mock_config_entry)
    account_entry(("CB-CARPORT", "Carport"), api_key="other-key").add_to_hass(hass)
    result = await _configure_subentry(hass, result, {CONF_CHARGEBOX_ID: "CB-CARPORT"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(mock_config_entry.subentries) == 1


@pytest.mark.parametrize("list_outcome", UNREADABLE_LISTS)
async def test_subentry_flow_manual(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    list_outcome: Any,
) -> None:
    """An empty or unreadable list asks for the id; errors are shown; then added."""
    mock_config_entry.add_to_hass(hass)
    client = mock_client.return_value
    if isinstance(list_outcome, Exception):
        client.list_chargeboxes.side_effect = list_outcome
    else:
        client.list_chargeboxes.return_value = list_outcome
    result = await _start_subentry_flow(hass, mock_config_entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert result["errors"] == {}

    result = await _configure_subentry(hass, result, {CONF_CHARGEBOX_ID: " "})
    assert result["errors"] == {CONF_CHARGEBOX_ID: "empty"}
    result = await _configure_subentry(hass, result, {CONF_CHARGEBOX_ID: "CB-TYPO"})
    assert result["step_id"] == "manual"
    assert result["errors"] == {"base": "chargebox_not_found"}
    assert _suggested(result, CONF_CHARGEBOX_ID) == "CB-TYPO"

    result = await _configure_subentry(hass, result, {CONF_CHARGEBOX_ID: " CB-SHED "})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Shed"
    assert result["unique_id"] == "CB-SHED"
    assert _subentries(mock_config_entry)[-1] == _chargebox(SHED)


@pytest.mark.parametrize(("exception", "error"), CHARGEBOX_ERRORS)
async def test_subentry_flow_manual_read_errors(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    exception: Exception,
    error: str,
) -> None:
    """Errors reading the typed chargebox are shown on the form."""
    mock_config_entry.add_to_hass(hass)
    client = mock_client.return_value
    client.list_chargeboxes.return_value = []
    client.get_chargebox.side_effect = exception
    result = await _start_subentry_flow(hass, mock_config_entry)
    result = await _configure_subentry(hass, result, {CONF_CHARGEBOX_ID: "CB-SHED"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


@pytest.mark.parametrize("chargebox_id", [CHARGEBOX_ID, "CB-CARPORT"])
async def test_subentry_flow_manual_already_configured(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    chargebox_id: str,
) -> None:
    """A typed chargebox of this or another entry aborts, without asking Thor."""
    mock_config_entry.add_to_hass(hass)
    account_entry(("CB-CARPORT", "Carport"), api_key="other-key").add_to_hass(hass)
    client = mock_client.return_value
    client.list_chargeboxes.return_value = []
    result = await _start_subentry_flow(hass, mock_config_entry)
    result = await _configure_subentry(hass, result, {CONF_CHARGEBOX_ID: chargebox_id})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    client.get_chargebox.assert_not_awaited()


@pytest.mark.parametrize(("exception", "reason"), ACCOUNT_ERRORS)
async def test_subentry_flow_account_errors(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    exception: Exception,
    reason: str,
) -> None:
    """Failures of the whole account abort with their reason."""
    mock_config_entry.add_to_hass(hass)
    mock_client.return_value.list_chargeboxes.side_effect = exception
    result = await _start_subentry_flow(hass, mock_config_entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({CONF_API_KEY: "key\nwith-break"}, "invalid_auth"),
        ({CONF_BASE_URL: "ftp://192.168.1.20"}, "invalid_url"),
    ],
)
async def test_subentry_flow_unusable_entry_settings(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    data: dict[str, str],
    reason: str,
) -> None:
    """Stored settings no client accepts abort before any request."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, **data}
    )
    result = await _start_subentry_flow(hass, mock_config_entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


# ----------------------------------------------------------------- simulator


@pytest.mark.usefixtures("socket_enabled", "mock_setup_entry")
async def test_simulator_user_flow(
    hass: HomeAssistant, simulator: ThorSimulator
) -> None:
    """Against the simulator: both chargeboxes are listed and become subentries."""
    shed = simulator.add_chargebox(alias="Shed", connectors=1)
    garage_id, shed_id = simulator.chargeboxes
    assert shed.id == shed_id
    origin = simulator.base_url.removesuffix("/latest/integration")
    result = await _submit_settings(hass, base_url=origin)
    assert result["step_id"] == "chargebox"
    assert _options(result, CONF_CHARGEBOX_IDS) == [
        {"value": garage_id, "label": f"Garage ({garage_id})"},
        {"value": shed_id, "label": f"Shed ({shed_id})"},
    ]

    result = await _choose(hass, result, garage_id, shed_id)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Thor (127.0.0.1)"
    assert result["data"] == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
        CONF_BASE_URL: simulator.base_url,
    }
    assert _subentries(result["result"]) == [
        (SUBENTRY_TYPE_CHARGEBOX, {CONF_CHARGEBOX_ID: garage_id}, "Garage", garage_id),
        (SUBENTRY_TYPE_CHARGEBOX, {CONF_CHARGEBOX_ID: shed_id}, "Shed", shed_id),
    ]


@pytest.mark.usefixtures("socket_enabled", "mock_setup_entry")
async def test_simulator_user_flow_errors(
    hass: HomeAssistant, simulator: ThorSimulator
) -> None:
    """Against the simulator: a wrong key and a disabled REST API are explained."""
    result = await _submit_settings(
        hass, api_key="wrong-key", base_url=simulator.base_url
    )
    assert result["errors"] == {"base": "invalid_auth"}

    simulator.rest_enabled = False
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(base_url=simulator.base_url)
    )
    assert result["errors"] == {"base": "rest_api_disabled"}

    simulator.rest_enabled = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(base_url=simulator.base_url)
    )
    assert result["step_id"] == "chargebox"


@pytest.mark.usefixtures("socket_enabled")
async def test_simulator_reauth(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    """Against the simulator: the key is regenerated; only the new one is accepted."""
    sim_config_entry.add_to_hass(hass)
    simulator.revoke_key(API_KEY)
    simulator.add_key("regenerated-key")

    result = await sim_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: API_KEY}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "regenerated-key"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert sim_config_entry.data[CONF_API_KEY] == "regenerated-key"
    assert sim_config_entry.data[CONF_BASE_URL] == simulator.base_url
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("socket_enabled")
async def test_simulator_subentry_flow(
    hass: HomeAssistant, simulator: ThorSimulator, sim_config_entry: MockConfigEntry
) -> None:
    """Against the simulator: a chargebox added in Thor is offered and added."""
    sim_config_entry.add_to_hass(hass)
    shed = simulator.add_chargebox(alias="Shed", connectors=1)
    result = await _start_subentry_flow(hass, sim_config_entry)
    assert _options(result, CONF_CHARGEBOX_ID) == [
        {"value": shed.id, "label": f"Shed ({shed.id})"}
    ]
    result = await _configure_subentry(hass, result, {CONF_CHARGEBOX_ID: shed.id})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert _subentries(sim_config_entry)[-1] == (
        SUBENTRY_TYPE_CHARGEBOX,
        {CONF_CHARGEBOX_ID: shed.id},
        "Shed",
        shed.id,
    )

    result = await _start_subentry_flow(hass, sim_config_entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_chargeboxes_left"


# -------------------------------------------------------------- translations

TRANSLATIONS = Path(__file__).parents[1] / "custom_components/thor/translations"
# Everything the flows can show, by where it is translated.
CONFIG_ERRORS = {error for _, error in CHARGEBOX_ERRORS} | {
    "empty",
    "invalid_api_key",
    "invalid_url",
    "insecure_url",
    "no_chargebox_selected",
    "wrong_account",
}
CONFIG_ABORTS = {
    "account_already_configured",
    "already_configured",
    "reauth_successful",
    "reconfigure_successful",
}
SUBENTRY_ERRORS = {error for _, error in CHARGEBOX_ERRORS} | {"empty"}
SUBENTRY_ABORTS = {error for _, error in ACCOUNT_ERRORS} | {
    "already_configured",
    "no_chargeboxes_left",
    "invalid_url",
}


def _leaves(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """Return the dotted paths of the strings in a translation tree."""
    paths: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        paths |= _leaves(value, f"{path}.") if isinstance(value, dict) else {path}
    return paths


def _check_steps(steps: dict[str, Any]) -> None:
    """Every field of every form (and section) has a label and a description."""
    for step in steps.values():
        for form in (step, *step.get("sections", {}).values()):
            assert set(form["data"]) == set(form["data_description"])


@pytest.mark.parametrize("language", ["en", "it"])
def test_flow_strings_complete(language: str) -> None:
    """Every error and abort the flows show is translated, and every field described."""
    strings = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
    config = strings["config"]
    assert set(config["error"]) == CONFIG_ERRORS
    assert set(config["abort"]) == CONFIG_ABORTS
    assert set(config["step"]) == {
        "user",
        "chargebox",
        "chargebox_manual",
        "reauth_confirm",
        "reconfigure",
    }
    _check_steps(config["step"])

    chargebox = strings["config_subentries"][SUBENTRY_TYPE_CHARGEBOX]
    assert set(chargebox["initiate_flow"]) == {"user"}
    assert chargebox["entry_type"]
    assert set(chargebox["step"]) == {"chargebox", "manual"}
    assert set(chargebox["error"]) == SUBENTRY_ERRORS
    assert set(chargebox["abort"]) == SUBENTRY_ABORTS
    _check_steps(chargebox["step"])

    assert set(strings["selector"]["environment"]["options"]) == {
        ENVIRONMENT_PRODUCTION,
        ENVIRONMENT_DEVELOPMENT,
    }
    english = json.loads((TRANSLATIONS / "en.json").read_text("utf-8"))
    for section in ("config", "config_subentries"):
        assert _leaves(strings[section]) == _leaves(english[section])
