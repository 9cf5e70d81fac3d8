"""Voice commands: the words of `sentences/<language>.yaml` and how Assist hears them.

Assist's default agent offers an integration no public way to add intent sentences
(`custom_sentences/` is the user's folder), but it matches *sentence triggers* before
its own intents, in every language. `ThorSentenceTriggers` registers one trigger per
Thor intent through the public trigger helpers, as an automation with a
`conversation` trigger would: its sentences are the templates of every language with
`<chargebox>` replaced by the names the configured chargeboxes answer to, so nothing
but Thor's chargeboxes is ever taken from other sentences. The trigger's action
hands the request to the intent handlers of `intent.py`, whose answer is spoken.

Names are the chargebox's device name (or the name the user gave it), its subentry
title, its Thor alias and its area; "the car" or "la macchina" names the chargeboxes
of that vehicle type. They are compared without case, accents, punctuation or a
leading article ("the", "del", "dell'"...).
"""

import asyncio
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from pathlib import Path
import re
from typing import Any, Final
import unicodedata

from homeassistant.components.homeassistant.const import DATA_EXPOSED_ENTITIES
from homeassistant.components.homeassistant.exposed_entities import (
    async_listen_entity_updates,
    async_should_expose,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_ID,
    CONF_PLATFORM,
    EVENT_HOMEASSISTANT_STOP,
    Platform,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    HomeAssistant,
    callback,
    split_entity_id,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    intent,
)
from homeassistant.helpers.chat_session import CONVERSATION_TIMEOUT, current_session
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.script import ScriptRunResult
from homeassistant.helpers.trigger import (
    async_initialize_triggers,
    async_validate_trigger_config,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml_dict

from .charge_control import ThorChargeController
from .const import DOMAIN, LOGGER
from .data import chargebox_name
from .entries import chargebox_subentries
from .thor_api import parse_connector
from .vol import vol

INTENT_START: Final = "ThorStartCharging"
INTENT_STOP: Final = "ThorStopCharging"
INTENT_STATUS: Final = "ThorChargingStatus"
INTENT_ENERGY: Final = "ThorChargeEnergy"
INTENT_FREE: Final = "ThorChargerFree"
INTENTS: Final = (INTENT_START, INTENT_STOP, INTENT_STATUS, INTENT_FREE, INTENT_ENERGY)
FOLLOW_UP: Final = "ThorFollowUp"
"""The trigger of the answers to "which connector?" (not an intent)."""

SLOT_NAME: Final = "name"
SLOT_CONNECTOR: Final = "connector"

DEFAULT_LANGUAGE: Final = "en"
SENTENCES_DIR: Final = Path(__file__).parent / "sentences"
CONVERSATION: Final = "conversation"
"""The conversation integration: its trigger platform, and the assistant's name."""

_CHARGEBOX_RULE: Final = "<chargebox>"
_CHARGER_RULE: Final = "<charger>"
_CONNECTOR_RULE: Final = "<connector>"
_NUMBER_RULE: Final = "<number>"
_NOT_WORD: Final = re.compile(r"[\W_]+")


def normalize(text: str) -> str:
    """Return text without case, accents or punctuation, words one space apart."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", bare.casefold()).split())


def _spoken(text: str) -> str:
    """Return text as it may stand in a sentence template: accents kept."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def _words(values: Any) -> tuple[str, ...]:
    """Return a list of words from a phrasebook, normalized."""
    return tuple(
        word for word in (normalize(str(value)) for value in values or ()) if word
    )


def _templates(values: Any) -> tuple[str, ...]:
    """Return phrases as sentence templates hold them: lower case, apostrophes kept."""
    return tuple(
        " ".join(text.split())
        for text in (str(value).casefold() for value in values or ())
    )


@dataclass(frozen=True, kw_only=True)
class Phrasebook:
    """The words, sentences and answers of one language."""

    language: str
    articles: tuple[str, ...]
    polite_before: tuple[str, ...]
    polite_after: tuple[str, ...]
    chargers: tuple[str, ...]
    chargers_first: bool
    """Whether the charger word comes before the name ("il caricatore del garage")."""
    connector_lead: tuple[str, ...]
    connector_words: tuple[str, ...]
    number_prefix: tuple[str, ...]
    numbers: dict[str, int]
    vehicles: dict[str, tuple[str, ...]]
    sentences: dict[str, list[str]]
    follow_up: tuple[str, ...]
    responses: dict[str, str]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Phrasebook:
        """Return the phrasebook of a sentences file."""
        words = data.get("words") or {}
        return cls(
            language=str(data["language"]),
            articles=_words(words.get("articles")),
            polite_before=_templates(words.get("polite_before")),
            polite_after=_templates(words.get("polite_after")),
            chargers=_words(words.get("chargers")),
            chargers_first=words.get("chargers_position") == "before",
            connector_lead=_words(words.get("connector_lead")),
            connector_words=_words(words.get("connector")),
            number_prefix=_words(words.get("number_prefix")),
            numbers={
                normalize(str(word)): int(number)
                for word, number in (words.get("numbers") or {}).items()
            },
            vehicles={
                str(vehicle): _words(names)
                for vehicle, names in (words.get("vehicles") or {}).items()
            },
            sentences={
                str(intent_type): [str(sentence) for sentence in sentences]
                for intent_type, sentences in (data.get("sentences") or {}).items()
            },
            follow_up=tuple(str(sentence) for sentence in data.get("follow_up") or ()),
            responses={
                str(key): str(text)
                for key, text in (data.get("responses") or {}).items()
            },
        )

    def say(self, key: str, **placeholders: object) -> str:
        """Return an answer with its placeholders filled in."""
        text = self.responses[key]
        for name, value in placeholders.items():
            text = text.replace(f"{{{name}}}", str(value))
        return text

    def join(self, items: Iterable[object], conjunction: str = "and") -> str:
        """Return "a, b and c" in this language (`conjunction`: "and" or "or")."""
        texts = [str(item) for item in items]
        if len(texts) < 2:
            return "".join(texts)
        return f"{', '.join(texts[:-1])} {self.responses[conjunction]} {texts[-1]}"

    def target(self, chargebox: str, connector: int | None) -> str:
        """Return how a chargebox, or one of its connectors, is named in answers."""
        if connector is None:
            return chargebox
        return self.say("target_connector", chargebox=chargebox, connector=connector)

    def energy(self, wh: float) -> str:
        """Return an energy (given in Wh) as spoken: kWh, 1 decimal (2 under 1 kWh)."""
        kwh = wh / 1000
        text = f"{kwh:.{1 if kwh >= 1 else 2}f}".rstrip("0").rstrip(".")
        if text in {"0", "-0"}:
            text = "0"
        key = "kwh_one" if text == "1" else "kwh_many"
        return self.say(
            key, value=text.replace(".", self.responses["decimal_separator"])
        )

    def number(self, token: str) -> int | None:
        """Return the connector number a spoken token stands for, None if none."""
        if token.isdigit():
            return parse_connector(token)
        return self.numbers.get(token)


type Phrasebooks = dict[str, Phrasebook]


def load_sentence_files() -> list[dict[str, Any]]:
    """Read every sentences file, one per language (in the executor)."""
    return [load_yaml_dict(path) for path in sorted(SENTENCES_DIR.glob("*.yaml"))]


def load_phrasebooks(
    files: Iterable[Mapping[str, Any]] | None = None,
) -> Phrasebooks:
    """Return the phrasebook of each sentences file (read now when not given)."""
    books: Phrasebooks = {}
    for data in load_sentence_files() if files is None else files:
        book = Phrasebook.from_dict(data)
        books[book.language] = book
    return books


def phrasebook_for(books: Phrasebooks, language: str | None) -> Phrasebook:
    """Return the phrasebook of a request's language ("it-IT": it), else English."""
    primary = (language or "").replace("_", "-").split("-")[0].casefold()
    return books.get(primary) or books[DEFAULT_LANGUAGE]


# ----------------------------------------------------------------- chargeboxes


class NameLevel(IntEnum):
    """How firmly a name designates chargeboxes: a stronger name hides weaker ones."""

    CHARGER = -1
    """"The charger": every chargebox."""
    VEHICLE = 0
    """"The car": every chargebox of that vehicle type."""
    AREA = 1
    """The area of the chargebox's device."""
    NAME = 2
    """The chargebox's own names."""


@dataclass(kw_only=True)
class KnownChargebox:
    """A configured chargebox and what is known of it now."""

    chargebox_id: str
    name: str
    """What answers call it: the user's device name, else Thor's or the subentry's."""
    controller: ThorChargeController | None
    """None when its account entry is not loaded."""
    device_id: str | None
    names: dict[str, NameLevel] = field(default_factory=dict)
    """Its names, normalized, with their level."""
    forms: set[str] = field(default_factory=set)
    """Its own and its area's names as sentence templates hold them: normalized,
    and also with their accents (as speech-to-text writes them)."""

    @property
    def vehicle(self) -> str | None:
        """Return the vehicle type Thor gives the chargebox, None when unknown."""
        reading = None if self.controller is None else self.controller.reading
        vehicle = None if reading is None else reading.chargebox.type.vehicle
        return None if vehicle is None else str(vehicle)


def strip_article(name: str, books: Phrasebooks) -> str:
    """Return a normalized name without the articles in front ("the", "della")."""
    articles = {article for book in books.values() for article in book.articles}
    words = name.split()
    while len(words) > 1 and words[0] in articles:
        words = words[1:]
    return " ".join(words)


@callback
def async_exposed(hass: HomeAssistant, device_id: str | None, assistant: str) -> bool:
    """Return whether a chargebox's device is exposed to an assistant.

    Its charging switches stand for it (one per connector): the chargebox is exposed
    when the user exposed one of them ("Expose to Assist", or to another assistant
    such as Alexa or Google's).
    """
    if device_id is None:
        return False
    registry = er.async_get(hass)
    return any(
        async_should_expose(hass, assistant, entity.entity_id)
        for entity in er.async_entries_for_device(registry, device_id)
        if entity.platform == DOMAIN and entity.domain == Platform.SWITCH
    )


@callback
def async_known_chargeboxes(
    hass: HomeAssistant, books: Phrasebooks, assistant: str | None = None
) -> list[KnownChargebox]:
    """Return the configured chargeboxes of every Thor account, with their names.

    With an assistant, only those exposed to it (see `async_exposed`): the others are
    unknown to it, as Home Assistant's own intents treat unexposed entities.
    """
    device_registry = dr.async_get(hass)
    area_registry = ar.async_get(hass)
    boxes: list[KnownChargebox] = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        loaded = entry.state is ConfigEntryState.LOADED
        for chargebox_id, subentry in chargebox_subentries(entry).items():
            controller = (
                entry.runtime_data.controller_of(chargebox_id) if loaded else None
            )
            device = device_registry.async_get_device_by_identifier(
                (DOMAIN, chargebox_id), entry.entry_id
            )
            if assistant is not None and not async_exposed(
                hass, None if device is None else device.id, assistant
            ):
                continue
            reading = None if controller is None else controller.reading
            own = [
                device and device.name_by_user,
                device and device.name,
                chargebox_name(chargebox_id, subentry.title, reading),
                subentry.title,
            ]
            box = KnownChargebox(
                chargebox_id=chargebox_id,
                name=next((name for name in own if name), chargebox_id),
                controller=controller,
                device_id=None if device is None else device.id,
            )
            area = (
                None
                if device is None or device.area_id is None
                else area_registry.async_get_area(device.area_id)
            )
            for level, names in (
                (NameLevel.AREA, () if area is None else (area.name, *area.aliases)),
                (NameLevel.NAME, own),
            ):
                for name in names:
                    if name and (key := strip_article(normalize(name), books)):
                        box.names[key] = level
                        box.forms |= {key, strip_article(_spoken(name), books)}
            for book in books.values():
                for vehicle, words in book.vehicles.items():
                    if box.vehicle in (None, vehicle):
                        for word in words:
                            box.names.setdefault(word, NameLevel.VEHICLE)
                for word in book.chargers:
                    box.names.setdefault(word, NameLevel.CHARGER)
            boxes.append(box)
    return boxes


def name_table(boxes: Iterable[KnownChargebox]) -> dict[str, set[str]]:
    """Return the chargeboxes each name designates, by its strongest meaning."""
    best: dict[str, tuple[NameLevel, set[str]]] = {}
    for box in boxes:
        for name, level in box.names.items():
            known = best.get(name)
            if known is None or level > known[0]:
                best[name] = (level, {box.chargebox_id})
            elif level == known[0]:
                known[1].add(box.chargebox_id)
    return {name: ids for name, (_, ids) in best.items()}


def find_name(
    text: str, names: Iterable[str], chargers: Iterable[str] = ()
) -> str | None:
    """Return the longest known name said in a sentence, as whole words.

    A charger word ("the garage charger") is the name only when no other name is said.
    """
    padded = f" {normalize(text)} "
    generic = set(chargers)
    found = [name for name in names if f" {name} " in padded]
    return max(found, key=lambda name: (name not in generic, len(name)), default=None)


def generic_words(books: Phrasebooks) -> frozenset[str]:
    """Return the charger words of every language ("charger", "colonnina")."""
    return frozenset(word for book in books.values() for word in book.chargers)


def find_number(text: str, books: Phrasebooks) -> str | None:
    """Return the connector said in an answer ("connector 2", "the second one", "1")."""
    if (connector := find_connector(text, books)) is not None:
        return connector
    for word in normalize(text).split():
        if any(book.number(word) is not None for book in books.values()):
            return word
    return None


def find_connector(text: str, books: Phrasebooks) -> str | None:
    """Return the word said after "connector" ("2", "two", "due"), None if none."""
    words = normalize(text).split()
    connector_words = {word for book in books.values() for word in book.connector_words}
    prefixes = {word for book in books.values() for word in book.number_prefix}
    for index, word in enumerate(words[:-1]):
        if word in connector_words:
            following = words[index + 1 :]
            if following[0] in prefixes and len(following) > 1:
                return following[1]
            return following[0]
    return None


# ------------------------------------------------------------ sentence triggers


def _alternatives(texts: Iterable[str]) -> str:
    """Return a hassil alternative of plain texts: "(a|b|c)"."""
    return "(" + "|".join(sorted(set(texts), key=lambda text: (-len(text), text))) + ")"


def _optional(texts: Iterable[str]) -> str:
    """Return an optional hassil alternative followed by a space, "" without texts."""
    texts = tuple(texts)
    return f"[{_alternatives(texts)}] " if texts else ""


def _politely(book: Phrasebook, template: str) -> str:
    """Return a template that may begin with "please" or "can you", end with "please"."""
    after = f" [{_alternatives(book.polite_after)}]" if book.polite_after else ""
    return f"{_optional(book.polite_before)}{template}{after}"


def _expand(template: str, rules: Mapping[str, str]) -> str:
    """Return a template with its rules ("<chargebox>") replaced."""
    for rule, text in rules.items():
        template = template.replace(rule, text)
    return template


def trigger_sentences(books: Phrasebooks, names: Iterable[str]) -> dict[str, list[str]]:
    """Return each intent's sentence templates with the names filled in.

    Names are plain words here (no punctuation, which hassil removes from what was
    said too); each language's articles may precede them, and a charger word may
    stand around them ("the garage charger", "il caricatore del garage"). `<charger>`
    insists on the charger word: "turn off the garage" stays Home Assistant's.
    """
    names = sorted(set(names))
    sentences: dict[str, list[str]] = {intent_type: [] for intent_type in INTENTS}
    if not names:
        return sentences
    named = _alternatives(names)
    for book in books.values():
        article = _optional(book.articles)
        if book.chargers and book.chargers_first:
            chargers = _alternatives(book.chargers)
            chargebox = f"{article}[{chargers} {article}]{named}"
            charger = f"{article}{chargers} [{article}{named}]"
        elif book.chargers:
            chargers = _alternatives(book.chargers)
            chargebox = f"{article}{named} [{chargers}]"
            charger = f"{article}[{named}] {chargers}"
        else:
            chargebox = charger = f"{article}{named}"
        prefix = _optional(book.number_prefix)
        connector = (
            f"{_optional(book.connector_lead)}"
            f"{_alternatives(book.connector_words)} {prefix}{{connector}}"
        )
        rules = {
            _CHARGEBOX_RULE: chargebox,
            _CHARGER_RULE: charger,
            _CONNECTOR_RULE: connector,
        }
        for intent_type, templates in book.sentences.items():
            sentences.setdefault(intent_type, []).extend(
                _politely(book, _expand(template, rules)) for template in templates
            )
    return sentences


def follow_up_sentences(books: Phrasebooks, connectors: int) -> list[str]:
    """Return the templates of an answer to "which connector?".

    The numbers are spelled out: a follow-up must not hear just anything.
    """
    sentences: list[str] = []
    for book in books.values():
        top = max([connectors, *book.numbers.values()])
        number = _alternatives([*book.numbers, *map(str, range(1, top + 1))])
        connector = (
            f"{_optional(book.connector_lead)}"
            f"{_alternatives(book.connector_words)} {_optional(book.number_prefix)}"
            f"{number}"
        )
        rules = {_CONNECTOR_RULE: connector, _NUMBER_RULE: number}
        sentences.extend(
            _politely(book, _expand(template, rules)) for template in book.follow_up
        )
    return sentences


# ------------------------------------------------------------------ questions

QUESTION_SLOT: Final = "asks_connector_of"
"""Speech slot of an answer that asks which connector: the chargebox's id."""
SLOT_CHARGEBOX: Final = "chargebox"
"""Speech slot of the name answers call the chargebox by."""
ANSWER_WITHIN: Final = CONVERSATION_TIMEOUT
"""How long a question can be answered: as long as Home Assistant keeps a
conversation going without a word."""
REMEMBER_FOR: Final = 2 * ANSWER_WITHIN
"""How long an unanswered question is remembered, to say it expired."""
MAX_QUESTIONS: Final = 20


@dataclass(frozen=True, kw_only=True, slots=True)
class Question:
    """A "which connector?" Thor asked in a conversation."""

    intent_type: str
    chargebox_id: str
    name: str
    asked: datetime


class Questions:
    """The questions awaiting an answer, one per conversation, the newest kept."""

    def __init__(self) -> None:
        """Start with none."""
        self._asked: OrderedDict[str, Question] = OrderedDict()

    def __bool__(self) -> bool:
        """Return whether any question is remembered."""
        return bool(self._asked)

    def ask(self, conversation_id: str, question: Question) -> None:
        """Remember the question a conversation was just asked."""
        self._asked.pop(conversation_id, None)
        self._asked[conversation_id] = question
        while len(self._asked) > MAX_QUESTIONS:
            self._asked.popitem(last=False)

    def forget(self, conversation_ids: Iterable[str]) -> None:
        """Forget what conversations were asked (they said something else)."""
        for conversation_id in conversation_ids:
            self._asked.pop(conversation_id, None)

    def take(self, conversation_ids: Iterable[str]) -> Question | None:
        """Return (and forget) the question of the first conversation that has one."""
        for conversation_id in conversation_ids:
            if (question := self._asked.pop(conversation_id, None)) is not None:
                return question
        return None

    def prune(self, now: datetime) -> None:
        """Forget the questions asked too long ago to be remembered."""
        for conversation_id, question in list(self._asked.items()):
            if now - question.asked >= REMEMBER_FOR:
                del self._asked[conversation_id]


class ThorSentenceTriggers:
    """Keeps Assist's sentence triggers for Thor in step with the chargeboxes' names.

    When Thor asks which connector, the answer ("connector 1", "the second one",
    "presa 2") completes the command within the same conversation. Its sentences are
    heard only while a question is remembered: bare numbers are other agents' words.
    """

    def __init__(self, hass: HomeAssistant, books: Phrasebooks) -> None:
        """Prepare the triggers; `async_setup` registers them."""
        self.hass = hass
        self.books = books
        self.questions = Questions()
        self._names: frozenset[str] = frozenset()
        self._remove: CALLBACK_TYPE | None = None
        self._remove_follow_up: CALLBACK_TYPE | None = None
        self._cancel_prune: CALLBACK_TYPE | None = None
        self._lock = asyncio.Lock()

    async def async_setup(self) -> None:
        """Register the triggers, and again whenever a name may have changed."""
        for event_type in (
            dr.EVENT_DEVICE_REGISTRY_UPDATED,
            ar.EVENT_AREA_REGISTRY_UPDATED,
        ):
            self.hass.bus.async_listen(event_type, self._async_schedule_refresh)
        # Of the entities, only a switch (a charging switch stands for its chargebox)
        # can change which chargeboxes are exposed: not every entity registered at
        # start-up.
        self.hass.bus.async_listen(
            er.EVENT_ENTITY_REGISTRY_UPDATED,
            self._async_schedule_refresh,
            event_filter=_is_switch,
        )
        if DATA_EXPOSED_ENTITIES in self.hass.data:
            # Only the names of chargeboxes exposed to Assist are heard.
            async_listen_entity_updates(
                self.hass, CONVERSATION, self._async_schedule_refresh
            )
        self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop)
        await self.async_refresh()

    @callback
    def _async_schedule_refresh(self, _event: Event[Any] | None = None) -> None:
        self.hass.async_create_task(
            self.async_refresh(), f"{DOMAIN} voice sentences", eager_start=False
        )

    @callback
    def _async_stop(self, _event: Event[Any]) -> None:
        """Cancel the timer that forgets questions."""
        if self._cancel_prune is not None:
            self._cancel_prune()
            self._cancel_prune = None

    @property
    def names(self) -> frozenset[str]:
        """Return the names the triggers know."""
        return self._names

    def _assistant(self) -> str | None:
        """Return the assistant whose exposure rules the triggers (None: all)."""
        # Assist's default agent is the only one that hears sentence triggers: an
        # unexposed chargebox's names are left to its own answer (an unknown name).
        return CONVERSATION if DATA_EXPOSED_ENTITIES in self.hass.data else None

    async def async_refresh(self) -> None:
        """Register the triggers again if the names said to Assist changed."""
        async with self._lock:
            boxes = async_known_chargeboxes(self.hass, self.books, self._assistant())
            names = frozenset(form for box in boxes for form in box.forms)
            if boxes:
                # "The bike" with only car chargeboxes gets a clear answer.
                names |= {
                    word
                    for book in self.books.values()
                    for words in (*book.vehicles.values(), book.chargers)
                    for word in words
                }
            if names == self._names:
                return
            if self._remove is not None:
                self._remove()
                self._remove = None
            self._names = names
            if not names:
                return
            self._remove = await self._async_register(
                trigger_sentences(self.books, names)
            )

    async def _async_listen_follow_up(self) -> None:
        """Hear the answers to "which connector?" while a question is remembered."""
        if self._cancel_prune is not None:
            self._cancel_prune()
        self._cancel_prune = async_call_later(
            self.hass, REMEMBER_FOR, self._async_prune
        )
        if self._remove_follow_up is not None:
            return
        boxes = async_known_chargeboxes(self.hass, self.books)
        connectors = max(
            (
                len(box.controller.reading.chargebox.connectors)
                for box in boxes
                if box.controller is not None and box.controller.reading is not None
            ),
            default=1,
        )
        self._remove_follow_up = await self._async_register(
            {FOLLOW_UP: follow_up_sentences(self.books, connectors)}
        )

    @callback
    def _async_prune(self, now: datetime) -> None:
        """Forget old questions; stop hearing answers once none is remembered."""
        self._cancel_prune = None
        self.questions.prune(now)
        if self.questions:
            self._cancel_prune = async_call_later(
                self.hass, REMEMBER_FOR, self._async_prune
            )
        elif self._remove_follow_up is not None:
            self._remove_follow_up()
            self._remove_follow_up = None

    async def _async_register(
        self, sentences: dict[str, list[str]]
    ) -> CALLBACK_TYPE | None:
        """Register one `conversation` trigger per intent, as an automation would."""
        configs = [
            {CONF_PLATFORM: CONVERSATION, CONF_ID: intent_type, "command": templates}
            for intent_type, templates in sentences.items()
            if templates
        ]
        try:
            validated = await async_validate_trigger_config(self.hass, configs)
            return await async_initialize_triggers(
                self.hass,
                validated,
                self._async_action,
                DOMAIN,
                "Thor voice commands",
                _log,
            )
        except (HomeAssistantError, vol.Invalid) as err:
            LOGGER.warning("Thor's voice commands could not be registered: %s", err)
            return None

    async def _async_action(
        self, run_variables: dict[str, Any], context: Context | None = None
    ) -> ScriptRunResult:
        """Answer a matched sentence through the intent of its trigger."""
        trigger = run_variables["trigger"]
        user_input: dict[str, Any] = trigger.get("user_input") or {}
        text = str(trigger.get("sentence") or user_input.get("text") or "")
        language = str(user_input.get("language") or self.hass.config.language)
        book = phrasebook_for(self.books, language)
        # The conversation the answer belongs to: the session Home Assistant runs
        # it in (a new id for a new or expired one), else the id that was sent.
        session = current_session.get()
        conversations = [
            conversation_id
            for conversation_id in (
                None if session is None else session.conversation_id,
                user_input.get("conversation_id"),
            )
            if conversation_id
        ]
        if trigger.get(CONF_ID) == FOLLOW_UP:
            speech = await self._async_follow_up(text, book, user_input, conversations)
            return ScriptRunResult(
                conversation_response=speech, service_response=None, variables={}
            )
        self.questions.forget(conversations)
        boxes = async_known_chargeboxes(self.hass, self.books)
        slots: dict[str, Any] = {}
        # A name the triggers know but no chargebox has now ("the bike" with car
        # chargeboxes only) is passed on, to be answered as unknown.
        names = name_table(boxes).keys() | self._names
        if (name := find_name(text, names, generic_words(self.books))) is not None:
            slots[SLOT_NAME] = {"value": name, "text": name}
        if (connector := find_connector(text, self.books)) is not None:
            slots[SLOT_CONNECTOR] = {"value": connector, "text": connector}
        intent_type = str(trigger.get(CONF_ID))
        response = await self._async_handle(intent_type, slots, text, user_input)
        if response is None:
            return ScriptRunResult(
                conversation_response=book.say("failed", chargebox=name or ""),
                service_response=None,
                variables={},
            )
        asked = response.speech_slots.get(QUESTION_SLOT)
        if asked is not None and conversations:
            self.questions.ask(
                conversations[0],
                Question(
                    intent_type=intent_type,
                    chargebox_id=str(asked),
                    name=str(response.speech_slots.get(SLOT_CHARGEBOX, "")),
                    asked=dt_util.utcnow(),
                ),
            )
            await self._async_listen_follow_up()
        return ScriptRunResult(
            conversation_response=_speech(response),
            service_response=None,
            variables={},
        )

    async def _async_follow_up(
        self,
        text: str,
        book: Phrasebook,
        user_input: dict[str, Any],
        conversations: list[str],
    ) -> str:
        """Complete the command whose connector Thor asked for in this conversation."""
        question = self.questions.take(conversations)
        if question is None:
            boxes = async_known_chargeboxes(self.hass, self.books, self._assistant())
            example = next(
                (box.name for box in sorted(boxes, key=_connector_count, reverse=True)),
                "",
            )
            return book.say("no_question", chargebox=example)
        if dt_util.utcnow() - question.asked >= ANSWER_WITHIN:
            return book.say("question_expired", chargebox=question.name)
        slots = {SLOT_NAME: {"value": question.name, "text": question.name}}
        if (connector := find_number(text, self.books)) is not None:
            slots[SLOT_CONNECTOR] = {"value": connector, "text": connector}
        response = await self._async_handle(
            question.intent_type, slots, text, user_input
        )
        if response is None:
            return book.say("failed", chargebox=question.name)
        return _speech(response)

    async def _async_handle(
        self,
        intent_type: str,
        slots: dict[str, Any],
        text: str,
        user_input: dict[str, Any],
    ) -> intent.IntentResponse | None:
        """Hand a request to a Thor intent as Assist's; None when it failed."""
        asked = user_input.get("context") or {}
        try:
            return await intent.async_handle(
                self.hass,
                CONVERSATION,
                intent_type,
                slots,
                text,
                Context(
                    user_id=asked.get("user_id"),
                    parent_id=asked.get("parent_id"),
                    id=asked.get("id"),
                ),
                str(user_input.get("language") or self.hass.config.language),
                assistant=CONVERSATION,
                device_id=user_input.get("device_id"),
                satellite_id=user_input.get("satellite_id"),
            )
        except intent.IntentError:
            LOGGER.exception("Thor could not answer %r", text)
            return None


@callback
def _is_switch(data: er.EventEntityRegistryUpdatedData) -> bool:
    """Return whether an entity registry change concerns a switch."""
    return split_entity_id(data["entity_id"])[0] == Platform.SWITCH


def _speech(response: intent.IntentResponse) -> str:
    """Return what an intent's response says."""
    return str(response.speech.get("plain", {}).get("speech", ""))


def _connector_count(box: KnownChargebox) -> int:
    """Return how many connectors a chargebox has (0 while unknown)."""
    reading = None if box.controller is None else box.controller.reading
    return 0 if reading is None else len(reading.chargebox.connectors)


def _log(level: int, message: str, **kwargs: Any) -> None:
    """Log what the trigger helpers report about Thor's voice commands."""
    LOGGER.log(level, "%s Thor voice commands", message, **kwargs)
