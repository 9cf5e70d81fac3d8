"""Voice commands through Assist's default agent, in English and Italian.

The chargeboxes: "Garage" (the simulator's own, 2 connectors, a car chargebox) and
"Bike shed" (1 connector, a bicycle chargebox), in one Thor account. At the end: the
follow-up question within a conversation, polite and everyday wording.
"""

from datetime import UTC, datetime, timedelta
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
from custom_components.thor.ledger import LastSession
from custom_components.thor.voice import (
    ANSWER_WITHIN,
    INTENT_ENERGY,
    INTENT_START,
    INTENT_STATUS,
    MAX_QUESTIONS,
    REMEMBER_FOR,
    Question,
    Questions,
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


# ============================================== conversations and wording

BOOKS = load_phrasebooks()


async def _converse(
    hass: HomeAssistant,
    text: str,
    language: str = "en",
    conversation_id: str | None = None,
) -> conversation.ConversationResult:
    """Say something to Assist within a conversation; return its whole result."""
    result = await conversation.async_converse(
        hass, text, conversation_id, Context(), language=language
    )
    await hass.async_block_till_done()
    return result


def _said(result: conversation.ConversationResult) -> str:
    """Return what Assist answered, normalized."""
    return normalize(result.response.speech["plain"]["speech"])


def _answer(language: str, key: str, **placeholders: object) -> str:
    """Return one of Thor's answers, normalized."""
    return normalize(BOOKS[language].say(key, **placeholders))


# --------------------------------------------------------------- the follow-up


@pytest.mark.parametrize(
    ("question", "answer", "language", "connector"),
    [
        ("start charging the garage", "connector 1", "en", 1),
        ("start charging the garage", "the second one", "en", 2),
        ("start charging the garage", "number 2", "en", 2),
        ("start charging the garage", "1", "en", 1),
        ("please start charging the garage", "connector two please", "en", 2),
        ("avvia la ricarica del garage", "presa 2", "it", 2),
        ("avvia la ricarica del garage", "la seconda", "it", 2),
        ("avvia la ricarica del garage", "sulla presa uno", "it", 1),
    ],
)
async def test_follow_up_completes_the_start(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    question: str,
    answer: str,
    language: str,
    connector: int,
) -> None:
    """Thor asks which connector; the answer in the same conversation starts it."""
    asked = await _converse(hass, question, language)
    assert _said(asked) == _answer(
        language,
        "which_connector",
        chargebox="Garage",
        count=2,
        connectors=BOOKS[language].join([1, 2], "or"),
    )
    assert _running(simulator, boxes["garage"]) == []

    result = await _converse(hass, answer, language, asked.conversation_id)

    assert result.conversation_id == asked.conversation_id
    assert _running(simulator, boxes["garage"]) == [connector]
    target = BOOKS[language].target("Garage", connector)
    assert _said(result) == _answer(language, "started", target=target)
    # The question is answered: saying it again does not start anything more.
    again = await _converse(hass, answer, language, asked.conversation_id)
    assert _said(again) == _answer(language, "no_question", chargebox="Garage")
    assert _running(simulator, boxes["garage"]) == [connector]


async def test_follow_up_completes_the_stop(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Both connectors charging: "stop charging the garage", then "the first one"."""
    await _converse(hass, "start charging the garage connector 1")
    await _converse(hass, "start charging the garage connector 2")
    await async_poll(hass, freezer, 2)

    asked = await _converse(hass, "stop charging the garage")
    assert "which one should i stop" in _said(asked)
    result = await _converse(hass, "the first one", "en", asked.conversation_id)

    assert _said(result) == _answer("en", "stopped", target="Garage connector 1")
    assert _running(simulator, boxes["garage"]) == [2]


async def test_follow_up_of_another_conversation(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """A question asked in one conversation is not answered from another one."""
    asked = await _converse(hass, "start charging the garage")

    elsewhere = await _converse(hass, "connector 1")
    assert elsewhere.conversation_id != asked.conversation_id
    assert _said(elsewhere) == _answer("en", "no_question", chargebox="Garage")
    assert _running(simulator, boxes["garage"]) == []
    # A Thor command in between replaces the question.
    await _converse(hass, "is the garage charging", "en", asked.conversation_id)
    result = await _converse(hass, "connector 1", "en", asked.conversation_id)
    assert _said(result) == _answer("en", "no_question", chargebox="Garage")
    assert _running(simulator, boxes["garage"]) == []


async def test_follow_up_expires(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An answer after the question expired does nothing and says so; later the
    answers are no longer Thor's to hear."""
    asked = await _converse(hass, "avvia la ricarica del garage", "it")

    await async_poll(hass, freezer, ANSWER_WITHIN.total_seconds())
    result = await _converse(hass, "presa 1", "it", asked.conversation_id)

    assert _said(result) == _answer("it", "question_expired", chargebox="Garage")
    assert _running(simulator, boxes["garage"]) == []

    await _converse(hass, "start charging the garage")
    await async_poll(hass, freezer, REMEMBER_FOR.total_seconds() + 1)
    result = await _converse(hass, "connector 1")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert _running(simulator, boxes["garage"]) == []


async def test_no_follow_up_heard_without_a_question(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Before Thor asks anything, "2" is not Thor's: other agents keep their words."""
    result = await _converse(hass, "2")

    assert result.response.response_type is intent.IntentResponseType.ERROR
    assert _running(simulator, boxes["garage"]) == []


def test_questions_are_bounded_and_forgotten() -> None:
    """Many conversations keep only the newest questions; old ones are forgotten."""
    asked = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    questions = Questions()
    for number in range(MAX_QUESTIONS + 1):
        questions.ask(
            f"conversation {number}",
            Question(
                intent_type=INTENT_START,
                chargebox_id="box",
                name="Garage",
                asked=asked + timedelta(seconds=number),
            ),
        )
    assert questions.take(["conversation 0"]) is None
    assert questions.take(["conversation 1"]) is not None
    questions.prune(asked + REMEMBER_FOR + timedelta(seconds=MAX_QUESTIONS - 1))
    assert questions.take([f"conversation {MAX_QUESTIONS - 1}"]) is None
    assert questions.take([f"conversation {MAX_QUESTIONS}"]) is not None
    assert not questions


# ----------------------------------------------------------------- wording


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("please start charging the bike shed", "en"),
        ("can you start charging the bike shed please", "en"),
        ("Could you please charge the bike?", "en"),
        ("turn on the bike shed charger", "en"),
        ("per favore avvia la ricarica della bici", "it"),
        ("puoi avviare la ricarica della bici?", "it"),
        ("potresti caricare la bici per favore", "it"),
        ("accendi il caricatore della bici", "it"),
    ],
)
async def test_polite_and_everyday_start(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    text: str,
    language: str,
) -> None:
    """Polite words and "the charger" do not break a command."""
    result = await _converse(hass, text, language)

    assert _said(result) == _answer(language, "started", target="Bike shed")
    assert _running(simulator, boxes["bike"]) == [1]


async def test_charge_the_car_on_connector_2(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """ "On connector 2": the YAML word `on` is a word, not the boolean true."""
    result = await _converse(hass, "charge the car on connector 2")

    assert _said(result) == _answer("en", "started", target="Garage connector 2")
    assert _running(simulator, boxes["garage"]) == [2]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("turn off the bike shed charger", "en"),
        ("could you stop charging please", "en"),
        ("spegni il caricatore della bici", "it"),
        ("puoi fermare la ricarica?", "it"),
    ],
)
async def test_stop_without_a_name(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    text: str,
    language: str,
) -> None:
    """One charge running among the chargeboxes: "stop charging" stops it."""
    await _converse(hass, "start charging the bike shed")
    await async_poll(hass, freezer, 2)

    result = await _converse(hass, text, language)

    assert _said(result) == _answer(language, "stopped", target="Bike shed")
    assert _running(simulator, boxes["bike"]) == []


async def test_stop_without_a_name_several_or_none(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Nothing running, or several charges: said clearly, nothing stopped."""
    result = await _converse(hass, "stop charging")
    assert _said(result) == _answer("en", "nothing_to_stop")

    simulator.start_app_charge(boxes["bike"], 1)
    simulator.start_app_charge(boxes["garage"], 2)
    await _refresh(hass, two_boxes)
    simulator.reset_requests()

    result = await _converse(hass, "ferma la ricarica", "it")

    targets = ["Garage, presa 2", "Bike shed"]
    assert _said(result) == _answer(
        "it",
        "which_charge_stop",
        targets=BOOKS["it"].join(targets, "and"),
        example=targets[0],
    )
    assert all(method != "POST" for method, _ in simulator.requests)
    assert len(simulator.running()) == 2


async def test_is_anything_charging(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """ "Is anything charging?" answers over every exposed chargebox."""
    result = await _converse(hass, "is anything charging?")
    assert _said(result) == _answer("en", "nothing_charging")

    simulator.start_app_charge(boxes["garage"], 2)
    await _refresh(hass, two_boxes)
    result = await _converse(hass, "is something charging right now")
    assert _said(result) == _answer(
        "en", "status_charging", target="Garage connector 2"
    )

    simulator.start_app_charge(boxes["bike"], 1)
    await _refresh(hass, two_boxes)
    result = await _converse(hass, "c'è qualcosa in carica?", "it")
    targets = BOOKS["it"].join(["Garage, presa 2", "Bike shed"], "and")
    assert _said(result) == _answer("it", "status_many", targets=targets)

    # An unexposed chargebox is not Assist's to tell about.
    async_expose_entity(hass, conversation.DOMAIN, BIKE, False)
    await hass.async_block_till_done()
    result = await _converse(hass, "can you tell me is anything charging")
    assert result.response.response_type is intent.IntentResponseType.ERROR
    result = await _converse(hass, "is anything charging")
    assert _said(result) == _answer(
        "en", "status_charging_on", chargebox="Garage", connector=2
    )


async def test_is_the_charger_free(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Free: no charge on a connector; answered per connector, per chargebox."""
    simulator.start_app_charge(boxes["garage"], 2)
    await _refresh(hass, two_boxes)
    english, italian = BOOKS["en"], BOOKS["it"]

    result = await _converse(hass, "is the charger free?")
    garage = english.say(
        "free_mixed",
        chargebox="Garage",
        parts=english.join(
            [
                english.say("connector_free", connector=1),
                english.say("connector_busy", connector=2),
            ],
            "and",
        ),
    )
    bike = english.say("free_yes", target="Bike shed")
    assert _said(result) == normalize(f"{garage} {bike}")

    result = await _converse(hass, "il caricatore del garage è libero?", "it")
    assert "la presa 1 e libera" in _said(result)
    assert "la presa 2 e occupata" in _said(result)
    result = await _converse(hass, "is the garage connector 2 free")
    assert _said(result) == _answer("en", "free_no", target="Garage connector 2")
    result = await _converse(hass, "la presa 1 del garage è libera?", "it")
    assert _said(result) == _answer("it", "free_yes", target="Garage, presa 1")
    result = await _converse(hass, "la bici è libera?", "it")
    assert _said(result) == normalize(italian.say("free_yes", target="Bike shed"))


# ------------------------------------------------------------ the last charge


async def test_energy_answer_picks_the_latest_charge_across_connectors(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    boxes: dict[str, str],
    two_boxes: MockConfigEntry,
) -> None:
    """Connector 2's charge ended last, Thor has not listed it yet: its energy.

    Connector 1's charge is Thor's record: it ended at Thor's time, whose clock
    runs 10 minutes ahead. Connector 2's ended when Home Assistant saw it end,
    by its own clock: an earlier time, although it ended later.
    """
    ahead = timedelta(minutes=10)
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    last = {
        1: LastSession(
            transaction=1001,
            started=now - timedelta(hours=2) + ahead,
            ended=now - timedelta(minutes=20) + ahead,
            energy=5000.0,
            cost=None,
            currency=None,
            started_by="remote",
        ),
        2: LastSession(
            transaction=1002,
            started=now - timedelta(hours=1) + ahead,
            ended=now - timedelta(minutes=15),
            energy=7500.0,
            cost=None,
            currency=None,
            started_by="remote",
        ),
    }
    tracker = two_boxes.runtime_data.energy
    with patch.object(tracker, "last_sessions", return_value=last):
        result = await _converse(hass, "how much energy has the garage charged?")

    assert _said(result) == _answer(
        "en", "energy_idle_last", target="Garage", energy=BOOKS["en"].energy(7500)
    )
    assert entity_state(hass, GARAGE_1) == entity_state(hass, GARAGE_2) == "off"
