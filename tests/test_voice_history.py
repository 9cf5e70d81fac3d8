"""History and cost questions through Assist's default agent, in English and Italian.

Today is Monday 7 December 2026 (noon, Home Assistant's time zone). The "Garage" (a
car chargebox, 2 connectors) is paid: 0.50 EUR a kWh. The "Bike shed" (a bicycle
chargebox) is free. Their finished charges, in Thor's history:

| chargebox | ended              | energy  | cost     |
|-----------|--------------------|---------|----------|
| Garage    | 10 November, 18:00 | 10 kWh  | 5.00 EUR |
| Bike shed | 20 November, 18:00 | 1 kWh   | none     |
| Garage    | 3 December, 18:00  | 4 kWh   | 2.00 EUR |
| Bike shed | 5 December, 18:00  | 0.8 kWh | none     |
| Garage    | 6 December, 20:00  | 2 kWh   | 1.00 EUR |
"""

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, translation
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

from custom_components.thor.const import DOMAIN
from custom_components.thor.errors import classify
from custom_components.thor.intent_history import (
    INTENT_HISTORY,
    INTENT_LAST_CHARGE,
    LAST_CHARGE_DAYS,
    PERIODS,
    PeriodWords,
    _costs,
    _energy,
    period_dates,
    with_periods,
)
from custom_components.thor.thor_api import (
    FinishedCharge,
    FinishedChargePayment,
    ThorServerError,
)
from custom_components.thor.voice import Phrasebook, load_phrasebooks
from thor_simulator import ThorSimulator

from .conftest import account_entry, async_setup_entry, first_chargebox

GARAGE_SWITCHES = (
    "switch.garage_connector_1_charging",
    "switch.garage_connector_2_charging",
)
BIKE = "switch.bike_shed_charging"
FINISHED = "GET /charges/finished"

QUERY_ANSWER = intent.IntentResponseType.QUERY_ANSWER
ERROR = intent.IntentResponseType.ERROR


def _local(day: date, hour: int) -> datetime:
    """Return a time of a day in Home Assistant's time zone."""
    return datetime(
        day.year, day.month, day.day, hour, tzinfo=dt_util.get_default_time_zone()
    )


@pytest.fixture
async def history(
    hass: HomeAssistant, simulator: ThorSimulator, freezer: FrozenDateTimeFactory
) -> dict[str, str]:
    """Set up Assist and the account, with the history above; return the box ids."""
    freezer.move_to(_local(date(2026, 12, 7), 12))
    garage = first_chargebox(simulator)
    bike = simulator.add_chargebox(alias="Bike shed", connectors=1, vehicle="bicycle")
    paid = simulator.chargeboxes[garage]
    paid.payment_free = False
    paid.price_per_kwh = 0.5
    paid.start_fee = 0.0
    for box, day, hour, energy in (
        (garage, date(2026, 11, 10), 18, 10000),
        (bike.id, date(2026, 11, 20), 18, 1000),
        (garage, date(2026, 12, 3), 18, 4000),
        (bike.id, date(2026, 12, 5), 18, 800),
        (garage, date(2026, 12, 6), 20, 2000),
    ):
        ended = _local(day, hour)
        simulator.add_finished_charge(
            box, 1, started=ended - timedelta(hours=2), finished=ended, energy=energy
        )
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})
    await async_setup_entry(
        hass,
        account_entry(
            (garage, "Garage"), (bike.id, "Bike shed"), base_url=simulator.base_url
        ),
    )
    return {"garage": garage, "bike": bike.id}


@pytest.fixture(scope="module")
def books() -> dict[str, Phrasebook]:
    """Return the phrasebooks (the answers' words)."""
    return load_phrasebooks()


async def _ask(
    hass: HomeAssistant, simulator: ThorSimulator, text: str, language: str = "en"
) -> tuple[intent.IntentResponse, int]:
    """Ask Assist; return its response and the requests for finished charges."""
    simulator.reset_requests()
    result = await conversation.async_converse(
        hass, text, None, Context(), language=language
    )
    await hass.async_block_till_done()
    reads = sum(
        count
        for endpoint, count in simulator.request_counts.by_endpoint.items()
        if endpoint.startswith(FINISHED)
    )
    return result.response, reads


def _speech(response: intent.IntentResponse) -> str:
    """Return what Assist said."""
    return str(response.speech["plain"]["speech"])


def _period(book: Phrasebook, key: str) -> str:
    """Return a period as the answers say it."""
    return book.say(f"period_{key}")


def _kwh(book: Phrasebook, value: str) -> str:
    """Return an energy as the answers say it ("6.8": 6.8 kilowatt-hours)."""
    return book.say("kwh_one" if value == "1" else "kwh_many", value=value)


def _charges(book: Phrasebook, count: int) -> str:
    """Return a number of charges as the answers say it."""
    return book.say("charges_one" if count == 1 else "charges_many", count=count)


# ------------------------------------------------------------------ periods


@pytest.mark.parametrize(
    ("text", "language", "money"),
    [
        ("how much did charging cost this month?", "en", "3.00 EUR"),
        ("what did the charging cost us this month", "en", "3.00 EUR"),
        ("quanto è costata la ricarica questo mese?", "it", "3,00 EUR"),
        ("quanto abbiamo speso per la ricarica questo mese", "it", "3,00 EUR"),
    ],
)
async def test_cost_this_month_of_every_chargebox(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
    text: str,
    language: str,
    money: str,
) -> None:
    """No chargebox named: every exposed one; the paid amount, the free charge apart."""
    response, reads = await _ask(hass, simulator, text, language)

    book = books[language]
    assert _speech(response) == book.say(
        "history_partly_free",
        charges=_charges(book, 3),
        target=book.join(["Garage", "Bike shed"]),
        period=_period(book, "this_month"),
        energy=_kwh(book, "6.8" if language == "en" else "6,8"),
        cost=money,
        free=1,
    )
    assert reads == 1


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("how much energy did the garage charge last month?", "en"),
        ("how much did the garage charge in November", "en"),
        ("quanta energia ha caricato il garage il mese scorso", "it"),
        ("quanto ha caricato il garage a novembre?", "it"),
    ],
)
async def test_one_chargebox_in_a_month(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
    text: str,
    language: str,
) -> None:
    """A named chargebox, a whole month: its charges only, with their cost."""
    response, reads = await _ask(hass, simulator, text, language)

    book = books[language]
    speech = _speech(response)
    period = (
        _period(book, "last_month")
        if "last" in text or "scorso" in text
        else (
            book.say(
                "period_month", month="November" if language == "en" else "novembre"
            )
        )
    )
    assert speech == book.say(
        "history_cost",
        charges=_charges(book, 1),
        target="Garage",
        period=period,
        energy=_kwh(book, "10"),
        cost="5.00 EUR" if language == "en" else "5,00 EUR",
    )
    # A month and a day more on each side (Thor's time zone is not documented): one
    # request.
    assert reads == 1


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("how much did we charge in November?", "en"),
        ("quanto abbiamo caricato a novembre", "it"),
    ],
)
async def test_charged_in_november(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
    text: str,
    language: str,
) -> None:
    """ "How much did we charge in November": both chargeboxes, 11 kWh."""
    response, _ = await _ask(hass, simulator, text, language)

    book = books[language]
    speech = _speech(response)
    assert _kwh(book, "11") in speech
    assert ("5.00 EUR" if language == "en" else "5,00 EUR") in speech
    assert _charges(book, 2) in speech


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("how much did the bike shed charge last month", "en"),
        ("quanto ha caricato la bike shed il mese scorso", "it"),
    ],
)
async def test_free_chargebox_has_no_cost(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
    text: str,
    language: str,
) -> None:
    """Thor reports no payment: the answer says there was no cost, not "0"."""
    response, _ = await _ask(hass, simulator, text, language)

    book = books[language]
    assert _speech(response) == book.say(
        "history_free",
        charges=_charges(book, 1),
        target="Bike shed",
        period=_period(book, "last_month"),
        energy=_kwh(book, "1"),
    )


@pytest.mark.parametrize(
    ("text", "language", "period"),
    [
        ("how much did the bike shed charge today", "en", "today"),
        ("quanto ha caricato la bike shed oggi", "it", "today"),
        ("how much did the garage cost this week", "en", "this_week"),
    ],
)
async def test_nothing_in_the_period(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
    text: str,
    language: str,
    period: str,
) -> None:
    """No charge ended in the period: said so, after one read."""
    response, reads = await _ask(hass, simulator, text, language)

    book = books[language]
    target = "Bike shed" if "bike" in text else "Garage"
    assert _speech(response) == book.say(
        "history_none", target=target, period=_period(book, period)
    )
    assert reads == 1


# -------------------------------------------------------------- last charge


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("when did the car last charge?", "en"),
        ("what did the last charge cost?", "en"),
        ("quando ha caricato l'ultima volta la macchina?", "it"),
        ("quanto è costata l'ultima ricarica?", "it"),
    ],
)
async def test_last_charge(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
    text: str,
    language: str,
) -> None:
    """The newest charge: when it ended (local time), its energy and cost; one read."""
    response, reads = await _ask(hass, simulator, text, language)

    book = books[language]
    assert _speech(response) == book.say(
        "last_charge_cost",
        target="Garage",
        when=book.say("when_yesterday", time="20:00"),
        energy=_kwh(book, "2"),
        cost="1.00 EUR" if language == "en" else "1,00 EUR",
    )
    assert reads == 1


async def test_last_charge_of_free_chargebox(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
) -> None:
    """The bike's last charge: its date and no cost."""
    response, _ = await _ask(hass, simulator, "when did the bike last charge")

    book = books["en"]
    assert _speech(response) == book.say(
        "last_charge_free",
        target="Bike shed",
        when=book.say("when_date", day=5, month="December", time="18:00"),
        energy=_kwh(book, "0.8"),
    )


async def test_no_last_charge_in_the_window(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing in the days one request covers: said so, with the number of days."""
    freezer.move_to(_local(date(2027, 2, 1), 12))
    response, _ = await _ask(hass, simulator, "when was the last charge")

    assert _speech(response) == books["en"].say(
        "last_charge_none",
        target=books["en"].join(["Garage", "Bike shed"]),
        days=LAST_CHARGE_DAYS,
    )


# ---------------------------------------------------------- exposure, errors


async def test_unexposed_chargebox_is_left_out(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
) -> None:
    """An unexposed chargebox is unknown by name and left out of the totals."""
    async_expose_entity(hass, conversation.DOMAIN, BIKE, False)
    await hass.async_block_till_done()
    book = books["en"]

    response, _ = await _ask(hass, simulator, "how much did charging cost this month")
    assert _speech(response) == book.say(
        "history_cost",
        charges=_charges(book, 2),
        target="Garage",
        period=_period(book, "this_month"),
        energy=_kwh(book, "6"),
        cost="3.00 EUR",
    )

    response = await intent.async_handle(
        hass,
        "test",
        INTENT_HISTORY,
        {"name": {"value": "bike shed"}},
        assistant=conversation.DOMAIN,
    )
    assert response.error_code is intent.IntentResponseErrorCode.NO_VALID_TARGETS
    assert _speech(response) == book.say("unknown_chargebox", name="bike shed")


async def test_thor_error_gets_the_translated_message(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
) -> None:
    """Thor failing: the integration's translated message, in the request's language."""
    simulator.faults.status = 500
    simulator.faults.path = "/charges/finished"

    response = await intent.async_handle(
        hass, "test", INTENT_LAST_CHARGE, {}, language="it"
    )

    key = classify(ThorServerError("x")).key
    messages = await translation.async_get_translations(
        hass, "it", "exceptions", [DOMAIN]
    )
    message = messages[f"component.{DOMAIN}.exceptions.{key}.message"]
    assert _speech(response).startswith(message.split("{")[0])


async def test_period_slot_of_an_ai_assistant(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
) -> None:
    """The `period` slot (what an AI assistant fills) picks the period."""
    response = await intent.async_handle(
        hass,
        "test",
        INTENT_HISTORY,
        {"name": {"value": "garage"}, "period": {"value": "november"}},
        language="it",
        assistant=conversation.DOMAIN,
    )
    assert response.response_type is QUERY_ANSWER
    assert "5,00 EUR" in _speech(response)
    assert books["it"].say("period_month", month="novembre") in _speech(response)

    response = await intent.async_handle(
        hass,
        "test",
        INTENT_LAST_CHARGE,
        {"name": {"value": "bike shed"}},
        assistant=conversation.DOMAIN,
    )
    assert response.response_type is QUERY_ANSWER
    assert "Bike shed" in _speech(response)


@pytest.mark.parametrize(
    ("period", "today", "expected"),
    [
        ("today", date(2026, 12, 7), (date(2026, 12, 7), date(2026, 12, 7))),
        ("yesterday", date(2026, 3, 1), (date(2026, 2, 28), date(2026, 2, 28))),
        ("this_week", date(2026, 12, 10), (date(2026, 12, 7), date(2026, 12, 10))),
        ("last_week", date(2026, 12, 7), (date(2026, 11, 30), date(2026, 12, 6))),
        ("this_month", date(2026, 12, 7), (date(2026, 12, 1), date(2026, 12, 7))),
        ("last_month", date(2027, 1, 15), (date(2026, 12, 1), date(2026, 12, 31))),
        ("november", date(2026, 12, 7), (date(2026, 11, 1), date(2026, 11, 30))),
        ("december", date(2026, 12, 7), (date(2026, 12, 1), date(2026, 12, 7))),
        ("january", date(2026, 12, 7), (date(2026, 1, 1), date(2026, 1, 31))),
        ("february", date(2027, 1, 5), (date(2026, 2, 1), date(2026, 2, 28))),
    ],
)
def test_period_dates(period: str, today: date, expected: tuple[date, date]) -> None:
    """A period is local dates, none after today; a month is its latest one."""
    assert period in PERIODS
    assert period_dates(period, today) == expected


async def test_last_charge_today(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
) -> None:
    """A charge that ended this morning is told as today's."""
    ended = _local(date(2026, 12, 7), 9)
    simulator.add_finished_charge(
        history["bike"], 1, started=ended - timedelta(hours=1), finished=ended
    )

    response, _ = await _ask(hass, simulator, "when did the bike shed last charge")

    when = books["en"].say("when_today", time="09:00")
    assert when in _speech(response)


async def test_without_period_this_month(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
) -> None:
    """No period given nor said (an AI assistant left it out): this month so far."""
    response = await intent.async_handle(
        hass, "test", INTENT_HISTORY, {"name": {"value": "garage"}}
    )

    assert _period(books["en"], "this_month") in _speech(response)
    assert "3.00 EUR" in _speech(response)


async def test_account_not_loaded(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
) -> None:
    """The account's entry is not loaded: the chargebox is unavailable, said so."""
    (entry,) = hass.config_entries.async_entries(DOMAIN)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    response = await intent.async_handle(
        hass, "test", INTENT_LAST_CHARGE, {"name": {"value": "garage"}}
    )

    assert response.error_code is intent.IntentResponseErrorCode.FAILED_TO_HANDLE
    assert _speech(response) == books["en"].say("unavailable", chargebox="Garage")


def _charge(payment: FinishedChargePayment | None, energy: float | None) -> Any:
    """Return a finished charge with a payment and an energy."""
    return FinishedCharge(
        id=1,
        chargebox="box",
        connector=1,
        date_started=None,
        date_finished=None,
        energy=energy,
        id_tag=None,
        user=None,
        type=None,
        payment=payment,
    )


def _payment(price: float | None, currency: str | None) -> FinishedChargePayment:
    """Return a payment as Thor may report it."""
    return FinishedChargePayment(
        currency=currency,
        start=None,
        method=None,
        price=price,
        success=True,
        transaction=None,
    )


def test_costs_as_thor_reports_them(books: dict[str, Phrasebook]) -> None:
    """Amounts by currency; no currency: the amount alone; no amount: None."""
    book = books["en"]
    assert _costs(
        book,
        [
            _charge(_payment(1.5, "eur"), 1000),
            _charge(_payment(2.25, "chf"), 1000),
            _charge(_payment(0.5, "eur"), 1000),
        ],
    ) == book.join(["2.00 EUR", "2.25 CHF"])
    assert _costs(book, [_charge(_payment(1.5, None), 1000)]) == "1.50"
    assert _costs(book, [_charge(_payment(None, "eur"), 1000)]) is None
    assert _energy(book, [_charge(None, None)]) == book.say("energy_not_reported")


async def test_price_not_reported(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    history: dict[str, str],
    books: dict[str, Phrasebook],
) -> None:
    """A paid charge whose amount Thor left out: said so, not "0"."""
    charges = [
        replace(
            _charge(_payment(None, "eur"), 1000),
            chargebox=history["garage"],
            date_finished=_local(date(2026, 12, 3), 18),
        )
    ]
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    with patch.object(
        entry.runtime_data.client, "finished_charges_between", return_value=charges
    ):
        response = await intent.async_handle(
            hass, "test", INTENT_HISTORY, {"name": {"value": "garage"}}
        )

    assert books["en"].say("cost_not_reported") in _speech(response)


def test_period_words_without_month_lead(books: dict[str, Phrasebook]) -> None:
    """A language whose months need no lead word; one without `history` is kept."""
    months = [f"m{number}" for number in range(1, 13)]
    words = PeriodWords.from_dict(
        {
            "language": "en",
            "history": {"periods": {"today": ["now"]}, "months": months},
        }
    )
    assert words.find("what about M3") == "march"
    assert words.template() == "(now|(" + "|".join(sorted(months)) + "))"
    expanded = with_periods(books, {"en": words})
    assert expanded["it"] is books["it"]
    assert all(
        "<period>" not in template
        for templates in expanded["en"].sentences.values()
        for template in templates
    )
