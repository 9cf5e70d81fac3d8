"""Intents of the Thor integration: start, stop and ask about charges by voice.

Home Assistant's `intent` integration sets up this platform once Thor is loaded
(`async_setup_intents`). The handlers name a chargebox by what people call it (slot
`name`, optional when there is one chargebox) and a connector by its number (slot
`connector`, optional); they answer in the request's language with the words of
`sentences/<language>.yaml`, and Thor's refusals with the integration's translated
messages. `voice.py` makes Assist's default agent hear them; other agents (and
`custom_sentences`) can use them as they are.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final, override

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, intent, translation

from .charge_control import ThorChargeController
from .const import DOMAIN
from .data import ThorData
from .runtime import ThorConfigEntry
from .voice import (
    INTENT_ENERGY,
    INTENT_FREE,
    INTENT_START,
    INTENT_STATUS,
    INTENT_STOP,
    QUESTION_SLOT,
    SLOT_CHARGEBOX,
    SLOT_CONNECTOR,
    SLOT_NAME,
    KnownChargebox,
    NameLevel,
    Phrasebook,
    Phrasebooks,
    ThorSentenceTriggers,
    async_known_chargeboxes,
    load_phrasebooks,
    load_sentence_files,
    name_table,
    normalize,
    phrasebook_for,
    strip_article,
)
from .vol import vol

_LONG_AGO: Final = datetime.min.replace(tzinfo=UTC)

_DESCRIPTIONS: Final = {
    INTENT_START: "Starts charging an electric vehicle at a Thor chargebox.",
    INTENT_STOP: "Stops the charge running at a Thor chargebox.",
    INTENT_STATUS: "Tells whether a Thor chargebox is charging a vehicle; without "
    "a name, whether anything is charging.",
    INTENT_FREE: "Tells whether a Thor chargebox, or each of its connectors, is "
    "free to charge.",
    INTENT_ENERGY: "Tells how much energy the running charge of a Thor chargebox "
    "has delivered so far.",
}


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the intents, and the sentences of Assist's default agent."""
    # The history questions build on this module's handler: imported once it exists.
    from .intent_history import history_handlers  # noqa: PLC0415

    # One read of the sentences files serves the phrasebooks and the period words.
    files = await hass.async_add_executor_job(load_sentence_files)
    books, history = history_handlers(files, load_phrasebooks(files))
    for handler in (
        StartChargingHandler(books),
        StopChargingHandler(books),
        ChargingStatusHandler(books),
        ChargerFreeHandler(books),
        ChargeEnergyHandler(books),
        *history,
    ):
        intent.async_register(hass, handler)
    await ThorSentenceTriggers(hass, books).async_setup()


class AnswerError(Exception):
    """An answer that ends a request without acting (an error or a question)."""

    def __init__(
        self,
        key: str,
        code: intent.IntentResponseErrorCode = (
            intent.IntentResponseErrorCode.NO_VALID_TARGETS
        ),
        *,
        asks: KnownChargebox | None = None,
        **placeholders: object,
    ) -> None:
        """Say the answer `key` of the phrasebook with its placeholders."""
        super().__init__(key)
        self.key = key
        self.code = code
        self.asks = asks
        """The chargebox whose connector the answer asks for."""
        self.placeholders = placeholders


@dataclass(frozen=True, kw_only=True, slots=True)
class _Request:
    """What a handler acts on: a chargebox with a reading, and a connector if said."""

    box: KnownChargebox
    controller: ThorChargeController
    reading: ThorData
    connector: int | None
    book: Phrasebook

    @property
    def connectors(self) -> list[int]:
        """Return the connector numbers of the chargebox."""
        return sorted(
            connector.number for connector in self.reading.chargebox.connectors
        )

    @property
    def single(self) -> bool:
        """Return whether the chargebox has one connector."""
        return len(self.connectors) == 1

    def target(self, connector: int | None) -> str:
        """Return the chargebox, with the connector when it has several."""
        return self.book.target(self.box.name, None if self.single else connector)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Named:
    """The chargeboxes a request names, and whether it names one in particular."""

    boxes: list[KnownChargebox]
    broad: bool
    """True when no name, a charger word or a vehicle was said: "the charger",
    "is anything charging?" may mean them all."""


class ThorIntentHandler(intent.IntentHandler):
    """Resolves the chargebox and the connector, and speaks the outcome."""

    response_type = intent.IntentResponseType.ACTION_DONE

    def __init__(self, books: Phrasebooks) -> None:
        """Initialize the handler with the words of every language."""
        self.books = books
        self.description = _DESCRIPTIONS[self.intent_type]

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        """Return the slots: the chargebox's name and the connector's number."""
        return {
            vol.Optional(SLOT_NAME): cv.string,
            vol.Optional(SLOT_CONNECTOR): vol.Any(cv.positive_int, cv.string),
        }

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Answer the request; every outcome is spoken, none is raised."""
        slots = self.async_validate_slots(intent_obj.slots)
        book = phrasebook_for(self.books, intent_obj.language)
        response = intent_obj.create_response()
        boxes: list[KnownChargebox] = []
        try:
            speech = await self._async_speak(intent_obj, slots, book, boxes)
            response.response_type = self.response_type
            response.async_set_speech(speech)
            response.async_set_results(
                [
                    intent.IntentResponseTarget(
                        name=box.name,
                        type=intent.IntentResponseTargetType.DEVICE,
                        id=box.device_id,
                    )
                    for box in boxes
                    if box.device_id is not None
                ]
            )
        except AnswerError as answer:
            response.async_set_error(
                answer.code, book.say(answer.key, **answer.placeholders)
            )
            if answer.asks is not None:
                # Assist's sentence triggers hear the answer in this conversation.
                response.async_set_speech_slots(
                    {
                        QUESTION_SLOT: answer.asks.chargebox_id,
                        SLOT_CHARGEBOX: answer.asks.name,
                    }
                )
        except HomeAssistantError as err:
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                await async_message(
                    intent_obj.hass, book, err, boxes[0] if len(boxes) == 1 else None
                ),
            )
        return response

    async def _async_speak(
        self,
        intent_obj: intent.Intent,
        slots: dict[str, Any],
        book: Phrasebook,
        boxes: list[KnownChargebox],
    ) -> str:
        """Act on the request and return what to say.

        `boxes` receives the chargeboxes the request is about as soon as they are
        known: the results name them, and an error names the one.
        """
        named = self._named(
            intent_obj.hass,
            intent_obj.assistant,
            slots.get(SLOT_NAME, {}).get("value"),
        )
        connector = slots.get(SLOT_CONNECTOR, {}).get("value")
        if len(named.boxes) > 1 and named.broad and connector is None:
            boxes.extend(named.boxes)
            return await self._async_answer_all(
                [self._request(box, book) for box in self._available(boxes, book)],
                book,
            )
        if len(named.boxes) > 1:
            raise AnswerError(
                "which_chargebox",
                names=book.join((box.name for box in named.boxes), "or"),
            )
        boxes.extend(named.boxes)
        return await self._async_answer(self._resolve(book, named.boxes[0], connector))

    def _named(
        self, hass: HomeAssistant, assistant: str | None, name: str | None
    ) -> _Named:
        """Return the chargeboxes a name designates (all of them without a name).

        Only the chargeboxes exposed to the assistant that asks can be named.
        """
        boxes = async_known_chargeboxes(hass, self.books, assistant)
        if not boxes:
            raise AnswerError("no_chargebox")
        if name is None or not name.strip():
            return _Named(boxes=boxes, broad=True)
        key = strip_article(normalize(name), self.books)
        ids = name_table(boxes).get(key, set())
        candidates = [box for box in boxes if box.chargebox_id in ids]
        if not candidates:
            raise AnswerError("unknown_chargebox", name=name.strip())
        level = max(box.names[key] for box in candidates)
        return _Named(boxes=candidates, broad=level <= NameLevel.VEHICLE)

    @staticmethod
    def _available(
        boxes: list[KnownChargebox], book: Phrasebook
    ) -> list[KnownChargebox]:
        """Return the chargeboxes with a reading; none of them is unavailable."""
        available = [
            box
            for box in boxes
            if box.controller is not None and box.controller.reading is not None
        ]
        if not available:
            raise AnswerError(
                "unavailable",
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                chargebox=book.join(box.name for box in boxes),
            )
        return available

    @staticmethod
    def _request(box: KnownChargebox, book: Phrasebook) -> _Request:
        """Return a request on a whole chargebox, which must be available."""
        controller = box.controller
        reading = None if controller is None else controller.reading
        if controller is None or reading is None:
            raise AnswerError(
                "unavailable",
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                chargebox=box.name,
            )
        return _Request(
            box=box, controller=controller, reading=reading, connector=None, book=book
        )

    def _resolve(
        self, book: Phrasebook, box: KnownChargebox, connector: int | str | None
    ) -> _Request:
        """Return the request on a chargebox, and on the connector if one is said."""
        request = self._request(box, book)
        if connector is None:
            return request
        number = (
            connector
            if isinstance(connector, int)
            else book.number(normalize(connector))
        )
        if number is None:
            # "presa tredici" in a language that does not count that far.
            number = next(
                (
                    found
                    for other in self.books.values()
                    if (found := other.number(normalize(str(connector)))) is not None
                ),
                None,
            )
        if number not in request.connectors:
            raise AnswerError(
                "no_connector",
                chargebox=box.name,
                connector=connector,
                count=len(request.connectors),
            )
        return replace(request, connector=number)

    async def _async_answer(self, request: _Request) -> str:
        """Act on the request and return what to say."""
        raise NotImplementedError

    async def _async_answer_all(
        self, requests: list[_Request], book: Phrasebook
    ) -> str:
        """Answer a request that names no chargebox in particular, with several.

        Only questions answer over them all; a command asks which one.
        """
        raise AnswerError(
            "which_chargebox",
            names=book.join((request.box.name for request in requests), "or"),
        )


class StartChargingHandler(ThorIntentHandler):
    """Start a charge on a chargebox's connector."""

    intent_type = INTENT_START

    @override
    async def _async_answer(self, request: _Request) -> str:
        controller = request.controller
        connector = request.connector
        if connector is None:
            if request.single:
                connector = request.connectors[0]
            else:
                free = [c for c in request.connectors if not controller.is_on(c)]
                if not free:
                    raise AnswerError(
                        "all_busy",
                        intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                        chargebox=request.box.name,
                    )
                if len(free) > 1:
                    raise AnswerError(
                        "which_connector",
                        asks=request.box,
                        chargebox=request.box.name,
                        count=len(request.connectors),
                        connectors=request.book.join(request.connectors, "or"),
                    )
                connector = free[0]
        await controller.async_start(connector)
        return request.book.say("started", target=request.target(connector))


class StopChargingHandler(ThorIntentHandler):
    """Stop the charge on a chargebox's connector."""

    intent_type = INTENT_STOP

    @override
    async def _async_answer(self, request: _Request) -> str:
        controller = request.controller
        connector = request.connector
        if connector is None:
            charging = [c for c in request.connectors if controller.is_on(c)]
            if len(charging) > 1:
                raise AnswerError(
                    "which_connector_stop",
                    asks=request.box,
                    chargebox=request.box.name,
                    connectors=request.book.join(charging, "and"),
                )
            if not charging:
                raise AnswerError(
                    "already_idle",
                    intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                    target=request.box.name,
                )
            connector = charging[0]
        elif not controller.is_on(connector):
            raise AnswerError(
                "already_idle",
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                target=request.target(connector),
            )
        await controller.async_stop(connector)
        return request.book.say("stopped", target=request.target(connector))

    @override
    async def _async_answer_all(
        self, requests: list[_Request], book: Phrasebook
    ) -> str:
        """Answer "stop charging": stop the one charge that runs, else ask which."""
        running = [
            (request, connector)
            for request in requests
            for connector in request.connectors
            if request.controller.is_on(connector)
        ]
        if not running:
            raise AnswerError(
                "nothing_to_stop", intent.IntentResponseErrorCode.FAILED_TO_HANDLE
            )
        if len(running) > 1:
            targets = [request.target(connector) for request, connector in running]
            raise AnswerError(
                "which_charge_stop",
                targets=book.join(targets, "and"),
                example=targets[0],
            )
        request, connector = running[0]
        return await self._async_answer(replace(request, connector=connector))


class ChargingStatusHandler(ThorIntentHandler):
    """Tell whether a chargebox (or one of its connectors) is charging."""

    intent_type = INTENT_STATUS
    response_type = intent.IntentResponseType.QUERY_ANSWER

    @override
    async def _async_answer(self, request: _Request) -> str:
        controller = request.controller
        book, name = request.book, request.box.name
        if request.connector is not None or request.single:
            connector = request.connector or request.connectors[0]
            target = request.target(connector)
            pending = controller.pending(connector)
            if pending is not None and pending != controller.charging(connector):
                return book.say(
                    "status_starting" if pending else "status_stopping", target=target
                )
            if controller.charging(connector):
                return book.say("status_charging", target=target)
            return book.say("status_idle", target=target)
        charging = [c for c in request.connectors if controller.is_on(c)]
        if not charging:
            return book.say("status_idle", target=name)
        if len(charging) == 1:
            return book.say("status_charging_on", chargebox=name, connector=charging[0])
        return book.say(
            "status_charging_on_many",
            chargebox=name,
            connectors=book.join(charging, "and"),
        )

    @override
    async def _async_answer_all(
        self, requests: list[_Request], book: Phrasebook
    ) -> str:
        """Answer "is anything charging?": the connectors charging, anywhere."""
        charging = [
            request.target(connector)
            for request in requests
            for connector in request.connectors
            if request.controller.is_on(connector)
        ]
        if not charging:
            return book.say("nothing_charging")
        if len(charging) == 1:
            return book.say("status_charging", target=charging[0])
        return book.say("status_many", targets=book.join(charging, "and"))


class ChargerFreeHandler(ThorIntentHandler):
    """Tell whether a chargebox (or a connector) is free: no charge runs on it."""

    intent_type = INTENT_FREE
    response_type = intent.IntentResponseType.QUERY_ANSWER

    @override
    async def _async_answer(self, request: _Request) -> str:
        connectors = (
            request.connectors if request.connector is None else [request.connector]
        )
        free = [c for c in connectors if not request.controller.is_on(c)]
        book = request.book
        target = request.target(request.connector)
        if len(free) == len(connectors):
            return book.say("free_yes", target=target)
        if not free:
            return book.say("free_no", target=target)
        parts = [
            book.say(
                "connector_free" if connector in free else "connector_busy",
                connector=connector,
            )
            for connector in connectors
        ]
        return book.say(
            "free_mixed", chargebox=request.box.name, parts=book.join(parts, "and")
        )

    @override
    async def _async_answer_all(
        self, requests: list[_Request], book: Phrasebook
    ) -> str:
        """Answer "is the charger free?" with several: each chargebox's answer."""
        return " ".join([await self._async_answer(request) for request in requests])


class ChargeEnergyHandler(ThorIntentHandler):
    """Tell how much energy the running charge has delivered."""

    intent_type = INTENT_ENERGY
    response_type = intent.IntentResponseType.QUERY_ANSWER

    @override
    async def _async_answer(self, request: _Request) -> str:
        controller = request.controller
        book, reading = request.book, request.reading
        connectors = (
            request.connectors if request.connector is None else [request.connector]
        )
        charging = [c for c in connectors if controller.charging(c)]
        if not charging:
            connector = connectors[0] if len(connectors) == 1 else None
            target = request.target(connector)
            last = self._last_energy(controller, request, connector)
            if last is None:
                return book.say("energy_idle", target=target)
            return book.say("energy_idle_last", target=target, energy=book.energy(last))
        # The session energy sensors show the same figure (Wh of the running charge).
        energies = [
            charge.energy
            for c in charging
            if (charge := reading.charges.get(c)) is not None
            and charge.energy is not None
        ]
        if len(energies) < len(charging):
            target = request.target(charging[0] if len(charging) == 1 else None)
            return book.say("energy_unknown", target=target)
        if len(charging) == 1:
            return book.say(
                "energy",
                target=request.target(charging[0]),
                energy=book.energy(energies[0]),
            )
        return book.say(
            "energy_many", chargebox=request.box.name, energy=book.energy(sum(energies))
        )

    @staticmethod
    def _last_energy(
        controller: ThorChargeController, request: _Request, connector: int | None
    ) -> float | None:
        """Return the Wh of the last charge that ended (on the connector), if known."""
        entry: ThorConfigEntry = controller.entry
        last = entry.runtime_data.energy.last_sessions(request.box.chargebox_id)
        sessions = [
            session
            for number, session in last.items()
            if connector is None or number == connector
        ]
        ended = [s for s in sessions if s.energy is not None]
        if not ended:
            return None
        # The charge that began last. Not the one that ended last: a charge Thor
        # listed as finished ends at Thor's time, one it has not listed yet when Home
        # Assistant saw it end, and Thor's clock may run ahead. Both know when it
        # began by Thor's clock, and Thor numbers its transactions in that order.
        latest = max(
            ended,
            key=lambda s: (
                s.started or _LONG_AGO,
                s.transaction or 0,
                s.ended or _LONG_AGO,
            ),
        )
        return latest.energy


async def async_message(
    hass: HomeAssistant,
    book: Phrasebook,
    err: HomeAssistantError,
    box: KnownChargebox | None,
) -> str:
    """Return a command's error in the request's language.

    The charge controller's messages are the integration's translated exceptions;
    they are read in the language of the request, not of the server.
    """
    if err.translation_domain == DOMAIN and err.translation_key:
        messages = await translation.async_get_translations(
            hass, book.language, "exceptions", [DOMAIN]
        )
        message = messages.get(
            f"component.{DOMAIN}.exceptions.{err.translation_key}.message"
        )
        if message:
            for name, value in (err.translation_placeholders or {}).items():
                message = message.replace(f"{{{name}}}", str(value))
            return message
    return str(err) or book.say("failed", chargebox=box.name if box else "")
