"""Voice commands through Assist's default agent, in English and Italian.

The chargeboxes: "Garage" (the simulator's own, 2 connectors, a car chargebox) and
"Bike shed" (1 connector, a bicycle chargebox), in one Thor account.
"""

from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    intent,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.const import DOMAIN
from custom_components.thor.voice import (
    INTENT_ENERGY,
    INTENT_START,
    INTENT_STATUS,
    load_phrasebooks,
    normalize,
)
from thor_simulator import ThorSimulator

from .conftest import account_entry, async_poll, async_setup_entry, entity_state

GARAGE_1 = "switch.garage_connector_1_charging"
GARAGE_2 = "switch.garage_connector_2_charging"
BIKE = "switch.bike_shed_charging"

ACTION_DONE = intent.IntentResponseType.ACTION_DONE
QUERY_ANSWER = intent.IntentResponseType.QUERY_ANSWER
ERROR = intent.IntentResponseType.ERROR


@pytest.fixture
async def voice(hass: HomeAssistant) -> None:
    """Set up Assist: the default agent and the intents."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})


@pytest.fixture
def boxes(simulator: ThorSimulator) -> dict[str, str]:
    """Return the ids of the Garage (2 connectors) and the Bike shed (1 connector)."""
    (garage,) = simulator.chargeboxes
    bike = simulator.add_chargebox(
        alias="Bike shed", connectors=1, vehicle="bicycle"
    ).id
    return {"garage": garage, "bike": bike}


@pytest.fixture
async def two_boxes(
    hass: HomeAssistant,
    voice: None,
    simulator: ThorSimulator,
    boxes: dict[str, str],
) -> MockConfigEntry:
    """Set up an account with the Garage and the Bike shed."""
    return await async_setup_entry(
        hass,
        account_entry(
            (boxes["garage"], "Garage"),
            (boxes["bike"], "Bike shed"),
            base_url=simulator.base_url,
        ),
    )


async def _say(
    hass: HomeAssistant, text: str, language: str = "en"
) -> intent.IntentResponse:
    """Say something to Assist and return its response."""
    result = await conversation.async_converse(
        hass, text, None, Context(), language=language
    )
    await hass.async_block_till_done()
    return result.response


def _speech(response: intent.IntentResponse) -> str:
    """Return what Assist said, normalized (no case, accents or punctuation)."""
    return normalize(response.speech["plain"]["speech"])


async def _refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Read the account now (a charge started in the Thor app shows up)."""
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


def _running(simulator: ThorSimulator, chargebox_id: str) -> list[int]:
    """Return the connectors of a chargebox with a running charge."""
    return [charge["connector"] for charge in simulator.running(chargebox_id)]


# ---------------------------------------------------------------- start / stop


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("start charging the bike shed", "en"),
        ("Start charging the Bike Shed!", "en"),
        ("charge the bike", "en"),
        ("avvia la ricarica del bike shed", "it"),
        ("carica la bici", "it"),
    ],
)
async def test_start_single_connector(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    text: str,
    language: str,
) -> None:
    """A chargebox with one connector starts on it, whatever the wording."""
    response = await _say(hass, text, language)

    assert response.response_type is ACTION_DONE
    assert "bike shed" in _speech(response)
    assert _running(simulator, boxes["bike"]) == [1]
    assert _running(simulator, boxes["garage"]) == []
    assert entity_state(hass, BIKE) == "on"


async def test_start_and_stop_connector_by_number(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """ "Connector 2", "presa due": that connector of a multi-connector chargebox."""
    response = await _say(hass, "start charging the garage connector 2")
    assert response.response_type is ACTION_DONE
    assert "garage connector 2" in _speech(response)
    assert _running(simulator, boxes["garage"]) == [2]
    assert entity_state(hass, GARAGE_2) == "on"
    assert entity_state(hass, GARAGE_1) == "off"

    await async_poll(hass, freezer, 2)
    response = await _say(hass, "ferma la ricarica del garage sulla presa due", "it")
    assert response.response_type is ACTION_DONE
    assert "garage presa 2" in _speech(response)
    assert _running(simulator, boxes["garage"]) == []
    assert entity_state(hass, GARAGE_2) == "off"


@pytest.mark.parametrize(
    ("text", "language", "words"),
    [
        ("start charging the garage", "en", ["2 connectors", "1 or 2"]),
        ("avvia la ricarica del garage", "it", ["2 prese", "1 o 2"]),
    ],
)
async def test_start_multi_connector_asks_which(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    text: str,
    language: str,
    words: list[str],
) -> None:
    """Two free connectors: nothing starts, Assist asks which one."""
    response = await _say(hass, text, language)

    assert response.response_type is ACTION_DONE  # What sentence triggers return.
    speech = _speech(response)
    assert all(word in speech for word in words)
    assert "garage" in speech
    assert _running(simulator, boxes["garage"]) == []


async def test_start_multi_connector_only_free_one(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One connector already charging: the other one is the one to start."""
    await _say(hass, "start charging the garage connector 1")
    await async_poll(hass, freezer, 2)

    response = await _say(hass, "start charging the garage")

    assert "garage connector 2" in _speech(response)
    assert sorted(_running(simulator, boxes["garage"])) == [1, 2]


async def test_stop_multi_connector(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without a number: the only charging connector stops; with two, Assist asks."""
    await _say(hass, "start charging the garage connector 1")
    await _say(hass, "start charging the garage connector 2")
    await async_poll(hass, freezer, 2)

    response = await _say(hass, "stop charging the garage")
    assert "1 and 2" in _speech(response)
    assert sorted(_running(simulator, boxes["garage"])) == [1, 2]

    response = await _say(hass, "stop charging the garage connector 1")
    assert "garage connector 1" in _speech(response)
    await async_poll(hass, freezer, 2)
    assert _running(simulator, boxes["garage"]) == [2]

    response = await _say(hass, "ferma la ricarica del garage", "it")
    assert "garage presa 2" in _speech(response)
    assert _running(simulator, boxes["garage"]) == []
    assert entity_state(hass, GARAGE_1) == "off"
    assert entity_state(hass, GARAGE_2) == "off"


async def test_stop_when_not_charging(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Nothing to stop is said so, in the request's language."""
    simulator.reset_requests()

    english = await _say(hass, "stop charging the bike shed")
    italian = await _say(hass, "ferma la ricarica della bici", "it")

    assert "not charging" in _speech(english)
    assert "non sta caricando" in _speech(italian)
    assert all(method != "POST" for method, _ in simulator.requests)


# ------------------------------------------------------------------ questions


async def test_status(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """ "Is the garage charging?" with and without a charge running."""
    response = await _say(hass, "is the garage charging?")
    assert _speech(response).startswith("no")
    response = await _say(hass, "il garage sta caricando?", "it")
    assert _speech(response).startswith("no")

    simulator.start_app_charge(boxes["garage"], 2)
    await _refresh(hass, two_boxes)

    response = await _say(hass, "Is the Garage charging?")
    assert _speech(response).startswith("yes")
    assert "connector 2" in _speech(response)
    response = await _say(hass, "il garage sta caricando?", "it")
    assert _speech(response).startswith("si")
    assert "presa 2" in _speech(response)
    response = await _say(hass, "is the garage connector 1 charging")
    assert _speech(response).startswith("no")


async def test_status_of_the_car_with_one_chargebox(
    hass: HomeAssistant,
    voice: None,
    simulator: ThorSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """ "Is the car charging?": the only chargebox, whatever its name."""
    (garage,) = simulator.chargeboxes
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    simulator.start_app_charge(garage, 1)
    await _refresh(hass, entry)

    response = await _say(hass, "is the car charging?")
    assert _speech(response).startswith("yes")
    assert "garage" in _speech(response)
    response = await _say(hass, "la macchina sta caricando?", "it")
    assert _speech(response).startswith("si")


async def test_energy(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The energy of the running charge, in kWh, spoken in the request's language."""
    response = await _say(hass, "how much energy has the garage charged?")
    assert "not charging" in _speech(response)

    simulator.start_app_charge(boxes["garage"], 1)
    simulator.advance(600)  # 10 minutes at 22 kW: 3.67 kWh.
    await _refresh(hass, two_boxes)
    (charge,) = simulator.running(boxes["garage"])
    kwh = round(charge["energy"] / 1000, 1)

    response = await _say(hass, "how much energy has the garage charged?")
    assert f"{kwh} kilowatt hours" in response.speech["plain"]["speech"].replace(
        "-", " "
    )
    response = await _say(hass, "quanta energia ha caricato il garage?", "it")
    assert (
        f"{str(kwh).replace('.', ',')} chilowattora"
        in (response.speech["plain"]["speech"])
    )
    response = await _say(hass, "how much energy has the bike shed delivered")
    assert "not charging" in _speech(response)


# -------------------------------------------------------------------- errors


async def test_unknown_chargebox(
    hass: HomeAssistant, simulator: ThorSimulator, two_boxes: MockConfigEntry
) -> None:
    """A name no chargebox has is Assist's to answer: an error, nothing started."""
    simulator.reset_requests()

    response = await _say(hass, "start charging the boat")

    assert response.response_type is ERROR
    assert all(method != "POST" for method, _ in simulator.requests)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("start charging the garage", "en"),
        ("start charging the garage connector 2", "en"),
        ("is the garage charging", "en"),
        ("avvia la ricarica del garage", "it"),
    ],
)
async def test_unexposed_chargebox_is_unknown(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    text: str,
    language: str,
) -> None:
    """A chargebox whose switches are not exposed to Assist is unknown to it."""
    for entity_id in (GARAGE_1, GARAGE_2):
        async_expose_entity(hass, conversation.DOMAIN, entity_id, False)
        # Exposed to another assistant only: still unknown to Assist.
        async_expose_entity(hass, "cloud.alexa", entity_id, True)
    await hass.async_block_till_done()
    simulator.reset_requests()

    response = await _say(hass, text, language)

    assert response.response_type is ERROR
    assert all(method != "POST" for method, _ in simulator.requests)
    assert _running(simulator, boxes["garage"]) == []
    # The exposed chargebox still acts, and one exposed switch is enough.
    async_expose_entity(hass, conversation.DOMAIN, GARAGE_2, True)
    await hass.async_block_till_done()
    response = await _say(hass, "start charging the garage connector 2")
    assert response.response_type is ACTION_DONE
    assert _running(simulator, boxes["garage"]) == [2]


async def test_intent_from_an_assistant_sees_exposed_chargeboxes_only(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Any agent's intent call names only what is exposed to its assistant."""
    async_expose_entity(hass, conversation.DOMAIN, BIKE, False)

    def ask(assistant: str | None) -> Any:
        return intent.async_handle(
            hass,
            "test",
            INTENT_START,
            {"name": {"value": "bike shed"}},
            assistant=assistant,
        )

    response = await ask(conversation.DOMAIN)
    assert response.response_type is ERROR
    assert response.error_code is intent.IntentResponseErrorCode.NO_VALID_TARGETS
    assert _running(simulator, boxes["bike"]) == []
    # Without an assistant (a script's intent call) nothing is filtered.
    response = await ask(None)
    assert response.response_type is ACTION_DONE
    assert _running(simulator, boxes["bike"]) == [1]


async def test_vehicle_without_chargebox(
    hass: HomeAssistant, voice: None, simulator: ThorSimulator
) -> None:
    """ "The bike" with only a car chargebox: said clearly, nothing started."""
    (garage,) = simulator.chargeboxes
    await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )

    response = await _say(hass, "start charging the bike")

    assert "bike" in _speech(response)
    assert "don t know" in _speech(response)
    assert simulator.running() == []


async def test_thor_refuses(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Thor refusing the start is spoken with the integration's message."""
    simulator.faults.set(status=402, path="/charges/start")

    english = await _say(hass, "start charging the bike shed")
    italian = await _say(hass, "avvia la ricarica del bike shed", "it")

    assert "payment" in _speech(english)
    assert "bike shed" in _speech(english)
    assert "pagamento" in _speech(italian)
    assert simulator.running() == []
    assert entity_state(hass, BIKE) == "off"


async def test_ambiguous_vehicle(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Two chargeboxes in one area: Assist asks which one."""
    area = ar.async_get(hass).async_create("Courtyard")
    device_registry = dr.async_get(hass)
    for chargebox_id in boxes.values():
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, chargebox_id), two_boxes.entry_id
        )
        assert device is not None
        device_registry.async_update_device(device.id, area_id=area.id)
    await hass.async_block_till_done()

    response = await _say(hass, "is the courtyard charging")

    assert "garage or bike shed" in _speech(response)


async def test_renamed_device_and_area(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A device renamed by the user, or put in an area, answers to that name."""
    device_registry = dr.async_get(hass)
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, boxes["bike"]), two_boxes.entry_id
    )
    assert device is not None
    area = ar.async_get(hass).async_create("Cortile")
    device_registry.async_update_device(
        device.id, name_by_user="Rimessa Città", area_id=area.id
    )
    await hass.async_block_till_done()

    response = await _say(hass, "avvia la ricarica della rimessa città", "it")
    assert "rimessa citta" in _speech(response)
    assert _running(simulator, boxes["bike"]) == [1]
    response = await _say(hass, "is the cortile charging")
    assert "starting" in _speech(response)

    await async_poll(hass, freezer, 2)
    response = await _say(hass, "is the cortile charging")
    assert _speech(response).startswith("yes")


# ------------------------------------------------------ what worked before


async def test_turn_off_switch_by_name(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """ "Turn off Garage connector 1 charging" still stops the charge (HassTurnOff)."""
    await _say(hass, "start charging the garage connector 1")
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, GARAGE_1) == "on"

    response = await _say(hass, "turn off Garage connector 1 charging")

    assert response.response_type is ACTION_DONE
    assert response.intent is not None
    assert response.intent.intent_type == intent.INTENT_TURN_OFF
    assert _running(simulator, boxes["garage"]) == []
    assert entity_state(hass, GARAGE_1) == "off"


# ------------------------------------------------------------ the intents


async def test_intents_response_types(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Other agents and custom sentences get typed responses from the intents."""

    async def handle(intent_type: str, **slots: object) -> intent.IntentResponse:
        return await intent.async_handle(
            hass,
            "test",
            intent_type,
            {name: {"value": value} for name, value in slots.items()},
            language="it",
        )

    response = await handle(INTENT_START, name="Bike shed")
    assert response.response_type is ACTION_DONE
    assert response.success_results[0].name == "Bike shed"
    assert _running(simulator, boxes["bike"]) == [1]

    await async_poll(hass, freezer, 2)
    response = await handle(INTENT_STATUS, name="the bike shed")
    assert response.response_type is QUERY_ANSWER
    assert _speech(response).startswith("si")

    response = await handle(INTENT_ENERGY, name="garage", connector=3)
    assert response.response_type is ERROR
    assert response.error_code is intent.IntentResponseErrorCode.NO_VALID_TARGETS
    assert "3" in _speech(response)

    response = await handle(INTENT_STATUS, name="boat")
    assert response.response_type is ERROR
    assert "boat" in _speech(response)

    response = await handle(INTENT_START)
    assert response.response_type is ERROR
    assert "garage o bike shed" in _speech(response)


def test_phrasebooks_have_the_same_answers() -> None:
    """Every answer exists in every language."""
    books = load_phrasebooks()
    assert set(books) == {"en", "it"}
    assert books["en"].responses.keys() == books["it"].responses.keys()
    assert books["en"].sentences.keys() == books["it"].sentences.keys()


# ------------------------------------------------- both connectors, and after


async def test_both_connectors_charging(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With both connectors busy: start says so, status and energy cover both."""
    garage = boxes["garage"]
    simulator.start_app_charge(garage, 1)
    simulator.start_app_charge(garage, 2)
    simulator.advance(600)
    await _refresh(hass, two_boxes)
    total = sum(charge["energy"] for charge in simulator.running(garage))

    response = await _say(hass, "start charging the garage")
    assert "already charging" in _speech(response)
    assert len(simulator.running(garage)) == 2

    response = await _say(hass, "is the garage charging?")
    assert _speech(response).startswith("yes")
    assert "1 and 2" in _speech(response)

    response = await _say(hass, "how much energy has the garage charged?")
    assert f"{round(total / 1000, 1)} kilowatt" in response.speech["plain"]["speech"]


async def test_stop_an_idle_connector_and_the_last_charge(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Stopping an idle connector sends nothing; the last charge's energy is told."""
    response = await _say(hass, "stop charging the garage connector 2")
    assert "nothing to stop" in _speech(response)

    await _say(hass, "start charging the bike shed")
    await async_poll(hass, freezer, 2)
    simulator.advance(600)
    await async_poll(hass, freezer, 30)
    await _say(hass, "stop charging the bike shed")
    for _ in range(3):
        await async_poll(hass, freezer, 30)
    assert _running(simulator, boxes["bike"]) == []

    response = await _say(hass, "how much energy has the bike shed charged?")
    assert "not charging" in _speech(response)
    assert "last charge delivered" in _speech(response)
    assert "kilowatt" in response.speech["plain"]["speech"]


async def test_chargebox_not_loaded(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """A chargebox whose entry is not loaded is reported unavailable; nothing sent."""
    assert await hass.config_entries.async_unload(two_boxes.entry_id)
    await hass.async_block_till_done()
    response = await _say(hass, "start charging the bike shed")
    assert "not available" in _speech(response)
    assert _running(simulator, boxes["bike"]) == []


async def test_connector_number_and_removed_chargeboxes(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """ "Connector number 2" is understood; once the account is gone, Thor hears nothing."""
    response = await _say(hass, "start charging the garage connector number 2")
    assert "connector 2" in _speech(response)
    assert _running(simulator, boxes["garage"]) == [2]

    response = await _say(hass, "how much energy has the garage connector 1 charged")
    assert "connector 1" in _speech(response)
    assert "not charging" in _speech(response)
    # A number said in the other language still names the connector.
    response = await intent.async_handle(
        hass,
        "test",
        INTENT_START,
        {"name": {"value": "garage"}, "connector": {"value": "uno"}},
        language="en",
    )
    assert response.response_type is ACTION_DONE
    assert sorted(_running(simulator, boxes["garage"])) == [1, 2]

    assert await hass.config_entries.async_remove(two_boxes.entry_id)
    await hass.async_block_till_done()
    response = await _say(hass, "start charging the bike shed")
    assert response.response_type is ERROR
    assert _running(simulator, boxes["bike"]) == []
    # Other agents calling the intent hear that there is no chargebox.
    response = await intent.async_handle(hass, "test", INTENT_STATUS, {})
    assert response.response_type is ERROR
    book = load_phrasebooks()["en"]
    assert response.speech["plain"]["speech"] == book.say("no_chargebox")


@pytest.mark.parametrize(
    ("language", "wh", "key", "value"),
    [
        ("en", 1000, "kwh_one", "1"),
        ("en", 1500, "kwh_many", "1.5"),
        ("en", 420, "kwh_many", "0.42"),
        ("en", 1, "kwh_many", "0"),
        ("it", 12345, "kwh_many", "12,3"),
    ],
)
def test_energy_as_spoken(language: str, wh: float, key: str, value: str) -> None:
    """Energies are said in kWh: one decimal, two under 1 kWh, the local separator."""
    book = load_phrasebooks()[language]
    assert book.energy(wh) == book.say(key, value=value)


async def test_an_intent_failure_is_spoken(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Whatever goes wrong inside the intent, Assist answers instead of failing."""
    with patch(
        "custom_components.thor.voice.intent.async_handle",
        side_effect=intent.IntentUnexpectedError("boom"),
    ):
        response = await _say(hass, "start charging the bike shed")
    book = load_phrasebooks()["en"]
    assert response.speech["plain"]["speech"] == book.say(
        "failed", chargebox="bike shed"
    )
    assert _running(simulator, boxes["bike"]) == []


async def test_sentences_that_cannot_be_registered(
    hass: HomeAssistant,
    voice: None,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refused trigger sentences cost a warning; the integration works on."""
    with patch(
        "custom_components.thor.voice.async_validate_trigger_config",
        side_effect=HomeAssistantError("refused"),
    ):
        entry = await async_setup_entry(
            hass,
            account_entry((boxes["bike"], "Bike shed"), base_url=simulator.base_url),
        )
    assert "voice commands could not be registered" in caplog.text
    assert entry.state is ConfigEntryState.LOADED
    assert entity_state(hass, BIKE) == "off"
