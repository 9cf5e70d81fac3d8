"""Tests of the solar surplus blueprint, with the real switch against the simulator.

The grid sensor is driven through a day in frozen time; what a user would notice is
asserted: when the charger was switched on and off, and which commands reached Thor.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
import logging
from pathlib import Path
from types import CodeType
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components.automation import (
    AutomationEntity,
    config as automation_config,
)
from homeassistant.components.blueprint import models as blueprint_models
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_STATE_CHANGED,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import Context, Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers import script as script_helper
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import dump, load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.thor.blueprint_install import (
    SHIPPED,
    async_install_blueprints,
    blueprint_files,
)
from scripts import make_blueprints, repository
from thor_simulator import ThorSimulator

from .conftest import async_setup_entry, entity_state

SWITCH = "switch.garage_connector_1_charging"
SESSION_EVENT = "event.garage_connector_1_charging_session"
GRID = "sensor.grid_power"
IMPORT = "sensor.grid_import"
EXPORT = "sensor.grid_export"
SOC = "sensor.home_battery"
START = ("POST", "/latest/integration/charges/start")
STOP = ("POST", "/latest/integration/charges/stop")
CAR = 1400
"""Watts the car draws while the switch is on (its draw shows on the grid sensor)."""
STEP = 30
"""Seconds time moves per step: the grid sensor is set once per step."""
MINUTE = 60

# The thresholds and times of the tests, in the selectors' formats.
INPUTS: dict[str, Any] = {
    "charger": SWITCH,
    "enable_threshold": 1400,
    "disable_threshold": -300,
    "enable_delay": {"hours": 0, "minutes": 3, "seconds": 0},
    "disable_delay": {"hours": 0, "minutes": 5, "seconds": 0},
    "min_charging_time": {"hours": 0, "minutes": 15, "seconds": 0},
    "min_pause": {"hours": 0, "minutes": 10, "seconds": 0},
}
LANGUAGES = ("en", "it")
_WAIT_STEP = script_helper._ScriptRun._async_wait_with_optional_timeout.__code__
_RUNS = (
    AutomationEntity.async_trigger.__code__,
    script_helper.Script.async_run.__code__,
)


@dataclass(frozen=True, slots=True)
class Change:
    """A change of the charging switch."""

    minute: float
    """Minutes since the test began."""
    state: str
    user_id: str | None
    parent_id: str | None


class Day:
    """Drives the grid sensor and records the switch's changes and Thor's commands."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        simulator: ThorSimulator,
        *,
        sensors: str = "import_positive",
    ) -> None:
        """Follow the switch from now on."""
        self.hass = hass
        self.freezer = freezer
        self.simulator = simulator
        self.sensors = sensors
        self.began = dt_util.utcnow()
        self.changes: list[Change] = []
        self.surplus = 0.0
        hass.bus.async_listen(EVENT_STATE_CHANGED, self._record)

    def _record(self, event: Event[EventStateChangedData]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if event.data["entity_id"] != SWITCH or new is None or old is None:
            return
        if new.state == old.state:
            return
        self.changes.append(
            Change(
                self.minute,
                new.state,
                new.context.user_id,
                new.context.parent_id,
            )
        )

    @property
    def minute(self) -> float:
        """Return the minutes since the test began."""
        return (dt_util.utcnow() - self.began).total_seconds() / MINUTE

    def starts(self) -> list[float]:
        """Return when the switch went on."""
        return [change.minute for change in self.changes if change.state == STATE_ON]

    def stops(self) -> list[float]:
        """Return when the switch went off."""
        return [change.minute for change in self.changes if change.state == STATE_OFF]

    def sent(self, request: tuple[str, str]) -> int:
        """Return how many starts or stops reached Thor."""
        return self.simulator.requests.count(request)

    def show_grid(self) -> None:
        """Set the grid sensors from the surplus and the car's draw."""
        on = self.hass.states.get(SWITCH)
        export = self.surplus - (CAR if on is not None and on.state == STATE_ON else 0)
        attributes = {"unit_of_measurement": "W", "device_class": "power"}
        if self.sensors == "import_positive":
            self.hass.states.async_set(GRID, str(-export), attributes)
        elif self.sensors == "import_positive_kw":
            kilowatts = {**attributes, "unit_of_measurement": "kW"}
            self.hass.states.async_set(GRID, str(-export / 1000), kilowatts)
        elif self.sensors == "export_positive":
            self.hass.states.async_set(GRID, str(export), attributes)
        else:
            self.hass.states.async_set(IMPORT, str(max(0.0, -export)), attributes)
            self.hass.states.async_set(EXPORT, str(max(0.0, export)), attributes)

    async def run(self, minutes: float, surplus: float) -> None:
        """Keep a surplus (W before the car, negative: the house imports) a while."""
        self.surplus = surplus
        loop = asyncio.get_running_loop()
        debug = loop.get_debug()
        # Loop debugging records a stack for each callback: a day would take minutes.
        loop.set_debug(False)
        try:
            await self._run(minutes)
        finally:
            loop.set_debug(debug)

    async def _run(self, minutes: float) -> None:
        for _ in range(round(minutes * MINUTE / STEP)):
            self.show_grid()
            await async_settle(self.hass)
            self.freezer.tick(timedelta(seconds=STEP))
            async_fire_time_changed(self.hass)
            await async_settle(self.hass)
        self.show_grid()
        await async_settle(self.hass)

    async def profile(self, steps: Iterable[tuple[float, float]]) -> None:
        """Run (minutes, surplus) one after the other."""
        for minutes, surplus in steps:
            await self.run(minutes, surplus)


def _awaits(task: asyncio.Future[Any], codes: tuple[CodeType, ...]) -> bool:
    """Return whether a task is (somewhere down its awaits) in one of `codes`."""
    awaited: Any = task.get_coro() if isinstance(task, asyncio.Task) else None
    while awaited is not None:
        if getattr(awaited, "cr_code", None) in codes:
            return True
        awaited = getattr(awaited, "cr_await", None)
    return False


async def async_settle(hass: HomeAssistant) -> None:
    """Let everything due run, like `async_block_till_done(wait_background_tasks=True)`.

    That one would wait for ever for an automation run that waits for an idle period:
    such a run is left alone once it is parked in its wait step.
    """
    current = asyncio.current_task()
    quiet = 0
    while quiet < 3:
        await asyncio.sleep(0)
        tasks = [
            task
            for task in (*hass._tasks, *hass._background_tasks)
            if task is not current and not task.done()
        ]
        parked = any(_awaits(task, (_WAIT_STEP,)) for task in asyncio.all_tasks())
        busy = [task for task in tasks if not (parked and _awaits(task, _RUNS))]
        quiet = 0 if busy else quiet + 1


def blueprint_path(language: str) -> str:
    """Return the blueprint path (under blueprints/automation) the installer uses."""
    return f"thor/{blueprint_files(language)[0]}"


@pytest.fixture
async def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Give Home Assistant an empty configuration directory of the test's own."""
    hass.config.config_dir = str(tmp_path)
    return tmp_path


async def async_setup_solar(
    hass: HomeAssistant,
    language: str,
    day: Day | None = None,
    **inputs: Any,
) -> dict[str, Any]:
    """Install the blueprint in `language`, set up an automation from it; return it."""
    hass.config.language = language
    await async_install_blueprints(hass)
    if day is not None:
        day.show_grid()
    sensor_inputs: dict[str, Any] = {}
    sensors = "import_positive" if day is None else day.sensors
    if sensors in ("import_positive", "import_positive_kw"):
        sensor_inputs = {"grid_power": GRID}
    elif sensors == "export_positive":
        sensor_inputs = {"grid_power": GRID, "positive_is_import": False}
    else:
        sensor_inputs = {"import_power": IMPORT, "export_power": EXPORT}
    config: dict[str, Any] = {
        "automation": [
            {
                "id": "solar",
                "alias": "Solar",
                "use_blueprint": {
                    "path": blueprint_path(language),
                    "input": INPUTS | sensor_inputs | inputs,
                },
            }
        ]
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    return config


@pytest.fixture
async def charger(
    hass: HomeAssistant,
    config_dir: Path,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> ThorSimulator:
    """Set up the integration against the simulator; return the simulator."""
    freezer.move_to("2026-06-21 04:00:00+00:00")
    await async_setup_entry(hass, sim_config_entry)
    assert entity_state(hass, SWITCH) == STATE_OFF
    return simulator


def near(minutes: list[float], expected: list[float]) -> bool:
    """Return whether each time is the expected one, or at most a step later."""
    return len(minutes) == len(expected) and all(
        want <= got <= want + STEP / MINUTE + 1e-6
        for got, want in zip(minutes, expected, strict=True)
    )


# ------------------------------------------------------------------------ the day


@pytest.mark.parametrize("language", LANGUAGES)
async def test_solar_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    charger: ThorSimulator,
    language: str,
) -> None:
    """A day: starts and stops follow the surplus, not clouds, kettles or flapping."""
    day = Day(hass, freezer, charger)
    await async_setup_solar(hass, language, day)
    await day.profile(
        [
            (60, -800),  # Morning: the house imports.
            (10, 500),
            (10, 1000),
            (10, 1300),  # Export below the enable threshold: nothing.
            (2, 2500),  # A brief spike above it, shorter than the enable delay.
            (8, 1300),
        ]
    )
    assert day.starts() == []
    await day.profile(
        [
            (6, 2500),  # Surplus from minute 100: on at 103 (enable delay).
            (2, 500),  # A cloud shorter than the disable delay.
            (1, 2500),
            (1.5, 500),  # A kettle.
            (0.5, 2500),
            (11, 300),  # A long cloud from 111: off at 118 (minimum charging time).
        ]
    )
    assert near(day.starts(), [103])
    assert near(day.stops(), [118])
    await day.profile(
        [
            (10, 2500),  # The sun is back at 122: on at 128 (minimum pause).
        ]
    )
    assert near(day.starts(), [103, 128])
    # Flapping inside the hysteresis band while charging: export -200 / +100 W.
    await day.profile([(1, 1200), (1, 1500)] * 10 + [(30, 2500)])
    assert len(day.stops()) == 1
    await day.profile(
        [
            (10, 1000),  # Evening from 182: off at 187.
            (2, 2000),  # A spike after the stop, shorter than the enable delay.
        ]
        + [(1, 1200), (1, 1300)] * 10  # Flapping below the enable threshold.
        + [(120, -800)]  # Night.
    )
    assert near(day.starts(), [103, 128])
    assert near(day.stops(), [118, 187])
    assert day.sent(START) == 2
    assert day.sent(STOP) == 2
    # The automation's commands carry its context: no user, a parent.
    assert all(
        change.user_id is None and change.parent_id is not None
        for change in day.changes
    )


# ------------------------------------------------------------------ manual changes


async def test_user_stop_at_noon_is_respected(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    charger: ThorSimulator,
    hass_admin_user: User,
) -> None:
    """A user's stop holds through the afternoon; an idle period ends the pause."""
    day = Day(hass, freezer, charger)
    await async_setup_solar(hass, "en", day)
    await day.profile([(30, -800), (30, 2500)])
    assert near(day.starts(), [33])
    await hass.services.async_call(
        "switch",
        SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: SWITCH},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await day.profile(
        [
            (120, 2500),  # The afternoon's surplus: no restart.
            (4, 1000),  # Less than the disable delay without surplus: still paused.
            (60, 2500),
        ]
    )
    assert near(day.stops(), [60])
    assert day.changes[-1].user_id == hass_admin_user.id
    assert len(day.starts()) == 1
    # Evening, then a sunny morning: the idle period ended the pause.
    await day.profile([(60, -800), (10, 2500)])
    assert near(day.starts(), [33, 307])
    assert entity_state(hass, SWITCH) == STATE_ON


@pytest.mark.parametrize("started_by", ["user", "app"])
async def test_manual_start_at_night_is_kept(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    charger: ThorSimulator,
    hass_admin_user: User,
    started_by: str,
) -> None:
    """A charge started by hand (dashboard, or the Thor app) runs through the night."""
    (chargebox_id,) = charger.chargeboxes
    day = Day(hass, freezer, charger)
    await async_setup_solar(hass, "en", day)
    await day.run(10, -800)
    if started_by == "user":
        await hass.services.async_call(
            "switch",
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: SWITCH},
            blocking=True,
            context=Context(user_id=hass_admin_user.id),
        )
    else:
        charger.start_app_charge(chargebox_id, 1)
    await day.run(240, -800)
    assert entity_state(hass, SWITCH) == STATE_ON
    assert day.sent(STOP) == 0
    # The car is unplugged; after an idle period solar charging works again.
    charger.end_charge(chargebox_id, 1)
    await day.profile([(10, -800), (10, 2500)])
    assert near(day.stops(), [250])
    assert near(day.starts()[1:], [263])


async def test_unconfirmed_start_is_not_a_manual_change(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    charger: ThorSimulator,
) -> None:
    """A start the chargebox never carries out reverts; the automation tries again."""
    (chargebox_id,) = charger.chargeboxes
    charger.chargeboxes[chargebox_id].reject_starts = True
    day = Day(hass, freezer, charger)
    await async_setup_solar(hass, "en", day)
    await day.profile([(5, -800), (18, 2500)])
    # On at 10 (the switch has been off only since minute 0: the minimum pause),
    # reverted by the integration two minutes later, on again after the minimum pause.
    assert near(day.starts(), [10, 22])
    assert near(day.stops(), [12])
    (revert,) = [change for change in day.changes if change.state == STATE_OFF]
    assert revert.user_id is None
    assert revert.parent_id is None
    assert day.sent(START) == 2


# -------------------------------------------------------------- start conditions


async def test_sun_condition(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, charger: ThorSimulator
) -> None:
    """With the sun condition, a surplus starts nothing until the sun is up."""
    hass.states.async_set("sun.sun", "below_horizon")
    day = Day(hass, freezer, charger)
    await async_setup_solar(hass, "en", day, require_sun=True)
    await day.profile([(5, -800), (20, 2500)])
    assert day.starts() == []
    hass.states.async_set("sun.sun", "above_horizon")
    await day.run(5, 2500)
    assert near(day.starts(), [28])


async def test_battery_condition(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, charger: ThorSimulator
) -> None:
    """With a home battery sensor, charging waits until the battery reaches the minimum."""
    attributes = {"unit_of_measurement": "%", "device_class": "battery"}
    hass.states.async_set(SOC, "50", attributes)
    day = Day(hass, freezer, charger)
    await async_setup_solar(hass, "en", day, battery_soc=SOC, min_battery_soc=80)
    await day.profile([(5, -800), (20, 2500)])
    assert day.starts() == []
    hass.states.async_set(SOC, "85", attributes)
    await day.run(5, 2500)
    assert near(day.starts(), [28])


async def test_throttle(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, charger: ThorSimulator
) -> None:
    """No start is sent while Thor's throttle holds; the start follows once it ends."""
    charger.faults.set(
        status=429, path="/charges/start", count=1, retry_after_seconds=300
    )
    day = Day(hass, freezer, charger)
    await async_setup_solar(hass, "en", day)
    await day.profile([(10, -800), (3.5, 2500)])
    # Refused at 13: the connector's event entity tells for how long.
    assert day.sent(START) == 1
    assert day.starts() == []
    refused = hass.states.get(SESSION_EVENT)
    assert refused is not None
    assert refused.attributes["reason"] == "rate_limited"
    assert refused.attributes["retry_after"] == 300
    await day.run(4.5, 2500)
    assert day.sent(START) == 1  # Nothing sent before 18.
    await day.run(5, 2500)
    # Seen at the first minute from 18 on, then the enable delay: on at 21 or 22.
    (start,) = day.starts()
    assert 21 <= start <= 22
    assert day.sent(START) == 2


# ------------------------------------------------------------------- the sensors


@pytest.mark.parametrize(
    "sensors", ["export_positive", "import_export", "import_positive_kw"]
)
async def test_grid_sensors(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    charger: ThorSimulator,
    sensors: str,
) -> None:
    """A sensor positive on export, separate import and export sensors, or kW."""
    day = Day(hass, freezer, charger, sensors=sensors)
    await async_setup_solar(hass, "en", day)
    await day.profile([(10, -800), (30, 2500), (10, 0)])
    assert near(day.starts(), [13])
    assert near(day.stops(), [45])


async def test_catch_up_after_reload(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    charger: ThorSimulator,
    config_dir: Path,
) -> None:
    """What already holds when automations are (re)loaded is acted upon."""
    day = Day(hass, freezer, charger)
    day.surplus = 2500
    config = await async_setup_solar(hass, "en", day)
    (config_dir / "configuration.yaml").write_text(dump(config), encoding="utf-8")
    # A template trigger that is true when it is set up never fires...
    await day.run(10, 2500)
    assert day.starts() == []
    # ...so a reload (or Home Assistant's start) looks again.
    await hass.services.async_call("automation", "reload", blocking=True)
    await day.run(20, 2500)
    assert near(day.starts(), [13])
    # A reload during a deficit: stopped after the disable delay from the reload.
    await day.run(2, -1000 + CAR)
    await hass.services.async_call("automation", "reload", blocking=True)
    await day.run(10, -1000 + CAR)
    assert near(day.stops(), [37])


# ----------------------------------------------------------- files and installer


def _logic(data: Any) -> Any:
    """Return a blueprint without its texts (names and descriptions)."""
    if isinstance(data, dict):
        return {
            key: _logic(value)
            for key, value in data.items()
            if key not in ("name", "description", "source_url")
        }
    if isinstance(data, list):
        return [_logic(item) for item in data]
    return data


def test_generated_blueprints_are_up_to_date() -> None:
    """The shipped files are what scripts/make_blueprints.py writes."""
    assert make_blueprints.main(["--check"]) == 0


def test_blueprints_share_their_logic() -> None:
    """Both languages are valid automation blueprints with the same logic."""
    loaded: dict[str, dict[str, Any]] = {}
    for language in LANGUAGES:
        (name,) = blueprint_files(language)
        data = load_yaml_dict(SHIPPED / name)
        blueprint = blueprint_models.Blueprint(
            data,
            expected_domain="automation",
            schema=automation_config.AUTOMATION_BLUEPRINT_SCHEMA,
        )
        assert blueprint.metadata["source_url"] == repository.file_url(
            f"custom_components/thor/blueprints/automation/{name}"
        )
        loaded[language] = data
    assert loaded["en"]["blueprint"]["name"] != loaded["it"]["blueprint"]["name"]
    assert _logic(loaded["en"]) == _logic(loaded["it"])


@pytest.mark.parametrize(
    ("language", "installed"),
    [
        ("en", "solar_surplus.yaml"),
        ("de", "solar_surplus.yaml"),
        ("it", "solar_surplus_it.yaml"),
    ],
)
async def test_installer(
    hass: HomeAssistant,
    config_dir: Path,
    caplog: pytest.LogCaptureFixture,
    language: str,
    installed: str,
) -> None:
    """The blueprint in Home Assistant's language is installed once, never replaced."""
    hass.config.language = language
    target = config_dir / "blueprints" / "automation" / "thor"
    with caplog.at_level(logging.INFO):
        await async_install_blueprints(hass)
    assert sorted(path.name for path in target.iterdir()) == [installed]
    assert (target / installed).read_bytes() == (SHIPPED / installed).read_bytes()
    assert f"Installed the blueprint {target / installed}" in caplog.text
    # A copy the user edited stays as it is.
    (target / installed).write_text("# mine\n", encoding="utf-8")
    caplog.clear()
    await async_install_blueprints(hass)
    assert (target / installed).read_text(encoding="utf-8") == "# mine\n"
    assert "Installed" not in caplog.text


@pytest.mark.install_blueprints
async def test_setup_installs_the_blueprint(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Setting up Thor offers the blueprint at once: no import needed."""
    hass.config.language = "it"
    assert await async_setup_component(hass, "thor", {})
    await hass.async_block_till_done()
    target = config_dir / "blueprints" / "automation" / "thor"
    assert [path.name for path in target.iterdir()] == ["solar_surplus_it.yaml"]


async def test_installer_cannot_write(
    hass: HomeAssistant, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A config directory it cannot write to costs a warning, not the setup."""
    (config_dir / "blueprints").write_text("not a folder", encoding="utf-8")
    await async_install_blueprints(hass)
    assert "Could not install the Thor blueprints" in caplog.text
