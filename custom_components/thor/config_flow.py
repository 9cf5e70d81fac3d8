"""Config flow of the Thor integration: one entry per account, a subentry per chargebox."""

from collections.abc import Iterable, Mapping
from typing import Any, Final, override

from homeassistant.components import webhook
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import AbortFlow, section
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_CHARGEBOX_IDS,
    CONF_ENVIRONMENT,
    CONF_PUSH,
    DASHBOARD_HELP_URL,
    DOMAIN,
    ENVIRONMENT_PRODUCTION,
    ENVIRONMENTS,
    LOGGER,
    SUBENTRY_TYPE_CHARGEBOX,
    account_title,
)
from .entries import (
    account_identity,
    async_client,
    async_get_backoff,
    chargebox_subentries,
)
from .errors import FailureKind, IssueScope, ThorFailure, classify
from .push import PushUnavailableError, async_webhook_url
from .thor_api import (
    Chargebox,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorError,
    ThorInsecureBaseUrlError,
    ThorInvalidApiKeyError,
    ThorInvalidBaseUrlError,
    check_api_key,
    normalize_base_url,
)
from .vol import vol

SECTION_ADVANCED: Final = "advanced"

# How the form shows each kind of failure; the others show the failure's own key.
_FORM_ERRORS: Final = {
    FailureKind.AUTH: "invalid_auth",
    # The user can only try again later.
    FailureKind.TRANSIENT: "cannot_connect",
    FailureKind.RATE_LIMIT: "cannot_connect",
    # The forms only read: a refusal meant for a command is just a refusal here.
    FailureKind.REFUSAL: "request_failed",
}
# Failures of the whole account (with those of an account-wide repair issue): they
# make the chargebox list useless. After the others the list is only unreadable, and
# the chargebox id is asked for instead.
_ACCOUNT_KINDS: Final = frozenset(
    {FailureKind.AUTH, FailureKind.TRANSIENT, FailureKind.RATE_LIMIT}
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
_CHARGEBOX_ID_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_CHARGEBOX_ID): TextSelector(
            TextSelectorConfig(autocomplete="off")
        )
    }
)


def _chargebox_label(chargebox: Chargebox) -> str:
    """Return the label of a chargebox in a list: "Alias (id)", or the id alone."""
    if chargebox.alias and chargebox.alias != chargebox.id:
        return f"{chargebox.alias} ({chargebox.id})"
    return chargebox.id


def _chargebox_options(chargeboxes: Iterable[Chargebox]) -> list[SelectOptionDict]:
    """Return the options of a chargebox selector."""
    return [
        SelectOptionDict(value=chargebox.id, label=_chargebox_label(chargebox))
        for chargebox in chargeboxes
    ]


def _chargebox_subentry(chargebox: Chargebox) -> ConfigSubentryData:
    """Return the subentry of a chargebox created with its account entry."""
    return ConfigSubentryData(
        data={CONF_CHARGEBOX_ID: chargebox.id},
        subentry_type=SUBENTRY_TYPE_CHARGEBOX,
        title=chargebox.name,
        unique_id=chargebox.id,
    )


def _form_error(failure: ThorFailure) -> str:
    """Return the form error that shows a failure."""
    return _FORM_ERRORS.get(failure.kind, failure.key)


def _is_account_failure(failure: ThorFailure) -> bool:
    """Return whether a failure concerns the whole account, not one chargebox."""
    return failure.kind in _ACCOUNT_KINDS or failure.scope is IssueScope.ACCOUNT


def _api_key_from(value: str, errors: dict[str, str]) -> str:
    """Return the typed API key, or add why it cannot be sent to `errors`."""
    try:
        return check_api_key(value)
    except ThorInvalidApiKeyError:
        # Checked before any request: aiohttp refuses line breaks in a header.
        errors[CONF_API_KEY] = "empty" if not value.strip() else "invalid_api_key"
        return value


def _settings_schema(
    *, collapsed: bool = True, key_required: bool = True
) -> vol.Schema:
    """Return the schema of the API key, the environment and the advanced section."""
    key_marker = vol.Required if key_required else vol.Optional
    return vol.Schema(
        {
            key_marker(CONF_API_KEY): _API_KEY_SELECTOR,
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
    user_input: Mapping[str, Any], *, stored_key: str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """Return the entry data typed in the settings form, and the form errors.

    With `stored_key`, an API key left empty keeps that one.
    """
    errors: dict[str, str] = {}
    typed_key = user_input.get(CONF_API_KEY, "")
    api_key = (
        stored_key
        if stored_key is not None and not typed_key.strip()
        else _api_key_from(typed_key, errors)
    )
    data = {CONF_API_KEY: api_key, CONF_ENVIRONMENT: user_input[CONF_ENVIRONMENT]}
    base_url = user_input.get(SECTION_ADVANCED, {}).get(CONF_BASE_URL, "").strip()
    if base_url:
        try:
            data[CONF_BASE_URL] = normalize_base_url(base_url)
        except ThorInvalidBaseUrlError as err:
            # Shown above the section: the frontend has no per-field errors inside it.
            errors[SECTION_ADVANCED] = (
                "insecure_url"
                if isinstance(err, ThorInsecureBaseUrlError)
                else "invalid_url"
            )
    return data, errors


def _entry_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the settings form's values for entry data, without the API key."""
    # Never send the stored API key back to the browser.
    return {
        CONF_ENVIRONMENT: data[CONF_ENVIRONMENT],
        SECTION_ADVANCED: {CONF_BASE_URL: data.get(CONF_BASE_URL, "")},
    }


def _entry_chargebox_ids(entry: ConfigEntry) -> list[str]:
    """Return the ids of the chargeboxes of an account entry."""
    return list(chargebox_subentries(entry))


@callback
def _configured_chargeboxes(hass: HomeAssistant) -> dict[str, ConfigEntry]:
    """Return the entry of each chargebox configured in any Thor entry, by id."""
    configured: dict[str, ConfigEntry] = {}
    for entry in hass.config_entries.async_entries(DOMAIN, include_ignore=False):
        # An entry not yet migrated to accounts names its one chargebox in its data.
        if chargebox_id := entry.data.get(CONF_CHARGEBOX_ID):
            configured[str(chargebox_id)] = entry
        for chargebox_id in _entry_chargebox_ids(entry):
            configured[chargebox_id] = entry
    return configured


async def _list_chargeboxes(
    client: ThorClient,
) -> tuple[list[Chargebox] | None, str | None]:
    """List the account's chargeboxes, inactive ones too.

    Return the list, or None when it cannot be read for another reason than the
    account's (then a chargebox id is asked for); or the form error of a failure of
    the whole account.
    """
    try:
        return await client.list_chargeboxes(only_active=False), None
    except ThorError as err:
        failure = classify(err)
        if _is_account_failure(failure):
            LOGGER.debug("Listing the Thor chargeboxes failed: %s", err)
            return None, _form_error(failure)
        LOGGER.debug("Chargebox list not available, asking for the id: %s", err)
        return None, None
    except Exception:  # noqa: BLE001 - shown as "unknown", and logged
        LOGGER.exception("Unexpected error listing the Thor chargeboxes")
        return None, "unknown"


async def _read_typed_chargebox(
    hass: HomeAssistant,
    client: ThorClient,
    user_input: Mapping[str, Any],
    errors: dict[str, str],
) -> Chargebox | None:
    """Read the chargebox whose id was typed; None with the form errors set.

    A chargebox configured in any Thor entry aborts the flow (`already_configured`)
    before Thor is asked.
    """
    chargebox_id = user_input[CONF_CHARGEBOX_ID].strip()
    if not chargebox_id:
        errors[CONF_CHARGEBOX_ID] = "empty"
        return None
    if chargebox_id in _configured_chargeboxes(hass):
        raise AbortFlow("already_configured")
    try:
        return await client.get_chargebox(chargebox_id)
    except ThorError as err:
        LOGGER.debug("Reading Thor chargebox failed: %s", err)
        errors["base"] = _form_error(classify(err))
    except Exception:  # noqa: BLE001 - shown as "unknown", and logged
        LOGGER.exception("Unexpected error reading the Thor chargebox")
        errors["base"] = "unknown"
    return None


async def _unreadable_chargeboxes(
    client: ThorClient, chargebox_ids: list[str]
) -> tuple[list[str], str | None]:
    """Return the chargeboxes the client cannot find, or the form error of a failure.

    Used before new settings replace an entry's: a key of another account would leave
    the entry's chargeboxes unreachable.
    """
    listed, error = await _list_chargeboxes(client)
    if error is not None:
        return [], error
    found = {chargebox.id for chargebox in listed or ()}
    missing: list[str] = []
    for chargebox_id in chargebox_ids:
        if chargebox_id in found:
            continue
        # A chargebox typed by hand may be one the list leaves out: ask for it alone.
        try:
            await client.get_chargebox(chargebox_id)
        except ThorChargeboxNotFoundError:
            missing.append(chargebox_id)
        except ThorChargeboxNotActiveError:
            # The account has it; it is only switched off in the dashboard.
            pass
        except ThorError as err:
            LOGGER.debug("Reading Thor chargebox %s failed: %s", chargebox_id, err)
            return [], _form_error(classify(err))
        except Exception:  # noqa: BLE001 - shown as "unknown", and logged
            LOGGER.exception("Unexpected error reading the Thor chargebox")
            return [], "unknown"
    return missing, None


class ThorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Thor account: its settings, then the chargeboxes to add."""

    VERSION = 2

    def __init__(self) -> None:
        """Start with no account settings."""
        self._settings: dict[str, str] = {}
        self._chargeboxes: dict[str, Chargebox] = {}

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Push (Thor's notifications) is an option of the account."""
        return ThorOptionsFlow()

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Each chargebox of the account is a subentry."""
        return {SUBENTRY_TYPE_CHARGEBOX: ChargeboxSubentryFlow}

    def _account_entry(
        self, settings: Mapping[str, Any], chargebox_ids: Iterable[str] = ()
    ) -> ConfigEntry | None:
        """Return the entry that already has this account, if any.

        Thor has no account id to use as unique id: an account is recognised by one
        of its chargeboxes, or by its key when its list is empty.
        """
        configured = _configured_chargeboxes(self.hass)
        if entry := next(
            (configured[i] for i in chargebox_ids if i in configured), None
        ):
            return entry
        return next(
            (
                entry
                for entry in self.hass.config_entries.async_entries(
                    DOMAIN, include_ignore=False
                )
                if account_identity(entry.data) == account_identity(settings)
            ),
            None,
        )

    def _abort_account_configured(self, entry: ConfigEntry) -> ConfigFlowResult:
        """Abort: the account is set up; its chargeboxes are added from its entry."""
        return self.async_abort(
            reason="account_already_configured",
            description_placeholders={"title": entry.title},
        )

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API key and the environment; list the account's chargeboxes."""
        errors: dict[str, str] = {}
        if user_input is not None:
            settings, errors = _settings_from_input(user_input)
            if not errors:
                return await self._async_list_account(settings, user_input)
        return self._show_user_form(user_input, errors)

    def _show_user_form(
        self, user_input: dict[str, Any] | None, errors: dict[str, str]
    ) -> ConfigFlowResult:
        """Show the account settings form, with what the user typed."""
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _settings_schema(), user_input
            ),
            errors=errors,
        )

    async def _async_list_account(
        self, settings: dict[str, str], user_input: dict[str, Any]
    ) -> ConfigFlowResult:
        """List the chargeboxes of valid settings; go on to choosing them."""
        if entry := self._account_entry(settings):
            return self._abort_account_configured(entry)
        listed, error = await _list_chargeboxes(async_client(self.hass, settings))
        if error is not None:
            return self._show_user_form(user_input, {"base": error})
        self._settings = settings
        self._chargeboxes = {chargebox.id: chargebox for chargebox in listed or ()}
        if entry := self._account_entry(settings, self._chargeboxes):
            return self._abort_account_configured(entry)
        if self._chargeboxes:
            return await self.async_step_chargebox()
        return await self.async_step_chargebox_manual()

    async def async_step_chargebox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the chargeboxes to add from the account's list."""
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = [
                self._chargeboxes[chargebox_id]
                for chargebox_id in user_input.get(CONF_CHARGEBOX_IDS, [])
                if chargebox_id in self._chargeboxes
            ]
            if chosen:
                # Another flow may have added the account meanwhile.
                if entry := self._account_entry(
                    self._settings, (box.id for box in chosen)
                ):
                    return self._abort_account_configured(entry)
                return self.async_create_entry(
                    title=account_title(self._settings),
                    data=self._settings,
                    subentries=[_chargebox_subentry(box) for box in chosen],
                )
            errors["base"] = "no_chargebox_selected"
        # A lone chargebox is preselected; out of several the user picks.
        suggested = (
            {CONF_CHARGEBOX_IDS: list(self._chargeboxes)}
            if len(self._chargeboxes) == 1
            else None
        )
        return self.async_show_form(
            step_id="chargebox",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        # Optional: an empty choice gets a clear error, not a schema one.
                        vol.Optional(CONF_CHARGEBOX_IDS, default=[]): SelectSelector(
                            SelectSelectorConfig(
                                options=_chargebox_options(self._chargeboxes.values()),
                                multiple=True,
                                mode=SelectSelectorMode.LIST,
                            )
                        )
                    }
                ),
                suggested,
            ),
            errors=errors,
        )

    async def async_step_chargebox_manual(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a chargebox id when the account's list is empty or unreadable."""
        errors: dict[str, str] = {}
        if (
            user_input is not None
            and (
                chargebox := await _read_typed_chargebox(
                    self.hass,
                    async_client(self.hass, self._settings),
                    user_input,
                    errors,
                )
            )
            is not None
        ):
            return self.async_create_entry(
                title=account_title(self._settings),
                data=self._settings,
                subentries=[_chargebox_subentry(chargebox)],
            )
        return self.async_show_form(
            step_id="chargebox_manual",
            data_schema=self.add_suggested_values_to_schema(
                _CHARGEBOX_ID_SCHEMA, user_input
            ),
            errors=errors,
        )

    def _async_update_and_reload(
        self, entry: ConfigEntry, *, data: Mapping[str, Any], title: str | None = None
    ) -> ConfigFlowResult:
        """Store the new settings, have the entry set up again with them, and finish.

        A loaded entry reloads itself through its update listener when its data
        changes; otherwise (unchanged key, or setup failed before the listener was
        added) the reload is asked for here.
        """
        changed = self.hass.config_entries.async_update_entry(
            entry, data=data, title=entry.title if title is None else title
        )
        if not changed or not entry.update_listeners:
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(
            reason="reauth_successful"
            if self.source == SOURCE_REAUTH
            else "reconfigure_successful"
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Thor refused the API key: ask for the new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check that the new API key reads every chargebox of the entry, then reload."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        placeholders = {"name": entry.title}
        if user_input is not None:
            api_key = _api_key_from(user_input[CONF_API_KEY], errors)
            if not errors:
                errors = await self._check_same_account(
                    entry, {**entry.data, CONF_API_KEY: api_key}, placeholders
                )
            if not errors:
                return self._async_update_and_reload(
                    entry, data={**entry.data, CONF_API_KEY: api_key}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_KEY): _API_KEY_SELECTOR}),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the API key, the environment or the custom base URL."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {"name": entry.title}
        if user_input is not None:
            settings, errors = _settings_from_input(
                user_input, stored_key=entry.data[CONF_API_KEY]
            )
            if not errors:
                errors = await self._check_same_account(entry, settings, placeholders)
            if not errors:
                # A title the user chose is kept; the automatic one follows the host.
                automatic = entry.title == account_title(entry.data)
                return self._async_update_and_reload(
                    entry,
                    data=settings,
                    title=account_title(settings) if automatic else entry.title,
                )
        suggested = user_input or _entry_settings(entry.data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _settings_schema(
                    collapsed=CONF_BASE_URL not in entry.data, key_required=False
                ),
                suggested,
            ),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def _check_same_account(
        self,
        entry: ConfigEntry,
        settings: Mapping[str, Any],
        placeholders: dict[str, str],
    ) -> dict[str, str]:
        """Check that new settings read every chargebox of the entry; return errors.

        A key of another account would leave the entry's chargeboxes unreachable, so
        it is refused; the missing ids go to `placeholders`.
        """
        missing, error = await _unreadable_chargeboxes(
            async_client(self.hass, settings), _entry_chargebox_ids(entry)
        )
        if error is not None:
            return {"base": error}
        if missing:
            placeholders["chargeboxes"] = ", ".join(missing)
            return {"base": "wrong_account"}
        return {}


class ChargeboxSubentryFlow(ConfigSubentryFlow):
    """Add a chargebox of the account to its entry."""

    _client: ThorClient
    """The entry's settings, with its shared back-off; built by the first step."""

    def __init__(self) -> None:
        """Start with no chargebox list."""
        self._chargeboxes: dict[str, Chargebox] = {}

    def _create_subentry(self, chargebox: Chargebox) -> SubentryFlowResult:
        """Add the chargebox to the account entry."""
        return self.async_create_entry(
            title=chargebox.name,
            data={CONF_CHARGEBOX_ID: chargebox.id},
            unique_id=chargebox.id,
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """List the account's chargeboxes that no Thor entry has yet."""
        entry = self._get_entry()
        try:
            self._client = async_client(
                self.hass,
                entry.data,
                backoff=async_get_backoff(self.hass, entry.entry_id),
            )
        except ThorInvalidApiKeyError:
            # Stored before keys were checked: only a new key helps.
            return self.async_abort(reason="invalid_auth")
        except ThorInvalidBaseUrlError:
            return self.async_abort(reason="invalid_url")
        listed, error = await _list_chargeboxes(self._client)
        if error is not None:
            # Nothing to fix in this flow: the entry itself needs attention.
            return self.async_abort(reason=error)
        if not listed:
            return await self.async_step_manual()
        configured = _configured_chargeboxes(self.hass)
        self._chargeboxes = {box.id: box for box in listed if box.id not in configured}
        if not self._chargeboxes:
            return self.async_abort(reason="no_chargeboxes_left")
        return await self.async_step_chargebox()

    async def async_step_chargebox(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Pick one chargebox from the list."""
        if user_input is not None:
            chargebox = self._chargeboxes[user_input[CONF_CHARGEBOX_ID]]
            # Another flow may have added it meanwhile.
            if chargebox.id in _configured_chargeboxes(self.hass):
                return self.async_abort(reason="already_configured")
            return self._create_subentry(chargebox)
        return self.async_show_form(
            step_id="chargebox",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_CHARGEBOX_ID, default=next(iter(self._chargeboxes))
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=_chargebox_options(self._chargeboxes.values()),
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
        )

    async def async_step_manual(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Ask for a chargebox id when the account's list is empty or unreadable."""
        errors: dict[str, str] = {}
        if (
            user_input is not None
            and (
                chargebox := await _read_typed_chargebox(
                    self.hass, self._client, user_input, errors
                )
            )
            is not None
        ):
            return self._create_subentry(chargebox)
        return self.async_show_form(
            step_id="manual",
            data_schema=self.add_suggested_values_to_schema(
                _CHARGEBOX_ID_SCHEMA, user_input
            ),
            errors=errors,
        )


class ThorOptionsFlow(OptionsFlow):
    """Switch push on or off; show the address to paste into the Thor dashboard."""

    def __init__(self) -> None:
        """Start without an address."""
        self._webhook_id = ""
        self._url = ""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask whether Thor's notifications should be received."""
        options = self.config_entry.options
        errors: dict[str, str] = {}
        if user_input is not None:
            # Kept when push is switched off: the address stays the same.
            self._webhook_id = (
                options.get(CONF_WEBHOOK_ID) or webhook.async_generate_id()
            )
            if not user_input[CONF_PUSH]:
                return self.async_create_entry(
                    data={CONF_PUSH: False, CONF_WEBHOOK_ID: self._webhook_id}
                )
            try:
                self._url = await async_webhook_url(self.hass, self._webhook_id)
            except PushUnavailableError:
                errors["base"] = "push_no_url"
            else:
                return await self.async_step_push()
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_PUSH): bool}),
                {CONF_PUSH: bool(options.get(CONF_PUSH))},
            ),
            errors=errors,
        )

    async def async_step_push(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the address and where it goes; push works once a notification came."""
        if user_input is not None:
            return self.async_create_entry(
                data={CONF_PUSH: True, CONF_WEBHOOK_ID: self._webhook_id}
            )
        return self.async_show_form(
            step_id="push",
            description_placeholders={
                "url": self._url,
                "dashboard_url": DASHBOARD_HELP_URL,
            },
        )
