"""Config flow of the Thor integration: API key, environment, chargebox."""

from collections.abc import Mapping
import ipaddress
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from yarl import URL

from .const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_ENVIRONMENT,
    DOMAIN,
    ENVIRONMENT_PRODUCTION,
    ENVIRONMENTS,
    LOGGER,
    base_url_from,
)
from .thor_api import (
    Chargebox,
    ThorAuthenticationError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorConnectionError,
    ThorError,
    ThorRateLimitError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
)

if TYPE_CHECKING:
    # Home Assistant 2026.10 aliases voluptuous to probatio; type-check against it.
    import probatio as vol
else:
    import voluptuous as vol

SECTION_ADVANCED: Final = "advanced"
API_PATH: Final = "/latest/integration"
"""Appended to a custom base URL that is only an origin (no path)."""

# Thor errors shown in the form, most specific first. Server errors and rate limits
# read as "cannot connect": the user can only try again later.
_ACCOUNT_ERRORS: Final[tuple[tuple[type[ThorError], str], ...]] = (
    (ThorAuthenticationError, "invalid_auth"),
    (ThorRestApiDisabledError, "rest_api_disabled"),
    (ThorSourceIPError, "source_ip_refused"),
    (ThorConnectionError, "cannot_connect"),
    (ThorServerError, "cannot_connect"),
    (ThorRateLimitError, "cannot_connect"),
)
_CHARGEBOX_ERRORS: Final[tuple[tuple[type[ThorError], str], ...]] = (
    *_ACCOUNT_ERRORS,
    (ThorChargeboxNotActiveError, "chargebox_not_active"),
    (ThorChargeboxNotFoundError, "chargebox_not_found"),
)

_API_KEY_SELECTOR: Final = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
)
_ENVIRONMENT_SELECTOR: Final = SelectSelector(
    SelectSelectorConfig(
        options=list(ENVIRONMENTS),
        mode=SelectSelectorMode.LIST,
        translation_key=CONF_ENVIRONMENT,
    )
)
_BASE_URL_SELECTOR: Final = TextSelector(
    TextSelectorConfig(type=TextSelectorType.URL, autocomplete="off")
)


class _BaseUrlError(Exception):
    """The custom base URL is refused; `key` is the translated error."""

    def __init__(self, key: str) -> None:
        """Keep the error key."""
        super().__init__(key)
        self.key = key


def _is_local_host(host: str) -> bool:
    """Return True for localhost and loopback or private IP literals."""
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def _normalize_base_url(value: str) -> str:
    """Return the custom base URL without trailing slash, with the API path if absent.

    https is accepted anywhere, plain http only for localhost and loopback or private
    addresses (a simulator on the local network). Raise `_BaseUrlError` otherwise.
    """
    try:
        url = URL(value.strip())
    except ValueError as err:
        raise _BaseUrlError("invalid_url") from err
    if (
        url.scheme not in ("http", "https")
        or not url.host
        or url.user is not None
        or url.query_string
        or url.fragment
    ):
        raise _BaseUrlError("invalid_url")
    if url.scheme == "http" and not _is_local_host(url.host):
        raise _BaseUrlError("insecure_url")
    path = url.raw_path.rstrip("/")
    return f"{url.origin()}{path or API_PATH}"


def _chargebox_label(chargebox: Chargebox) -> str:
    """Return the dropdown label of a chargebox: "Alias (id)", or the id alone."""
    if chargebox.alias and chargebox.alias != chargebox.id:
        return f"{chargebox.alias} ({chargebox.id})"
    return chargebox.id


def _error_key(
    err: Exception, known: tuple[tuple[type[ThorError], str], ...]
) -> str | None:
    """Return the form error of an exception, None when it is not a known one."""
    return next((key for cls, key in known if isinstance(err, cls)), None)


def _settings_schema(*, collapsed: bool = True) -> vol.Schema:
    """Return the schema of the API key, the environment and the advanced section."""
    return vol.Schema(
        {
            vol.Required(CONF_API_KEY): _API_KEY_SELECTOR,
            vol.Required(
                CONF_ENVIRONMENT, default=ENVIRONMENT_PRODUCTION
            ): _ENVIRONMENT_SELECTOR,
            vol.Required(SECTION_ADVANCED): section(
                vol.Schema({vol.Optional(CONF_BASE_URL): _BASE_URL_SELECTOR}),
                {"collapsed": collapsed},
            ),
        }
    )


def _settings_from_input(
    user_input: Mapping[str, Any],
) -> tuple[dict[str, str], dict[str, str]]:
    """Return the entry data typed in the settings form, and the form errors."""
    errors: dict[str, str] = {}
    data = {
        CONF_API_KEY: user_input[CONF_API_KEY].strip(),
        CONF_ENVIRONMENT: user_input[CONF_ENVIRONMENT],
    }
    if not data[CONF_API_KEY]:
        errors[CONF_API_KEY] = "empty"
    base_url = user_input.get(SECTION_ADVANCED, {}).get(CONF_BASE_URL, "").strip()
    if base_url:
        try:
            data[CONF_BASE_URL] = _normalize_base_url(base_url)
        except _BaseUrlError as err:
            # Shown above the section: the frontend has no per-field errors inside it.
            errors[SECTION_ADVANCED] = err.key
    return data, errors


def _entry_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the settings form's values for entry data, without the API key."""
    # Never send the stored API key back to the browser.
    return {
        CONF_ENVIRONMENT: data[CONF_ENVIRONMENT],
        SECTION_ADVANCED: {CONF_BASE_URL: data.get(CONF_BASE_URL, "")},
    }


class ThorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Thor chargebox: account settings first, then the chargebox."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no account settings."""
        self._settings: dict[str, str] = {}
        self._chargeboxes: list[Chargebox] = []

    def _client(self, settings: Mapping[str, Any]) -> ThorClient:
        """Return a client on Home Assistant's shared session."""
        return ThorClient(
            session=async_get_clientsession(self.hass),
            api_key=settings[CONF_API_KEY],
            base_url=base_url_from(settings),
        )

    async def _read_chargebox(
        self,
        settings: Mapping[str, Any],
        chargebox_id: str,
        *,
        not_found: str = "chargebox_not_found",
    ) -> tuple[Chargebox | None, dict[str, str]]:
        """Read one chargebox; return it, or the form errors."""
        try:
            chargebox = await self._client(settings).get_chargebox(chargebox_id)
        except Exception as err:  # noqa: BLE001 - shown as "unknown", and logged
            if (key := _error_key(err, _CHARGEBOX_ERRORS)) is None:
                LOGGER.exception("Unexpected error reading the Thor chargebox")
                key = "unknown"
            elif key == "chargebox_not_found":
                key = not_found
            return None, {"base": key}
        return chargebox, {}

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API key and the environment; list the account's chargeboxes."""
        errors: dict[str, str] = {}
        if user_input is not None:
            settings, errors = _settings_from_input(user_input)
            if not errors:
                errors = await self._list_chargeboxes(settings)
            if not errors:
                self._settings = settings
                if self._chargeboxes:
                    return await self.async_step_chargebox()
                return await self.async_step_chargebox_manual()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _settings_schema(), user_input
            ),
            errors=errors,
        )

    async def _list_chargeboxes(self, settings: Mapping[str, Any]) -> dict[str, str]:
        """Check the settings by listing the chargeboxes; return the form errors.

        A list that cannot be read for another reason than the account's is left
        empty: the next step then asks for the chargebox id.
        """
        self._chargeboxes = []
        try:
            self._chargeboxes = await self._client(settings).list_chargeboxes()
        except Exception as err:  # noqa: BLE001 - shown as "unknown", and logged
            if key := _error_key(err, _ACCOUNT_ERRORS):
                return {"base": key}
            if not isinstance(err, ThorError):
                LOGGER.exception("Unexpected error listing the Thor chargeboxes")
                return {"base": "unknown"}
            LOGGER.debug("Chargebox list not available, asking for the id: %s", err)
        return {}

    async def async_step_chargebox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the chargebox from the account's list."""
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._create_entry(user_input[CONF_CHARGEBOX_ID])
            if result is not None:
                return result
        options = [
            SelectOptionDict(value=chargebox.id, label=_chargebox_label(chargebox))
            for chargebox in self._chargeboxes
        ]
        return self.async_show_form(
            step_id="chargebox",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_CHARGEBOX_ID, default=self._chargeboxes[0].id
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=options, mode=SelectSelectorMode.DROPDOWN
                        )
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_chargebox_manual(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the chargebox id when the account's list is empty or unreadable."""
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._create_entry(user_input[CONF_CHARGEBOX_ID])
            if result is not None:
                return result
        return self.async_show_form(
            step_id="chargebox_manual",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_CHARGEBOX_ID): TextSelector(
                            TextSelectorConfig(autocomplete="off")
                        )
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def _create_entry(
        self, chargebox_id: str
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Read the chosen chargebox and create its entry; else return the errors."""
        if not (chargebox_id := chargebox_id.strip()):
            return None, {CONF_CHARGEBOX_ID: "empty"}
        chargebox, errors = await self._read_chargebox(self._settings, chargebox_id)
        if chargebox is None:
            return None, errors
        await self.async_set_unique_id(chargebox.id)
        self._abort_if_unique_id_configured()
        return (
            self.async_create_entry(
                title=chargebox.name,
                data={**self._settings, CONF_CHARGEBOX_ID: chargebox.id},
            ),
            {},
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Thor refused the API key: ask for the new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check that the new API key reads the same chargebox, then reload."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            settings = {**entry.data, CONF_API_KEY: user_input[CONF_API_KEY].strip()}
            if not settings[CONF_API_KEY]:
                errors[CONF_API_KEY] = "empty"
            else:
                errors = await self._check_same_chargebox(
                    settings, entry.data[CONF_CHARGEBOX_ID]
                )
            if not errors:
                return self.async_update_reload_and_abort(entry, data=settings)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_KEY): _API_KEY_SELECTOR}),
            description_placeholders={
                "name": entry.title,
                "chargebox_id": entry.data[CONF_CHARGEBOX_ID],
            },
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the API key, the environment or the custom base URL."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            settings, errors = _settings_from_input(user_input)
            if not errors:
                errors = await self._check_same_chargebox(
                    settings, entry.data[CONF_CHARGEBOX_ID]
                )
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    data={**settings, CONF_CHARGEBOX_ID: entry.data[CONF_CHARGEBOX_ID]},
                )
        suggested = user_input or _entry_settings(entry.data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _settings_schema(collapsed=CONF_BASE_URL not in entry.data), suggested
            ),
            description_placeholders={
                "name": entry.title,
                "chargebox_id": entry.data[CONF_CHARGEBOX_ID],
            },
            errors=errors,
        )

    async def _check_same_chargebox(
        self, settings: Mapping[str, Any], chargebox_id: str
    ) -> dict[str, str]:
        """Check that the settings read the entry's chargebox; return the errors.

        A key of another account does not find the chargebox: that would point the
        entry at something else, so it is refused.
        """
        chargebox, errors = await self._read_chargebox(
            settings, chargebox_id, not_found="wrong_chargebox"
        )
        if chargebox is not None:
            await self.async_set_unique_id(chargebox.id, raise_on_progress=False)
            self._abort_if_unique_id_mismatch(reason="wrong_chargebox")
        return errors
