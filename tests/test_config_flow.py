"""Tests of the Thor config flow: user, chargebox, reauth and reconfigure steps."""

from collections.abc import Generator
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock, patch

from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_ENVIRONMENT,
    DOMAIN,
    ENVIRONMENT_DEVELOPMENT,
    ENVIRONMENT_PRODUCTION,
)
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
    ThorRateLimitError,
    ThorResponseError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorTimeoutError,
)
from tests.conftest import API_KEY, CHARGEBOX_ID
from thor_simulator import ThorSimulator

GARAGE = Chargebox.from_dict({"id": CHARGEBOX_ID, "alias": "Garage", "connectors": []})
CARPORT = Chargebox.from_dict({"id": "CB-CARPORT", "alias": None, "connectors": []})

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
CHARGEBOX_ERRORS = [
    *ACCOUNT_ERRORS,
    (ThorChargeboxNotActiveError("ChargeboxNotActive"), "chargebox_not_active"),
    (ThorChargeboxNotFoundError("ChargeboxNotFound"), "chargebox_not_found"),
    (ThorResponseError("not JSON"), "invalid_response"),
    (ThorAccessDeniedError("HTTP 403"), "access_denied"),
    (ThorError("HTTP 418"), "request_failed"),
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


def _fields(result: ConfigFlowResult) -> dict[Any, Any]:
    """Return the fields of a form: marker -> selector or section."""
    schema = result["data_schema"]
    assert schema is not None
    return dict(schema.schema)


def _suggested(result: ConfigFlowResult, key: str, section: str | None = None) -> Any:
    """Return the value a form suggests for a field (None when it suggests none)."""
    fields = _fields(result)
    if section is not None:
        fields = dict(fields[section].schema.schema)
    marker = next(k for k in fields if k == key)
    return (marker.description or {}).get("suggested_value")


def _options(result: ConfigFlowResult) -> list[dict[str, str]]:
    """Return the chargeboxes offered by the dropdown."""
    options: list[dict[str, str]] = _fields(result)[CONF_CHARGEBOX_ID].config["options"]
    return options


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep the created entries from loading the integration."""
    with patch(
        "custom_components.thor.async_setup_entry", return_value=True
    ) as setup_entry:
        yield setup_entry


@pytest.fixture
def mock_client() -> Generator[MagicMock]:
    """Return the client the flow builds, with two chargeboxes on the account."""
    with patch(
        "custom_components.thor.config_flow.ThorClient", autospec=True
    ) as client_class:
        client = client_class.return_value
        client.list_chargeboxes.return_value = [GARAGE, CARPORT]
        client.get_chargebox.return_value = GARAGE
        yield client_class


@pytest.fixture
def mock_config_entry(
    mock_config_entry: MockConfigEntry, hass: HomeAssistant
) -> MockConfigEntry:
    """Return the Garage chargebox entry, added to Home Assistant (not loaded)."""
    mock_config_entry.add_to_hass(hass)
    return mock_config_entry


async def _start_user_flow(hass: HomeAssistant) -> ConfigFlowResult:
    """Open the user step."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )


async def _to_chargebox_step(hass: HomeAssistant, **settings: Any) -> ConfigFlowResult:
    """Fill the user step; return the chargebox step that follows."""
    result = await _start_user_flow(hass)
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(**settings)
    )


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_picks_chargebox_from_list(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """Key, then a dropdown of the account's chargeboxes, then the entry."""
    result = await _start_user_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key=f"  {API_KEY}  ")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "chargebox"
    assert _options(result) == [
        {"value": CHARGEBOX_ID, "label": f"Garage ({CHARGEBOX_ID})"},
        {"value": "CB-CARPORT", "label": "CB-CARPORT"},
    ]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    assert result["data"] == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
        CONF_CHARGEBOX_ID: CHARGEBOX_ID,
    }
    assert result["result"].unique_id == CHARGEBOX_ID
    mock_client.return_value.get_chargebox.assert_awaited_once_with(CHARGEBOX_ID)
    # The key is stripped and the production host used, on HA's shared session.
    mock_client.assert_called_with(
        session=async_get_clientsession(hass),
        api_key=API_KEY,
        base_url=PRODUCTION_BASE_URL,
    )


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_development_environment(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """The development environment talks to the development host."""
    result = await _to_chargebox_step(hass, environment=ENVIRONMENT_DEVELOPMENT)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ENVIRONMENT] == ENVIRONMENT_DEVELOPMENT
    assert CONF_BASE_URL not in result["data"]
    assert mock_client.call_args.kwargs["base_url"] == DEVELOPMENT_BASE_URL


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/latest/integration"),
        (
            "  http://192.168.1.20:8765/latest/integration/  ",
            "http://192.168.1.20:8765/latest/integration",
        ),
        ("http://10.0.0.5:8080/thor/", "http://10.0.0.5:8080/thor"),
        ("http://localhost:8765", "http://localhost:8765/latest/integration"),
        ("http://[::1]:8765", "http://[::1]:8765/latest/integration"),
        ("https://thor.example.com/", "https://thor.example.com/latest/integration"),
        ("https://thor.example.com/api", "https://thor.example.com/api"),
    ],
)
async def test_user_flow_custom_base_url(
    hass: HomeAssistant, mock_client: MagicMock, typed: str, stored: str
) -> None:
    """A custom base URL is normalised, stored and used instead of the environment."""
    result = await _to_chargebox_step(hass, base_url=typed)
    assert result["step_id"] == "chargebox"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_BASE_URL] == stored
    assert mock_client.call_args.kwargs["base_url"] == stored


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_blank_base_url_is_ignored(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """A base URL of spaces means "use the environment"."""
    result = await _to_chargebox_step(hass, base_url="   ")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert CONF_BASE_URL not in result["data"]


@pytest.mark.usefixtures("mock_setup_entry")
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
    result = await _to_chargebox_step(hass, base_url=typed)
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


@pytest.mark.usefixtures("mock_setup_entry")
async def test_user_flow_refuses_empty_api_key(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """A key made of spaces is refused without asking Thor."""
    result = await _to_chargebox_step(hass, api_key="   ")
    assert result["step_id"] == "user"
    assert result["errors"] == {CONF_API_KEY: "empty"}
    mock_client.return_value.list_chargeboxes.assert_not_awaited()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings()
    )
    assert result["step_id"] == "chargebox"


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(("exception", "error"), ACCOUNT_ERRORS)
async def test_user_flow_errors(
    hass: HomeAssistant, mock_client: MagicMock, exception: Exception, error: str
) -> None:
    """Account errors of the list are shown on the first form, then the user recovers."""
    client = mock_client.return_value
    client.list_chargeboxes.side_effect = exception
    result = await _to_chargebox_step(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}

    client.list_chargeboxes.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings()
    )
    assert result["step_id"] == "chargebox"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    "list_outcome",
    [
        [],
        ThorChargeboxNotFoundError("ChargeboxNotFound"),
        ThorResponseError("not a JSON array"),
        ThorAccessDeniedError("HTTP 403"),
    ],
    ids=["empty", "not_found", "bad_response", "access_denied"],
)
async def test_user_flow_asks_for_id_without_list(
    hass: HomeAssistant, mock_client: MagicMock, list_outcome: Any
) -> None:
    """An empty or unreadable list leads to a text field for the id."""
    client = mock_client.return_value
    if isinstance(list_outcome, Exception):
        client.list_chargeboxes.side_effect = list_outcome
    else:
        client.list_chargeboxes.return_value = list_outcome
    result = await _to_chargebox_step(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "chargebox_manual"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: f"  {CHARGEBOX_ID} "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    assert result["data"][CONF_CHARGEBOX_ID] == CHARGEBOX_ID
    client.get_chargebox.assert_awaited_once_with(CHARGEBOX_ID)


@pytest.mark.usefixtures("mock_setup_entry")
async def test_manual_id_errors_then_success(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """An empty id, then an unknown id, are refused; the right id creates the entry."""
    client = mock_client.return_value
    client.list_chargeboxes.return_value = []
    result = await _to_chargebox_step(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: "   "}
    )
    assert result["step_id"] == "chargebox_manual"
    assert result["errors"] == {CONF_CHARGEBOX_ID: "empty"}
    client.get_chargebox.assert_not_awaited()

    client.get_chargebox.side_effect = ThorChargeboxNotFoundError("ChargeboxNotFound")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: "CB-TYPO"}
    )
    assert result["step_id"] == "chargebox_manual"
    assert result["errors"] == {"base": "chargebox_not_found"}
    assert _suggested(result, CONF_CHARGEBOX_ID) == "CB-TYPO"

    client.get_chargebox.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(("exception", "error"), CHARGEBOX_ERRORS)
async def test_chargebox_errors(
    hass: HomeAssistant,
    mock_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
    exception: Exception,
    error: str,
) -> None:
    """Errors reading the chosen chargebox are shown; a retry creates the entry."""
    client = mock_client.return_value
    client.get_chargebox.side_effect = exception
    result = await _to_chargebox_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "chargebox"
    assert result["errors"] == {"base": error}
    assert API_KEY not in caplog.text

    client.get_chargebox.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"


async def test_unexpected_error_is_logged(
    hass: HomeAssistant, mock_client: MagicMock, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected error is logged with its traceback, never with the key."""
    mock_client.return_value.list_chargeboxes.side_effect = RuntimeError("bug")
    result = await _to_chargebox_step(hass)
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error listing the Thor chargeboxes" in caplog.text
    assert "RuntimeError: bug" in caplog.text
    assert API_KEY not in caplog.text


@pytest.mark.usefixtures("mock_setup_entry")
async def test_chargebox_already_configured(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """Adding the same chargebox again aborts."""
    result = await _to_chargebox_step(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: CHARGEBOX_ID}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_reauth(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_setup_entry: AsyncMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Only the new key is asked; it must read the entry's chargebox; then reload."""
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert list(_fields(result)) == [CONF_API_KEY]
    assert result["description_placeholders"] == {
        "name": "Garage",
        "chargebox_id": CHARGEBOX_ID,
    }

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: " new-api-key "}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data == {
        CONF_API_KEY: "new-api-key",
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
        CONF_CHARGEBOX_ID: CHARGEBOX_ID,
    }
    mock_client.return_value.get_chargebox.assert_awaited_once_with(CHARGEBOX_ID)
    mock_client.assert_called_once_with(
        session=async_get_clientsession(hass),
        api_key="new-api-key",
        base_url=PRODUCTION_BASE_URL,
    )
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("exception", "error"),
    [
        (ThorAuthenticationError("APIKeyNotFound"), "invalid_auth"),
        (ThorChargeboxNotFoundError("ChargeboxNotFound"), "wrong_chargebox"),
        (ThorChargeboxNotActiveError("ChargeboxNotActive"), "chargebox_not_active"),
        (ThorSourceIPError("InvalidSourceIPAddr"), "source_ip_refused"),
        (ThorConnectionError("down"), "cannot_connect"),
        (RuntimeError("bug"), "unknown"),
    ],
)
async def test_reauth_errors(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    exception: Exception,
    error: str,
) -> None:
    """A key that cannot read the chargebox is refused; the right key then works."""
    client = mock_client.return_value
    client.get_chargebox.side_effect = exception
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "other-key"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": error}
    assert mock_config_entry.data[CONF_API_KEY] == API_KEY

    client.get_chargebox.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-api-key"}
    )
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_API_KEY] == "new-api-key"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reauth_refuses_empty_key(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """A key made of spaces is refused without asking Thor."""
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "  "}
    )
    assert result["errors"] == {CONF_API_KEY: "empty"}
    mock_client.return_value.get_chargebox.assert_not_awaited()


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reauth_answer_for_other_chargebox_aborts(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """If Thor answers with another chargebox, the entry is left alone."""
    mock_client.return_value.get_chargebox.return_value = CARPORT
    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new-api-key"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_chargebox"
    assert mock_config_entry.data[CONF_API_KEY] == API_KEY


async def test_reconfigure(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_setup_entry: AsyncMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Key and environment change; the stored key is never shown; then reload."""
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert _suggested(result, CONF_API_KEY) is None
    assert _suggested(result, CONF_ENVIRONMENT) == ENVIRONMENT_PRODUCTION
    assert _suggested(result, CONF_BASE_URL, "advanced") == ""
    assert _fields(result)["advanced"].options == {"collapsed": True}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _settings(
            api_key="new-api-key",
            environment=ENVIRONMENT_PRODUCTION,
            base_url="http://192.168.1.20:8765",
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data == {
        CONF_API_KEY: "new-api-key",
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
        CONF_BASE_URL: "http://192.168.1.20:8765/latest/integration",
        CONF_CHARGEBOX_ID: CHARGEBOX_ID,
    }
    assert mock_config_entry.unique_id == CHARGEBOX_ID
    mock_client.return_value.get_chargebox.assert_awaited_once_with(CHARGEBOX_ID)
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_removes_custom_base_url(
    hass: HomeAssistant, mock_client: MagicMock
) -> None:
    """An entry on a custom URL shows it open; clearing it goes back to the host."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        unique_id=CHARGEBOX_ID,
        data={
            CONF_API_KEY: API_KEY,
            CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
            CONF_BASE_URL: "http://127.0.0.1:8765/latest/integration",
            CONF_CHARGEBOX_ID: CHARGEBOX_ID,
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert _fields(result)["advanced"].options == {"collapsed": False}
    assert (
        _suggested(result, CONF_BASE_URL, "advanced")
        == "http://127.0.0.1:8765/latest/integration"
    )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _settings(api_key=API_KEY, environment=ENVIRONMENT_DEVELOPMENT),
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_DEVELOPMENT,
        CONF_CHARGEBOX_ID: CHARGEBOX_ID,
    }
    assert mock_client.call_args.kwargs["base_url"] == DEVELOPMENT_BASE_URL


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reconfigure_refuses_other_chargebox(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """Settings that cannot read the entry's chargebox are refused."""
    client = mock_client.return_value
    client.get_chargebox.side_effect = ThorChargeboxNotFoundError("ChargeboxNotFound")
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key="key-of-another-account")
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wrong_chargebox"}
    assert result["description_placeholders"] == {
        "name": "Garage",
        "chargebox_id": CHARGEBOX_ID,
    }
    # What the user typed stays in the form.
    assert _suggested(result, CONF_API_KEY) == "key-of-another-account"

    client.get_chargebox.side_effect = None
    client.get_chargebox.return_value = CARPORT
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key="key-of-another-account")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_chargebox"
    assert mock_config_entry.data[CONF_API_KEY] == API_KEY


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("typed_or_raised", "error"),
    [
        ({"api_key": " "}, {CONF_API_KEY: "empty"}),
        ({"base_url": "http://thor.example.com"}, {"advanced": "insecure_url"}),
        (ThorAuthenticationError("APIKeyNotFound"), {"base": "invalid_auth"}),
        (ThorRestApiDisabledError("RestAPINotEnabled"), {"base": "rest_api_disabled"}),
        (ThorConnectionError("down"), {"base": "cannot_connect"}),
        (RuntimeError("bug"), {"base": "unknown"}),
    ],
)
async def test_reconfigure_errors(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    typed_or_raised: dict[str, str] | Exception,
    error: dict[str, str],
) -> None:
    """Bad input or Thor errors keep the form open and the entry unchanged."""
    client = mock_client.return_value
    settings = {"api_key": "new-api-key"}
    if isinstance(typed_or_raised, Exception):
        client.get_chargebox.side_effect = typed_or_raised
    else:
        settings |= typed_or_raised
    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(**settings)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == error
    assert mock_config_entry.data[CONF_API_KEY] == API_KEY

    client.get_chargebox.side_effect = None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _settings(api_key="new-api-key")
    )
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data[CONF_API_KEY] == "new-api-key"


# ----------------------------------------------------------------- simulator


@pytest.mark.usefixtures("socket_enabled", "mock_setup_entry")
async def test_simulator_user_flow(
    hass: HomeAssistant, simulator: ThorSimulator
) -> None:
    """Against the simulator: its chargebox is listed, picked and becomes the entry."""
    (chargebox_id,) = simulator.chargeboxes
    origin = simulator.base_url.removesuffix("/latest/integration")
    result = await _to_chargebox_step(hass, base_url=origin)
    assert result["step_id"] == "chargebox"
    assert _options(result) == [
        {"value": chargebox_id, "label": f"Garage ({chargebox_id})"}
    ]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_ID: chargebox_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage"
    assert result["result"].unique_id == chargebox_id
    assert result["data"] == {
        CONF_API_KEY: API_KEY,
        CONF_ENVIRONMENT: ENVIRONMENT_PRODUCTION,
        CONF_BASE_URL: simulator.base_url,
        CONF_CHARGEBOX_ID: chargebox_id,
    }


@pytest.mark.usefixtures("socket_enabled", "mock_setup_entry")
async def test_simulator_user_flow_errors(
    hass: HomeAssistant, simulator: ThorSimulator
) -> None:
    """Against the simulator: a wrong key and a disabled REST API are explained."""
    result = await _to_chargebox_step(
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


# -------------------------------------------------------------- translations

TRANSLATIONS = Path(__file__).parents[1] / "custom_components/thor/translations"


def _leaves(tree: dict[str, Any], prefix: str = "") -> set[str]:
    """Return the dotted paths of the strings in a translation tree."""
    paths: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        paths |= _leaves(value, f"{path}.") if isinstance(value, dict) else {path}
    return paths


@pytest.mark.parametrize("language", ["en", "it"])
def test_config_strings_complete(language: str) -> None:
    """Every error the flow shows is translated, and every field is described."""
    strings = json.loads((TRANSLATIONS / f"{language}.json").read_text("utf-8"))
    config = strings["config"]
    shown = {error for _, error in CHARGEBOX_ERRORS} | {
        "empty",
        "invalid_url",
        "insecure_url",
        "wrong_chargebox",
    }
    assert shown <= set(config["error"])
    assert {
        "already_configured",
        "reauth_successful",
        "reconfigure_successful",
        "wrong_chargebox",
    } <= set(config["abort"])
    for step in config["step"].values():
        for form in (step, *step.get("sections", {}).values()):
            assert set(form["data"]) == set(form["data_description"])
    assert set(strings["selector"]["environment"]["options"]) == {
        ENVIRONMENT_PRODUCTION,
        ENVIRONMENT_DEVELOPMENT,
    }
    english = json.loads((TRANSLATIONS / "en.json").read_text("utf-8"))
    assert _leaves(config) == _leaves(english["config"])
