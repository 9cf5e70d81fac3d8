"""Thor's tools for AI assistants, through Home Assistant's Assist LLM API.

The chargeboxes: "Garage" (2 connectors, a car chargebox) and "Bike shed" (1
connector, a bicycle chargebox), in one Thor account. Exposing a chargebox to an
assistant means exposing one of its charging switches.
"""

from typing import Any

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component
import pytest

from custom_components.thor import llm as thor_llm
from custom_components.thor.const import DOMAIN
from custom_components.thor.voice import load_phrasebooks
from thor_simulator import ThorSimulator

from .conftest import account_entry, async_setup_entry, first_chargebox

GARAGE = ("switch.garage_connector_1_charging", "switch.garage_connector_2_charging")
BIKE = "switch.bike_shed_charging"
TOOLS = {
    "thor__start_charging",
    "thor__stop_charging",
    "thor__charging_status",
    "thor__charger_free",
    "thor__charge_energy",
    "thor__charge_history",
    "thor__last_charge",
}


@pytest.fixture
async def boxes(hass: HomeAssistant, simulator: ThorSimulator) -> dict[str, str]:
    """Set up Assist, the LLM APIs and the account; return the chargebox ids."""
    garage = first_chargebox(simulator)
    bike = simulator.add_chargebox(alias="Bike shed", connectors=1, vehicle="bicycle")
    for domain in ("homeassistant", "conversation", "intent", "llm"):
        assert await async_setup_component(hass, domain, {})
    await async_setup_entry(
        hass,
        account_entry(
            (garage, "Garage"), (bike.id, "Bike shed"), base_url=simulator.base_url
        ),
    )
    return {"garage": garage, "bike": bike.id}


async def _api(
    hass: HomeAssistant, assistant: str = conversation.DOMAIN
) -> llm.APIInstance:
    """Return the Assist LLM API as an AI conversation agent of `assistant` gets it."""
    return await llm.async_get_api(
        hass,
        llm.LLM_API_ASSIST,
        llm.LLMContext(
            platform="test",
            context=Context(),
            language="en",
            assistant=assistant,
            device_id=None,
        ),
    )


async def _call(api: llm.APIInstance, tool: str, **args: Any) -> dict[str, Any]:
    """Call a tool and return its result (a ToolResult's data from 2026.10 on)."""
    result = await api.async_call_tool(llm.ToolInput(tool_name=tool, tool_args=args))
    data = getattr(result, "data", result)
    assert isinstance(data, dict)
    return data


def _thor_tools(api: llm.APIInstance) -> dict[str, llm.Tool]:
    """Return Thor's tools in an API instance, by name."""
    return {tool.name: tool for tool in api.tools if tool.name.startswith("thor__")}


def _expose(hass: HomeAssistant, assistant: str, *entity_ids: str, on: bool) -> None:
    """Expose switches to an assistant, or not."""
    for entity_id in entity_ids:
        async_expose_entity(hass, assistant, entity_id, on)


async def test_tools_listed_for_assist(
    hass: HomeAssistant, boxes: dict[str, str]
) -> None:
    """Every Thor tool, described, tagged with the integration; the prompt names the
    chargeboxes."""
    api = await _api(hass)

    tools = _thor_tools(api)
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.integration == DOMAIN
        assert tool.description
        assert "Thor" in tool.description
    assert "Garage (2 connectors)" in api.api_prompt
    assert "Bike shed (1 connector)" in api.api_prompt


async def test_no_tools_when_nothing_is_exposed(
    hass: HomeAssistant, boxes: dict[str, str]
) -> None:
    """No chargebox exposed to the asking assistant: no Thor tools at all."""
    _expose(hass, conversation.DOMAIN, *GARAGE, BIKE, on=False)
    # Exposed to another assistant only: still nothing for Assist.
    _expose(hass, "cloud.alexa", *GARAGE, BIKE, on=True)
    await hass.async_block_till_done()

    api = await _api(hass)

    assert _thor_tools(api) == {}
    assert "Thor" not in api.api_prompt
    assert set(_thor_tools(await _api(hass, "cloud.alexa"))) == TOOLS


async def test_other_api_gets_no_tools(
    hass: HomeAssistant, boxes: dict[str, str]
) -> None:
    """Thor's tools belong to the Assist API only."""
    context = llm.LLMContext(
        platform="test",
        context=None,
        language="en",
        assistant=conversation.DOMAIN,
        device_id=None,
    )
    assert thor_llm.async_get_tools(hass, context, "other_api") is None
    assert thor_llm.async_get_tools(hass, context, llm.LLM_API_ASSIST) is not None


async def test_exposed_chargebox_starts(
    hass: HomeAssistant, simulator: ThorSimulator, boxes: dict[str, str]
) -> None:
    """A call on an exposed chargebox acts: the charge starts in Thor."""
    api = await _api(hass)

    data = await _call(api, "thor__start_charging", name="Garage", connector=2)

    assert data["response_type"] == intent.IntentResponseType.ACTION_DONE.value
    running = [charge["connector"] for charge in simulator.running(boxes["garage"])]
    assert running == [2]


@pytest.mark.parametrize("other", [None, "cloud.alexa"])
async def test_unexposed_chargebox_refused(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    other: str | None,
) -> None:
    """A chargebox not exposed to Assist (maybe to Alexa) is answered as unknown."""
    _expose(hass, conversation.DOMAIN, BIKE, on=False)
    if other is not None:
        _expose(hass, other, BIKE, on=True)
    await hass.async_block_till_done()
    api = await _api(hass)
    simulator.reset_requests()

    data = await _call(api, "thor__start_charging", name="bike shed")

    assert data["response_type"] == intent.IntentResponseType.ERROR.value
    assert data["data"]["code"] == intent.IntentResponseErrorCode.NO_VALID_TARGETS
    book = load_phrasebooks()["en"]
    assert data["speech"]["plain"]["speech"] == book.say(
        "unknown_chargebox", name="bike shed"
    )
    assert simulator.running(boxes["bike"]) == []
    assert all(method != "POST" for method, _ in simulator.requests)


async def test_history_tool_reads_the_period(
    hass: HomeAssistant, simulator: ThorSimulator, boxes: dict[str, str]
) -> None:
    """The history tool takes a period from a fixed list, and refuses another."""
    api = await _api(hass)

    data = await _call(api, "thor__charge_history", period="today")

    book = load_phrasebooks()["en"]
    assert data["response_type"] == intent.IntentResponseType.QUERY_ANSWER.value
    assert data["speech"]["plain"]["speech"] == book.say(
        "history_none",
        target=book.join(["Garage", "Bike shed"]),
        period=book.say("period_today"),
    )
    with pytest.raises(intent.InvalidSlotInfo):
        await _call(api, "thor__charge_history", period="the day before")


async def test_no_tools_without_thor_intents(hass: HomeAssistant) -> None:
    """Thor's intents not registered (Thor not loaded): no tools."""
    context = llm.LLMContext(
        platform="test",
        context=None,
        language="en",
        assistant=conversation.DOMAIN,
        device_id=None,
    )
    assert thor_llm.async_get_tools(hass, context, llm.LLM_API_ASSIST) is None


async def test_account_not_loaded(
    hass: HomeAssistant, simulator: ThorSimulator, boxes: dict[str, str]
) -> None:
    """The account not loaded: the tools stay, and a call says it is unavailable."""
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    api = await _api(hass)

    assert "Garage;" in api.api_prompt
    data = await _call(api, "thor__charging_status", name="garage")
    book = load_phrasebooks()["en"]
    assert data["speech"]["plain"]["speech"] == book.say(
        "unavailable", chargebox="Garage"
    )
