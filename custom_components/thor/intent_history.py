"""History and cost questions: what was charged in a period, and the last charge.

Two read-only intents, in every language of `sentences/`: `ThorChargeHistory` ("how
much did charging cost this month?", "how much did the garage charge last month?",
"quanto abbiamo caricato a novembre?") and `ThorLastCharge` ("when did the car last
charge?", "quanto è costata l'ultima ricarica?"). Both name a chargebox like every
Thor intent (slot `name`) or, without one, ask about every chargebox exposed to the
assistant that asks. The period is the slot `period` (one of `PERIODS`, as an AI
assistant gives it), else the words said (the `history:` part of the sentences
files, which also fill `<period>` in the sentence templates).

Answers come from Thor's finished charges: one read per account through
`history.async_charges_ended` (the client's one range reader), energy and money as
Thor reports them, and "no cost" when Thor reports no payment (a free chargebox).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, override

from homeassistant.helpers import config_validation as cv, intent
from homeassistant.util import dt as dt_util

from .errors import FailureContext, async_request_failed
from .history import (
    async_charges_ended,
    currency_of,
    ended_at,
    local_time,
    read_range,
)
from .intent import AnswerError, ThorIntentHandler
from .runtime import ThorConfigEntry
from .thor_api import (
    FINISHED_DATE_MARGIN,
    MAX_FINISHED_RANGE_DAYS,
    FinishedCharge,
    ThorError,
)
from .voice import (
    SLOT_NAME,
    KnownChargebox,
    Phrasebook,
    Phrasebooks,
    normalize,
    phrasebook_for,
)
from .vol import vol

INTENT_HISTORY: Final = "ThorChargeHistory"
INTENT_LAST_CHARGE: Final = "ThorLastCharge"
HISTORY_INTENTS: Final = (INTENT_HISTORY, INTENT_LAST_CHARGE)

SLOT_PERIOD: Final = "period"
MONTHS: Final = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
PERIODS: Final = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    *MONTHS,
)
"""Values of the `period` slot; a month is its latest one, this month so far."""
DEFAULT_PERIOD: Final = "this_month"

LAST_CHARGE_DAYS: Final = MAX_FINISHED_RANGE_DAYS - 2 * FINISHED_DATE_MARGIN.days
"""Days searched for the last charge: what one request to Thor covers, margins
included."""

_PERIOD_RULE: Final = "<period>"

_DESCRIPTIONS: Final = {
    INTENT_HISTORY: (
        "Tells how much energy Thor chargeboxes charged in a period and what it "
        "cost, from Thor's finished charges. `name`: a chargebox (leave it out for "
        "every chargebox); `period`: today, yesterday, this_week, last_week, "
        "this_month (the default), last_month, or a month name in English (its "
        "latest occurrence)."
    ),
    INTENT_LAST_CHARGE: (
        "Tells when the last charge at Thor chargeboxes ended, how much energy it "
        "delivered and what it cost. `name`: a chargebox (leave it out for every "
        "chargebox)."
    ),
}


# ----------------------------------------------------------------------- words


@dataclass(frozen=True, kw_only=True)
class PeriodWords:
    """How one language names periods (the `history:` part of a sentences file)."""

    language: str
    phrases: dict[str, str]
    """Normalized phrase: period (`PERIODS`), months included."""
    month_lead: tuple[str, ...]
    months: tuple[str, ...]
    """Month names as answers say them, January first."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PeriodWords:
        """Return the period words of a sentences file."""
        history = data.get("history") or {}
        months = tuple(str(month) for month in history.get("months") or ())
        phrases = {
            normalize(str(phrase)): str(period)
            for period, words in (history.get("periods") or {}).items()
            for phrase in words or ()
        }
        phrases |= {normalize(month): MONTHS[i] for i, month in enumerate(months)}
        return cls(
            language=str(data["language"]),
            phrases=phrases,
            month_lead=tuple(
                normalize(str(w)) for w in history.get("month_lead") or ()
            ),
            months=months,
        )

    def find(self, text: str) -> str | None:
        """Return the period said in a sentence (the longest phrase), None if none."""
        padded = f" {normalize(text)} "
        found = [phrase for phrase in self.phrases if f" {phrase} " in padded]
        return self.phrases[max(found, key=len)] if found else None

    def template(self) -> str:
        """Return the hassil alternative that `<period>` stands for."""
        months = {normalize(month) for month in self.months}
        plain = sorted(set(self.phrases) - months)
        month = "(" + "|".join(sorted(months)) + ")"
        if self.month_lead:
            month = f"[({'|'.join(self.month_lead)})] {month}"
        return "(" + "|".join([*plain, month]) + ")"


type PeriodBooks = dict[str, PeriodWords]


def load_period_words(files: Iterable[Mapping[str, Any]]) -> PeriodBooks:
    """Return the period words of each sentences file."""
    words: PeriodBooks = {}
    for data in files:
        book = PeriodWords.from_dict(data)
        words[book.language] = book
    return words


def with_periods(books: Phrasebooks, words: PeriodBooks) -> Phrasebooks:
    """Return the phrasebooks with `<period>` in their sentences spelled out."""
    expanded: Phrasebooks = {}
    for language, book in books.items():
        period = words.get(language)
        if period is None:
            expanded[language] = book
            continue
        rule = period.template()
        expanded[language] = replace(
            book,
            sentences={
                intent_type: [t.replace(_PERIOD_RULE, rule) for t in templates]
                for intent_type, templates in book.sentences.items()
            },
        )
    return expanded


def history_handlers(
    files: Iterable[Mapping[str, Any]], books: Phrasebooks
) -> tuple[Phrasebooks, list[intent.IntentHandler]]:
    """Return the phrasebooks with their periods, and the history intent handlers."""
    words = load_period_words(files)
    books = with_periods(books, words)
    return books, [ChargeHistoryHandler(books, words), LastChargeHandler(books, words)]


# ----------------------------------------------------------------------- periods


def _month_start(day: date, back: int = 0) -> date:
    """Return the first day of the month `back` months before the day's."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def period_dates(period: str, today: date) -> tuple[date, date]:
    """Return the first and last local dates of a period, none after today."""
    monday = today - timedelta(days=today.weekday())
    match period:
        case "today":
            return today, today
        case "yesterday":
            return today - timedelta(days=1), today - timedelta(days=1)
        case "this_week":
            return monday, today
        case "last_week":
            return monday - timedelta(days=7), monday - timedelta(days=1)
        case "this_month":
            return _month_start(today), today
        case "last_month":
            return _month_start(today, 1), _month_start(today) - timedelta(days=1)
    month = MONTHS.index(period) + 1
    year = today.year if month <= today.month else today.year - 1
    start = date(year, month, 1)
    return start, min(today, _month_start(start, -1) - timedelta(days=1))


# ----------------------------------------------------------------------- answers


def _money(book: Phrasebook, amount: float, currency: str | None) -> str:
    """Return an amount of money as spoken: 2 decimals and the currency Thor gave."""
    value = f"{amount:.2f}".replace(".", book.responses["decimal_separator"])
    if currency is None:
        return value
    return book.say("money", amount=value, currency=currency)


def _costs(book: Phrasebook, charges: Iterable[FinishedCharge]) -> str | None:
    """Return what paid charges cost, by currency; None when Thor gave no amount."""
    totals: dict[str | None, float] = {}
    for charge in charges:
        if charge.payment is not None and charge.payment.price is not None:
            currency = currency_of(charge.payment)
            totals[currency] = totals.get(currency, 0.0) + charge.payment.price
    if not totals:
        return None
    return book.join(
        (_money(book, amount, currency) for currency, amount in totals.items()), "and"
    )


def _energy(book: Phrasebook, charges: Iterable[FinishedCharge]) -> str:
    """Return the energy of charges as spoken; what Thor did not report is left out."""
    known = [charge.energy for charge in charges if charge.energy is not None]
    return book.energy(sum(known)) if known else book.say("energy_not_reported")


def _when(book: Phrasebook, words: PeriodWords, when: datetime) -> str:
    """Return when something happened, in Home Assistant's time zone, as spoken."""
    local = local_time(when)
    today = dt_util.now().date()
    time = local.strftime("%H:%M")
    if local.date() == today:
        return book.say("when_today", time=time)
    if local.date() == today - timedelta(days=1):
        return book.say("when_yesterday", time=time)
    return book.say(
        "when_date",
        day=local.day,
        month=words.months[local.month - 1],
        time=time,
    )


class _HistoryHandler(ThorIntentHandler):
    """Answers a question about past charges of one chargebox or of all exposed."""

    response_type = intent.IntentResponseType.QUERY_ANSWER

    def __init__(self, books: Phrasebooks, words: PeriodBooks) -> None:
        """Initialize the handler with the words of every language."""
        self.books = books
        self.words = words
        self.description = _DESCRIPTIONS[self.intent_type]

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        """Return the slots: the chargebox's name."""
        return {vol.Optional(SLOT_NAME): cv.string}

    def period_words(self, book: Phrasebook) -> PeriodWords:
        """Return the period words of a phrasebook's language (else English's)."""
        return self.words.get(book.language) or next(iter(self.words.values()))

    @override
    async def _async_speak(
        self,
        intent_obj: intent.Intent,
        slots: dict[str, Any],
        book: Phrasebook,
        boxes: list[KnownChargebox],
    ) -> str:
        """Answer about every chargebox the name designates (all without a name)."""
        boxes.extend(
            self._named(
                intent_obj.hass,
                intent_obj.assistant,
                slots.get(SLOT_NAME, {}).get("value"),
            ).boxes
        )
        return await self._async_history_answer(intent_obj, slots, book, boxes)

    async def _async_history_answer(
        self,
        intent_obj: intent.Intent,
        slots: dict[str, Any],
        book: Phrasebook,
        boxes: list[KnownChargebox],
    ) -> str:
        """Read the history and return what to say."""
        raise NotImplementedError

    @staticmethod
    async def _async_read(
        boxes: list[KnownChargebox], start: date, end: date
    ) -> list[FinishedCharge]:
        """Return the charges of the chargeboxes that ended from start to end.

        One read per Thor account: of its one chargebox asked about, else of the
        whole account (then filtered). Newest first.
        """
        accounts: dict[str, tuple[ThorConfigEntry, list[KnownChargebox]]] = {}
        for box in boxes:
            if box.controller is None:
                raise AnswerError(
                    "unavailable",
                    intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                    chargebox=box.name,
                )
            entry: ThorConfigEntry = box.controller.entry
            accounts.setdefault(entry.entry_id, (entry, []))[1].append(box)
        charges: list[FinishedCharge] = []
        for entry, asked in accounts.values():
            ids = {box.chargebox_id for box in asked}
            only = asked[0].chargebox_id if len(asked) == 1 else None
            try:
                charges += await async_charges_ended(
                    entry.runtime_data.client, start, end, ids, only
                )
            except ThorError as err:
                first, last = read_range(start, end)
                raise await async_request_failed(
                    entry,
                    err,
                    {
                        "chargebox": ", ".join(box.name for box in asked),
                        "chargebox_id": only or ", ".join(sorted(ids)),
                        "connector": "",
                        "count": "",
                        "start": first.isoformat(),
                        "end": last.isoformat(),
                    },
                    FailureContext.HISTORY,
                ) from err
        return sorted(
            charges,
            key=lambda charge: ended_at(charge) or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )


class ChargeHistoryHandler(_HistoryHandler):
    """Tell the energy and the cost of the charges that ended in a period."""

    intent_type = INTENT_HISTORY

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        """Return the slots: the chargebox's name and the period."""
        return {**super().slot_schema, vol.Optional(SLOT_PERIOD): vol.In(PERIODS)}

    def _period(self, intent_obj: intent.Intent, slots: dict[str, Any]) -> str:
        """Return the period asked about: the slot, else the words said."""
        if (period := slots.get(SLOT_PERIOD, {}).get("value")) is not None:
            return str(period)
        text = intent_obj.text_input or ""
        book = phrasebook_for(self.books, intent_obj.language)
        # The request's language first: "marzo" is March in Italian only.
        for words in (self.period_words(book), *self.words.values()):
            if (found := words.find(text)) is not None:
                return found
        return DEFAULT_PERIOD

    @override
    async def _async_history_answer(
        self,
        intent_obj: intent.Intent,
        slots: dict[str, Any],
        book: Phrasebook,
        boxes: list[KnownChargebox],
    ) -> str:
        period = self._period(intent_obj, slots)
        start, end = period_dates(period, dt_util.now().date())
        charges = await self._async_read(boxes, start, end)
        words = self.period_words(book)
        spoken = (
            book.say("period_month", month=words.months[MONTHS.index(period)])
            if period in MONTHS
            else book.say(f"period_{period}")
        )
        target = book.join((box.name for box in boxes), "and")
        if not charges:
            return book.say("history_none", target=target, period=spoken)
        placeholders = {
            "target": target,
            "period": spoken,
            "charges": book.say(
                "charges_one" if len(charges) == 1 else "charges_many",
                count=len(charges),
            ),
            "energy": _energy(book, charges),
        }
        free = sum(1 for charge in charges if charge.payment is None)
        if free == len(charges):
            return book.say("history_free", **placeholders)
        cost = _costs(book, charges) or book.say("cost_not_reported")
        if free:
            return book.say("history_partly_free", cost=cost, free=free, **placeholders)
        return book.say("history_cost", cost=cost, **placeholders)


class LastChargeHandler(_HistoryHandler):
    """Tell when the last charge ended, what it delivered and what it cost."""

    intent_type = INTENT_LAST_CHARGE

    @override
    async def _async_history_answer(
        self,
        intent_obj: intent.Intent,
        slots: dict[str, Any],
        book: Phrasebook,
        boxes: list[KnownChargebox],
    ) -> str:
        today = dt_util.now().date()
        charges = await self._async_read(
            boxes, today - timedelta(days=LAST_CHARGE_DAYS - 1), today
        )
        names = {box.chargebox_id: box.name for box in boxes}
        target = book.join(names.values(), "and")
        if not charges:
            return book.say("last_charge_none", target=target, days=LAST_CHARGE_DAYS)
        last = charges[0]
        when = ended_at(last)
        placeholders = {
            "target": names.get(last.chargebox, target),
            "when": "" if when is None else _when(book, self.period_words(book), when),
            "energy": _energy(book, [last]),
        }
        if last.payment is None:
            return book.say("last_charge_free", **placeholders)
        cost = _costs(book, [last]) or book.say("cost_not_reported")
        return book.say("last_charge_cost", cost=cost, **placeholders)
