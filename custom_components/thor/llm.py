"""Tools for AI assistants: Thor's intents through Home Assistant's Assist LLM API.

The `llm` integration asks each integration's `llm.py` for its tools
(`async_get_tools`). Thor offers its intents (start, stop, status, free, energy, and
the history and cost questions) as tools named `thor__...`, to the Assist API only, and
only when the assistant that asks sees at least one chargebox: a chargebox is seen
when one of its charging switches is exposed to that assistant. A call names a
chargebox by the names the prompt lists; the intent handlers apply the same exposure
rule, so an unexposed chargebox is answered as unknown.
"""

from typing import Final

from homeassistant.components.llm import LLMTools
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import intent
from homeassistant.helpers.llm import LLM_API_ASSIST, IntentTool, LLMContext, Tool

from .const import DOMAIN
from .intent import ThorIntentHandler
from .intent_history import INTENT_HISTORY, INTENT_LAST_CHARGE
from .voice import (
    INTENT_ENERGY,
    INTENT_FREE,
    INTENT_START,
    INTENT_STATUS,
    INTENT_STOP,
    KnownChargebox,
    async_known_chargeboxes,
)

TOOL_NAMES: Final = {
    INTENT_START: "start_charging",
    INTENT_STOP: "stop_charging",
    INTENT_STATUS: "charging_status",
    INTENT_FREE: "charger_free",
    INTENT_ENERGY: "charge_energy",
    INTENT_HISTORY: "charge_history",
    INTENT_LAST_CHARGE: "last_charge",
}
"""The tool of each Thor intent, without the `thor__` prefix."""


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: LLMContext, api_id: str
) -> LLMTools | None:
    """Return Thor's tools when the asking assistant sees a chargebox."""
    if api_id != LLM_API_ASSIST:
        return None
    handlers = [
        handler
        for handler in intent.async_get(hass)
        if isinstance(handler, ThorIntentHandler) and handler.intent_type in TOOL_NAMES
    ]
    if not handlers:
        return None
    boxes = async_known_chargeboxes(hass, handlers[0].books, llm_context.assistant)
    if not boxes:
        return None
    tools: list[Tool] = []
    for handler in handlers:
        tool = IntentTool(f"{DOMAIN}__{TOOL_NAMES[handler.intent_type]}", handler)
        # Set after construction: Home Assistant 2026.9's IntentTool takes no such
        # arguments, and later versions read these attributes.
        tool.integration = DOMAIN
        tools.append(tool)
    names = "; ".join(_described(box) for box in boxes)
    return LLMTools(
        tools=tools,
        prompt=(
            "Thor EV chargeboxes, for the thor__ tools (pass a chargebox's name as "
            "`name` and a connector's number as `connector` when it has several): "
            f"{names}."
        ),
    )


def _described(box: KnownChargebox) -> str:
    """Return a chargebox's name, with its connectors when known."""
    reading = None if box.controller is None else box.controller.reading
    if reading is None:
        return box.name
    count = len(reading.chargebox.connectors)
    return f"{box.name} ({count} connector{'' if count == 1 else 's'})"
