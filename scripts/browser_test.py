"""Browser test: a new user sets up Thor in the real Home Assistant UI.

Run by `scripts/browser-test` (which installs Debian's chromium and Playwright). It
starts the Thor simulator (two chargeboxes, "Garage" and "Bike shed") and a fresh,
un-onboarded Home Assistant on free ports with a temporary config directory (a copy of
config/configuration.yaml), then drives Debian's chromium with Playwright:

1. onboarding, then Settings > Devices & services > Add integration > Thor: the API
   key, the simulator's URL under Advanced, BOTH chargeboxes ticked in the multi-select;
   one account entry ("Thor ...") with two chargebox subentries and their devices;
2. the device page of Garage: "Connector 1 charging" on, "Connector 1 occupied" turns
   on after the simulator's start delay; off again, and occupied turns off;
3. the simulator requires payment: turning charging on shows the translated error;
4. "Add chargebox" on the account entry: nothing left to add at first (the translated
   abort); then a chargebox new in the account is picked and becomes a third subentry
   with its device;
5. the Energy dashboard: Garage's lifetime meter counted the charge of step 2 (its
   device page shows "Energy delivered" and "Connector 1 last session energy"); in
   Settings > Dashboards > Energy, "Add device" under "Individual electrical devices"
   with Garage's "Energy delivered" statistic picked, saved and listed; the Energy
   validation accepts it once the recorder has compiled its first statistics (every
   5 minutes: this waits up to 5 minutes after step 1); the Energy dashboard shows it;
6. a start Thor never answers: the event entity and the logbook say so;
7. push: Home Assistant gets its own address as external URL (websocket API); on the
   integration page, Configure on the account entry, "Receive Thor's notifications"
   ticked, Submit: the dialog shows the webhook address (screenshot), Submit; the
   simulator's notifications go to that address (admin API); on Garage's device page,
   charging on: "Connector 1 charging power (estimated)" shows the measured power of
   the meter-value notifications (22 kW); charging off again.

Screenshots of every step go to artifacts/browser/ (with Home Assistant's and the
simulator's logs); --update-readme-screenshot copies the device page to
docs/images/device.png and the Energy configuration to docs/images/energy.png. Exits
non-zero with the failing step and the last screenshot.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
import json
from pathlib import Path
import re
import shutil
import sys
import tempfile
import time
from typing import Any

from playwright.sync_api import (
    Browser,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import thor_dev

REPO = thor_dev.REPO
ARTIFACTS = REPO / "artifacts" / "browser"
README_SCREENSHOT = REPO / "docs" / "images" / "device.png"
README_ENERGY_SCREENSHOT = REPO / "docs" / "images" / "energy.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT: ViewportSize = {"width": 1440, "height": 1000}

API_KEY = "browser-test-api-key"
OWNER = ("Thor Tester", "tester", "thor-browser-test")
START_DELAY = 3.0
STOP_DELAY = 3.0
CHARGEBOX = "Garage"
OTHER_CHARGEBOX = "Bike shed"
"""The simulator's chargeboxes (thor_dev.SIM_CHARGEBOXES): both are added."""
LATER_CHARGEBOX = "Carport"
"""Added to the simulated account after the setup, then with "Add chargebox"."""
TRANSLATIONS = REPO / "custom_components" / "thor" / "translations" / "en.json"
SWITCH = "Connector 1 charging"
OCCUPIED = "Connector 1 occupied"
METER = "Energy delivered"
"""The chargebox's lifetime meter (its device page row, its statistic's name)."""
LAST_SESSION = "Connector 1 last session energy"
POWER = "Connector 1 charging power (estimated)"
"""With push, the power measured by the meter values (Garage's connector: 22 kW)."""
MEASURED_POWER = re.compile(
    r"^22(?:[,.\u202f\u00a0 ]?000(?:\.0+)?\s*W|(?:\.0+)?\s*kW)$"
)
PUSH_OPTION = "Receive Thor's notifications"
WEBHOOK_URL = re.compile(r"https?://\S+/api/webhook/[0-9A-Za-z_-]+")
DEVICES_SECTION = "Individual electrical devices"
PAYMENT_ERROR = re.compile(
    r"refused to start a charge on Garage.*payment type is not Free"
)

FIRST_LOAD = 90_000
"""ms for the first page load (the frontend's first start on a slow machine)."""
UI = 30_000
"""ms for an ordinary UI change."""
STATE = 90_000
"""ms for an entity state to follow the simulator (delay plus a coordinator refresh)."""
STARTUP = 300_000
"""ms for Home Assistant to finish starting (as `thor_dev` waits for it)."""
COUNTED = 60_000
"""ms for the meter to count a charge that ended (Thor's finished record is read)."""
OFFERED = 90_000
"""ms for the Energy configuration to offer the meter's statistic."""
COMPILED = 330_000
"""ms for the recorder to compile the meter's first statistics: every 5 minutes (at
10 s past), so at most 5 minutes after step 1 created the sensor."""
TALL_VIEWPORT: ViewportSize = {"width": 1440, "height": 2000}
"""For the device page with every sensor row in view."""


class StepFailedError(Exception):
    """A step of the scenario failed."""


@dataclass
class Run:
    """The running scenario: the page, the screenshots and the results."""

    page: Page
    ha_url: str
    simulator: thor_dev.SimulatorInfo
    ha: thor_dev.HomeAssistant
    shots: list[Path] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    device_shot: Path | None = None
    energy_shot: Path | None = None

    def shot(self, name: str) -> Path:
        """Save a screenshot of the page as artifacts/browser/NN-name.png."""
        path = ARTIFACTS / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=path)
        self.shots.append(path)
        print(f"  screenshot {path.relative_to(REPO)}", flush=True)
        return path

    def goto(self, path: str, timeout: int = UI) -> None:
        """Open a page of the frontend."""
        self.page.goto(f"{self.ha_url}{path}", timeout=timeout)


@contextlib.contextmanager
def step(run_: list[Run], title: str) -> Iterator[None]:
    """Report a step; on failure, save a screenshot and raise StepFailedError."""
    print(f"browser-test: {title}", flush=True)
    started = time.monotonic()
    try:
        yield
    except Exception as err:
        shot = None
        if run_:
            with contextlib.suppress(Exception):
                shot = run_[0].shot("FAILED")
        where = f" (screenshot: {shot.relative_to(REPO)})" if shot else ""
        message = str(err)
        if len(message) > 3000:
            message = message[:3000] + " [...]"
        raise StepFailedError(f"{title}: {message}{where}") from err
    if run_:
        run_[0].passed.append(title)
    print(f"  ok ({time.monotonic() - started:.0f} s)", flush=True)


def entity_row(page: Page, name: str) -> Any:
    """Return the row of an entity in a card of the device page."""
    return page.locator(
        "hui-simple-entity-row, hui-toggle-entity-row, hui-generic-entity-row",
        has_text=name,
    ).first


def row_state(page: Page, name: str) -> str:
    """Return the state text shown in the row of `name` on the device page."""
    row = page.locator("hui-simple-entity-row", has_text=name).first
    return str(
        row.evaluate(
            "e => e.shadowRoot.querySelector('hui-generic-entity-row').textContent.trim()"
        )
    )


def wait_until(what: str, check: Callable[[], bool], timeout_ms: int) -> None:
    """Poll `check` until it is true; raise AssertionError after the timeout."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms / 1000:.0f} s: {what}")
        time.sleep(0.5)


def onboard(run: Run) -> None:
    """Create the owner through the onboarding pages, then finish onboarding."""
    page = run.page
    run.goto("/", timeout=FIRST_LOAD)
    create = page.get_by_role("button", name="Create my smart home")
    expect(create).to_be_visible(timeout=FIRST_LOAD)
    run.shot("onboarding-welcome")
    create.click()
    name, username, password = OWNER
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password_confirm]").fill(password)
    run.shot("onboarding-user")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Home location")).to_be_visible(timeout=UI)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("the country your home is in")).to_be_visible(timeout=UI)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Help us help you")).to_be_visible(timeout=UI)
    # This step keeps Next disabled until Home Assistant has finished starting, which
    # on a fresh .venv includes installing the requirements of default_config.
    next_button = page.get_by_role("button", name="Next")
    expect(next_button).to_be_enabled(timeout=STARTUP)
    next_button.click()
    finish = page.get_by_role("button", name="Finish")
    expect(finish).to_be_visible(timeout=UI)
    finish.click()
    page.wait_for_url(re.compile(r"/(home|lovelace)/"), timeout=UI)


def subentry_text(*keys: str) -> str:
    """Return a string of the "chargebox" subentry flow's English translation."""
    node: Any = json.loads(TRANSLATIONS.read_text())["config_subentries"]["chargebox"]
    for key in keys:
        node = node[key]
    return str(node)


def chargebox_checkbox(page: Page, name: str) -> Any:
    """Return the checkbox of a chargebox in the config flow's multi-select."""
    # The visible box of ha-checkbox takes the click, not its inner <input>.
    return page.locator("ha-checkbox").filter(has_text=f"{name} (")


def account_row(page: Page) -> Any:
    """Return the Thor account entry's row on the integration page."""
    # Titled "Thor (127.0.0.1)": the simulator is a custom base URL.
    return page.locator("ha-config-entry-row").filter(has_text="Thor (")


def subentry_rows(page: Page) -> Any:
    """Return the chargebox subentry rows of the integration page."""
    return page.locator("ha-config-sub-entry-row")


def check_account(run: Run, chargeboxes: list[str]) -> None:
    """Check over the REST API: one loaded Thor entry with these chargeboxes."""

    def account() -> dict[str, Any] | None:
        entries = run.ha.entries()
        if len(entries) == 1 and entries[0].get("num_subentries") == len(chargeboxes):
            return entries[0] if entries[0]["state"] == "loaded" else None
        return None

    try:
        entry: dict[str, Any] = thor_dev.wait_for(
            "the Thor account entry", account, timeout=STATE / 1000
        )
    except thor_dev.DevError as err:
        raise AssertionError(f"{err}: {run.ha.entries()}") from None
    if not str(entry["title"]).startswith("Thor"):
        raise AssertionError(f"the account entry is titled {entry['title']!r}")

    def devices() -> list[str] | None:
        names = sorted(name for name, _ in run.ha.thor_devices())
        return names if names == sorted(chargeboxes) else None

    try:
        thor_dev.wait_for("the chargeboxes' devices", devices, timeout=STATE / 1000)
    except thor_dev.DevError as err:
        raise AssertionError(f"{err}: {run.ha.thor_devices()}") from None


def add_thor(run: Run) -> None:
    """Settings > Devices & services > Add integration > Thor, up to the account entry."""
    page = run.page
    run.goto("/config/integrations/dashboard")
    add = page.get_by_role("button", name="Add integration")
    expect(add).to_be_visible(timeout=UI)
    add.click()
    search = page.get_by_placeholder("Search for a brand name")
    expect(search).to_be_visible(timeout=UI)
    search.fill("Thor")
    thor = page.get_by_text("Thor", exact=True)
    expect(thor).to_be_visible(timeout=UI)
    run.shot("add-integration-search")
    thor.click()
    api_key = page.locator("input[name=api_key]")
    expect(api_key).to_be_visible(timeout=UI)
    api_key.fill(run.simulator.api_key)
    # The simulator's URL goes in the collapsed "Advanced" section.
    page.get_by_text("Advanced", exact=True).click()
    base_url = page.locator("input[name=base_url]")
    expect(base_url).to_be_visible(timeout=UI)
    base_url.fill(run.simulator.base_url)
    expect(base_url).to_have_value(run.simulator.base_url)
    page.wait_for_timeout(600)  # the section's opening animation
    run.shot("thor-api-key")
    page.get_by_role("button", name="Submit").click()
    # The account's chargeboxes, "Alias (id)", in a multi-select: tick both.
    for name in (CHARGEBOX, OTHER_CHARGEBOX):
        box = chargebox_checkbox(page, name)
        expect(box).to_be_visible(timeout=UI)
        box.click()
        expect(
            page.get_by_role("checkbox", name=re.compile(rf"^{name} \("))
        ).to_be_checked(timeout=UI)
    run.shot("thor-chargeboxes-picked")
    page.get_by_role("button", name="Submit").click()
    # The flow ends on "Name and assign" with one device per chargebox.
    expect(page.get_by_text("Name and assign")).to_be_visible(timeout=UI)
    expect(page.get_by_text("Car chargebox").first).to_be_visible(timeout=UI)
    expect(page.get_by_text("Bicycle chargebox").first).to_be_visible(timeout=UI)

    def device_names() -> list[str]:
        # The device name fields hold the chargebox aliases.
        values = page.locator("dialog-data-entry-flow input").evaluate_all(
            "inputs => inputs.map(input => input.value)"
        )
        return sorted(v for v in values if v in (CHARGEBOX, OTHER_CHARGEBOX))

    wait_until(
        "both devices in Name and assign",
        lambda: device_names() == sorted([CHARGEBOX, OTHER_CHARGEBOX]),
        UI,
    )
    run.shot("thor-devices-created")
    page.get_by_role("button", name="Skip and finish").click()
    # With more than one device, the flow ends on the integration's page.
    page.wait_for_url(re.compile(r"/config/integrations/integration/thor"), timeout=UI)
    row = account_row(page)
    expect(row).to_be_visible(timeout=UI)
    for name in (CHARGEBOX, OTHER_CHARGEBOX):
        expect(
            subentry_rows(page).filter(has=page.get_by_text(name, exact=True)).first
        ).to_be_visible(timeout=UI)
    expect(subentry_rows(page)).to_have_count(2, timeout=UI)
    run.shot("thor-account-entry")
    check_account(run, [CHARGEBOX, OTHER_CHARGEBOX])


def add_chargebox_later(run: Run) -> None:
    """Add chargebox on the account entry: none left, then one new in the account."""
    page = run.page
    run.goto("/config/integrations/integration/thor")
    add = page.get_by_role("button", name="Add chargebox")
    expect(add).to_be_visible(timeout=UI)
    add.click()
    expect(
        page.get_by_text(subentry_text("abort", "no_chargeboxes_left"))
    ).to_be_visible(timeout=UI)
    run.shot("add-chargebox-none-left")
    page.locator("ha-dialog-footer").get_by_role("button", name="Close").click()
    run.simulator.add_chargebox(LATER_CHARGEBOX, 1)
    add.click()
    choice = page.get_by_role("radio", name=re.compile(rf"^{LATER_CHARGEBOX} \("))
    expect(choice).to_be_visible(timeout=UI)
    # Only the chargeboxes not configured yet are offered.
    expect(page.get_by_role("radio")).to_have_count(1, timeout=UI)
    choice.click()
    run.shot("add-chargebox-pick")
    page.get_by_role("button", name="Submit").click()
    finish = page.get_by_role("button", name="Finish")
    expect(finish).to_be_visible(timeout=UI)
    finish.click()
    expect(finish).to_be_hidden(timeout=UI)
    expect(
        subentry_rows(page).filter(has=page.get_by_text(LATER_CHARGEBOX, exact=True))
    ).to_be_visible(timeout=STATE)
    check_account(run, [CHARGEBOX, OTHER_CHARGEBOX, LATER_CHARGEBOX])
    expect(subentry_rows(page)).to_have_count(3, timeout=UI)
    page.wait_for_timeout(600)  # the dialog's closing animation
    run.shot("add-chargebox-added")


def open_device_page(run: Run) -> None:
    """Open the chargebox's device page from the device list."""
    page = run.page
    run.goto("/config/devices/dashboard")
    page.get_by_text(CHARGEBOX, exact=True).first.click()
    page.wait_for_url(re.compile(r"/config/devices/device/"), timeout=UI)
    expect(entity_row(page, OCCUPIED)).to_be_visible(timeout=UI)


@dataclass
class Toggle:
    """The charging switch's toggle in the device page's Controls card."""

    control: Any
    """What a user clicks (the visible switch)."""
    state: Any
    """The switch's input, checked while the switch is on."""

    def click(self) -> None:
        """Click the toggle as a user would."""
        self.control.click()


def charging_toggle(page: Page) -> Toggle:
    """Return the toggle of the charging switch in the device page's Controls card."""
    row = page.locator("hui-toggle-entity-row", has_text=SWITCH).first
    expect(row).to_be_visible(timeout=UI)
    return Toggle(control=row.locator("ha-switch"), state=row.get_by_role("switch"))


def charge_on_and_off(run: Run) -> None:
    """Turn charging on, see occupied turn on; turn it off, see occupied turn off."""
    page = run.page
    open_device_page(run)
    wait_until(f"{OCCUPIED} shows Off", lambda: row_state(page, OCCUPIED) == "Off", UI)
    run.shot("device-page")
    toggle = charging_toggle(page)
    expect(toggle.state).not_to_be_checked(timeout=UI)
    toggle.click()
    expect(toggle.state).to_be_checked(timeout=UI)
    run.shot("charging-on")
    wait_until(f"{OCCUPIED} shows On", lambda: row_state(page, OCCUPIED) == "On", STATE)
    run.device_shot = run.shot("occupied-on")
    toggle = charging_toggle(page)
    toggle.click()
    expect(toggle.state).not_to_be_checked(timeout=STATE)
    wait_until(
        f"{OCCUPIED} shows Off", lambda: row_state(page, OCCUPIED) == "Off", STATE
    )
    run.shot("charging-off")


def payment_refused(run: Run) -> None:
    """The chargebox requires payment: turning charging on shows the translated error."""
    page = run.page
    state = run.simulator.state()
    box_id = next(
        box["id"]
        for box in state["chargeboxes"]
        if box.get("alias") == CHARGEBOX or box.get("name") == CHARGEBOX
    )
    run.simulator.patch_chargebox(box_id, {"payment_free": False})
    toggle = charging_toggle(page)
    toggle.click()
    # The frontend shows the action's error in a toast (and says it to screen readers).
    error = page.get_by_text(PAYMENT_ERROR).first
    expect(error).to_be_visible(timeout=UI)
    page.wait_for_timeout(1000)  # the toast's animation
    run.shot("payment-refused")
    expect(toggle.state).not_to_be_checked(timeout=UI)


def entity_rows(page: Page) -> dict[str, str]:
    """Return {name: shown state} of the entity rows of the device page's cards."""
    pairs: list[tuple[str, str]] = page.locator("hui-generic-entity-row").evaluate_all(
        """rows => rows.map(row => [
            (row.shadowRoot.querySelector('.info') || {textContent: ''})
                .textContent.trim(),
            row.textContent.trim(),
        ])"""
    )
    return dict(pairs)


def kwh(text: str | None) -> float | None:
    """Return the number of a shown energy ("1,234.56 kWh"), None when not one."""
    match = re.fullmatch(r"(\d[\d,]*(?:\.\d+)?) kWh", (text or "").strip())
    return float(match.group(1).replace(",", "")) if match else None


def chargebox_id(run: Run, name: str) -> str:
    """Return the id of a simulated chargebox by its alias."""
    return str(
        next(
            box["id"]
            for box in run.simulator.state()["chargeboxes"]
            if box.get("alias") == name
        )
    )


def meter_counted(run: Run) -> thor_dev.EnergyMeter:
    """Wait until Garage's meter and last session show the charge of step 2.

    When they do not in time, a charge that ended a moment ago is added through the
    simulator's admin API and the entry reloaded, so that its reconciliation counts it.
    """
    last_session = (
        f"/api/states/sensor.{CHARGEBOX.lower()}_connector_1_last_session_energy"
    )

    def counted() -> thor_dev.EnergyMeter | None:
        meter = next((m for m in run.ha.energy_meters() if m.device == CHARGEBOX), None)
        if meter is None or not (meter.value or 0) > 0:
            return None
        session = run.ha.request("GET", last_session)["state"]
        return meter if session not in ("unknown", "unavailable") else None

    try:
        meter: thor_dev.EnergyMeter = thor_dev.wait_for(
            f"{CHARGEBOX}'s meter to count the charge", counted, timeout=COUNTED / 1000
        )
    except thor_dev.DevError as err:
        print(
            f"  {err}: adding a finished charge through the simulator's admin API",
            flush=True,
        )
        now = run.simulator.now()
        run.simulator.add_finished_charge(
            chargebox_id(run, CHARGEBOX),
            1,
            started=now - 12,
            finished=now - 2,
            energy=4200,
            mode="api",
        )
        for entry in run.ha.entries():
            run.ha.reload_entry(entry["entry_id"])
        meter = thor_dev.wait_for(
            f"{CHARGEBOX}'s meter to count the charge added",
            counted,
            timeout=COUNTED / 1000,
        )
    print(f"  {meter} ({meter.entity_id})", flush=True)
    return meter


def device_page_energy(run: Run, meter: thor_dev.EnergyMeter) -> None:
    """The device page shows the meter and the last session's energy as numbers."""
    page = run.page
    open_device_page(run)

    def shown() -> bool:
        rows = entity_rows(page)
        total, session = kwh(rows.get(METER)), kwh(rows.get(LAST_SESSION))
        return (
            total is not None
            and total > 0
            and abs(total - (meter.value or 0)) < 0.006  # shown with 2 decimals
            and session is not None
        )

    try:
        wait_until(f"{METER} and {LAST_SESSION} show kWh", shown, UI)
    except AssertionError as err:
        rows = entity_rows(page)
        raise AssertionError(
            f"{err}: {METER} {rows.get(METER)!r} (the state: {meter}), "
            f"{LAST_SESSION} {rows.get(LAST_SESSION)!r}"
        ) from None
    rows = entity_rows(page)
    print(
        f"  device page: {METER} {rows[METER]}, {LAST_SESSION} {rows[LAST_SESSION]}",
        flush=True,
    )
    # Every sensor row in view: Energy delivered comes after the connectors' rows.
    page.set_viewport_size(TALL_VIEWPORT)
    try:
        page.wait_for_timeout(500)
        run.shot("device-page-energy")
    finally:
        page.set_viewport_size(VIEWPORT)


def call_ws(page: Page, message: dict[str, Any]) -> Any:
    """Send a websocket command over the frontend's connection; return the result."""
    return page.evaluate(
        "message => document.querySelector('home-assistant').hass.callWS(message)",
        message,
    )


def wait_statistics_valid(run: Run, meter: thor_dev.EnergyMeter) -> None:
    """Wait until the Energy validation accepts the meter (its statistics compiled).

    A new sensor has no statistics until the recorder's next five-minute compilation;
    until then the validation says "Statistics not defined".
    """
    started = time.monotonic()
    issues: Any = None

    def valid() -> bool:
        nonlocal issues
        issues = call_ws(run.page, {"type": "energy/validate"})["device_consumption"]
        return bool(issues == [[]])

    print(
        "  waiting for the recorder's five-minute statistics compilation",
        flush=True,
    )
    try:
        wait_until(
            f"the Energy validation to accept {meter.entity_id}", valid, COMPILED
        )
    except AssertionError as err:
        raise AssertionError(f"{err}: {issues}") from None
    print(
        f"  the Energy validation accepts {meter.entity_id} "
        f"(after {time.monotonic() - started:.0f} s)",
        flush=True,
    )


def add_energy_device(run: Run, meter: thor_dev.EnergyMeter) -> None:
    """Settings > Dashboards > Energy: the meter as an individual electrical device.

    "Add device", the meter's statistic picked in the dialog's picker, Save. Home
    Assistant offers only statistics the recorder knows; should the meter's not be
    offered in time, the preferences are saved over the websocket instead (said so).
    """
    page = run.page
    run.goto("/config/energy")
    section = page.locator("ha-card").filter(has_text=DEVICES_SECTION)
    expect(section).to_be_visible(timeout=UI)
    dialog = page.locator("dialog-energy-device-settings")
    option = page.locator("ha-combo-box-item").filter(
        has_text=re.compile(rf"^\s*{METER}\s+{CHARGEBOX}\s*$")
    )
    deadline = time.monotonic() + OFFERED / 1000
    while True:
        section.get_by_role("button", name="Add device").click()
        picker = dialog.locator("ha-statistic-picker").first
        expect(picker).to_be_visible(timeout=UI)
        picker.click()
        search = page.get_by_placeholder("Search")
        expect(search).to_be_visible(timeout=UI)
        search.fill(f"{CHARGEBOX} {METER}")
        try:
            expect(option).to_be_visible(timeout=5_000)
        except AssertionError:
            offered = False
        else:
            offered = True
        if offered or time.monotonic() > deadline:
            break
        page.keyboard.press("Escape")  # the picker's list
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog.locator("ha-dialog")).to_be_hidden(timeout=UI)
        page.wait_for_timeout(5_000)
    if offered:
        option.click()
        save = dialog.get_by_role("button", name="Save")
        expect(save).to_be_enabled(timeout=UI)
        page.wait_for_timeout(300)  # the display name's label animation
        run.shot("energy-add-device")
        save.click()
        expect(dialog.locator("ha-dialog")).to_be_hidden(timeout=UI)
    else:
        print(
            f"  the dialog did not offer {meter.entity_id} within "
            f"{OFFERED / 1000:.0f} s: saving the preferences over the websocket "
            "(energy/save_prefs) instead",
            flush=True,
        )
        call_ws(
            page,
            {
                "type": "energy/save_prefs",
                "device_consumption": [{"stat_consumption": meter.entity_id}],
            },
        )
        page.reload()
    listed = section.get_by_text(f"{CHARGEBOX} {METER}")
    expect(listed).to_be_visible(timeout=UI)
    prefs = call_ws(page, {"type": "energy/get_prefs"})
    consumption = [d["stat_consumption"] for d in prefs["device_consumption"]]
    if consumption != [meter.entity_id]:
        raise AssertionError(
            f"the Energy preferences' individual devices are {consumption}"
        )
    wait_statistics_valid(run, meter)
    # Shown again without the "Statistics not defined" warning.
    page.reload()
    expect(listed).to_be_visible(timeout=UI)
    expect(section.get_by_text("Statistics not defined")).to_have_count(0)
    section.scroll_into_view_if_needed()
    page.wait_for_timeout(600)
    run.energy_shot = run.shot("energy-configuration")
    run.goto("/energy")
    expect(page.get_by_text("Individual devices", exact=True).first).to_be_visible(
        timeout=UI
    )
    spinners = page.locator("ha-spinner, ha-circular-progress")
    # Without hourly statistics yet, a chart may keep loading: no failure.
    with contextlib.suppress(AssertionError):
        wait_until(
            "the Energy dashboard's cards to load",
            lambda: not any(spinner.is_visible() for spinner in spinners.all()),
            5_000,
        )
    page.wait_for_timeout(1_000)  # the charts' drawing
    run.shot("energy-dashboard")


SESSION_EVENT = f"event.{CHARGEBOX.lower()}_connector_1_charging_session"
LOGBOOK_FAILURE = re.compile(r"could not start charging on connector 1: Thor did not")


def event_type(run: Run) -> str | None:
    """Return the type of the last event of connector 1's Charging session entity."""
    state = run.ha.request("GET", f"/api/states/{SESSION_EVENT}")
    value = state["attributes"].get("event_type")
    return None if value is None else str(value)


def failure_in_logbook(run: Run) -> None:
    """A start whose answer Thor never sends: the event entity and the logbook say so.

    The session of step 2 ended as `charging_stopped`; then the simulator drops the
    connection of the next start, Home Assistant reports the start as unanswered
    (`thor_command_failed`, reason no_answer), the event entity shows
    `command_failed` and the Activity page (logbook) describes it.
    """
    page = run.page
    wait_until(
        f"{SESSION_EVENT} to show the end of the charge of step 2",
        lambda: event_type(run) == "charging_stopped",
        UI,
    )
    run.simulator.patch_chargebox(chargebox_id(run, CHARGEBOX), {"payment_free": True})
    run.simulator.set_faults(drop_connection=True, path="/charges/start", count=1)
    open_device_page(run)
    charging_toggle(page).click()
    wait_until(
        f"{SESSION_EVENT} to show command_failed",
        lambda: event_type(run) == "command_failed",
        UI,
    )
    print(f"  {SESSION_EVENT}: command_failed", flush=True)
    entry = page.get_by_text(LOGBOOK_FAILURE).first
    # An event fired a moment before the page opens can fall between the page's
    # history (what the recorder has committed) and its live stream: open it again.
    deadline = time.monotonic() + UI / 1000
    while True:
        run.goto("/logbook")
        try:
            expect(entry).to_be_visible(timeout=5_000)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        else:
            break
    page.wait_for_timeout(500)
    run.shot("logbook-command-failed")
    print(f"  logbook: {entry.inner_text().strip()}", flush=True)


def enable_push_in_options(run: Run) -> str:
    """Configure on the account entry: tick push, see the address, Submit; return it."""
    page = run.page
    run.goto("/config/integrations/integration/thor")
    row = account_row(page)
    expect(row).to_be_visible(timeout=UI)
    row.get_by_role("button", name="Configure").first.click()
    dialog = page.locator("dialog-data-entry-flow")
    expect(dialog.get_by_text(PUSH_OPTION)).to_be_visible(timeout=UI)
    # The visible box of ha-checkbox takes the click, not its inner <input>.
    dialog.locator("ha-checkbox").first.click()
    expect(page.get_by_role("checkbox", name=PUSH_OPTION)).to_be_checked(timeout=UI)
    page.get_by_role("button", name="Submit").click()
    address = dialog.locator("code", has_text="/api/webhook/").first
    expect(address).to_be_visible(timeout=UI)
    found = WEBHOOK_URL.search("".join(address.inner_text().split()))
    if found is None or not found.group(0).startswith(run.ha_url):
        raise AssertionError(
            f"the dialog shows no webhook address of {run.ha_url}: "
            f"{address.inner_text()[: len(run.ha_url) + 14]}..."
        )
    page.wait_for_timeout(600)  # the dialog's animation
    run.shot("push-address-shown")
    page.get_by_role("button", name="Submit").click()
    finish = page.get_by_role("button", name="Finish")
    expect(finish).to_be_visible(timeout=UI)
    finish.click()
    expect(finish).to_be_hidden(timeout=UI)
    return found.group(0)


def push_live_power(run: Run) -> None:
    """Push on through the options flow; a charge shows the measured power."""
    page = run.page
    # The options flow needs an address Thor could reach: here the instance's own.
    run.ha.set_external_url(run.ha_url)
    box_id = chargebox_id(run, CHARGEBOX)
    # Step 6's start was never answered: make sure no charge runs on the connector.
    running = [
        charge
        for charge in run.simulator.state().get("running", [])
        if charge.get("chargebox") == box_id and charge.get("connector") == 1
    ]
    if running:
        thor_dev.http(
            "POST",
            f"{run.simulator.admin_url}/chargeboxes/{box_id}/end_charge",
            json_body={"connector": 1},
        )
    url = enable_push_in_options(run)
    print("  the options dialog shows the webhook address (…/api/webhook/…)")
    check_account(run, [CHARGEBOX, OTHER_CHARGEBOX, LATER_CHARGEBOX])
    run.simulator.set_notifications(url)
    open_device_page(run)
    wait_until(
        f"{OCCUPIED} shows Off", lambda: row_state(page, OCCUPIED) == "Off", STATE
    )
    toggle = charging_toggle(page)
    expect(toggle.state).not_to_be_checked(timeout=UI)
    toggle.click()
    expect(toggle.state).to_be_checked(timeout=UI)

    def power() -> str:
        return entity_rows(page).get(POWER, "")

    wait_until(
        f"{POWER} shows the measured 22 kW",
        lambda: bool(MEASURED_POWER.match(power())),
        STATE,
    )
    print(f"  {POWER}: {power()}", flush=True)
    entity_row(page, POWER).scroll_into_view_if_needed()
    run.shot("push-measured-power")
    toggle = charging_toggle(page)
    toggle.click()
    expect(toggle.state).not_to_be_checked(timeout=STATE)
    wait_until(
        f"{OCCUPIED} shows Off", lambda: row_state(page, OCCUPIED) == "Off", STATE
    )


def scenario(browser: Browser, run_: list[Run], setup: dict[str, Any]) -> None:
    """Run the steps in a fresh browser context."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(UI)
    page = context.new_page()
    run = Run(page=page, **setup)
    run_.append(run)
    with step(
        run_, "1. onboarding, then add Thor with both chargeboxes from the integrations"
    ):
        onboard(run)
        run.ha.login(OWNER[1], OWNER[2])
        add_thor(run)
    # Met.no and Radio Browser (added by onboarding) retry forever without internet.
    thor_dev.remove_offline_defaults(run.ha, timeout=20)
    with step(run_, f"2. device page: {SWITCH} on/off, {OCCUPIED} follows"):
        charge_on_and_off(run)
    with step(run_, "3. the simulator requires payment: the translated error is shown"):
        payment_refused(run)
    with step(run_, "4. Add chargebox on the account entry: none left, then a new one"):
        add_chargebox_later(run)
    with step(run_, "5. Energy dashboard: the chargebox meter as an individual device"):
        meter = meter_counted(run)
        device_page_energy(run, meter)
        add_energy_device(run, meter)
    with step(run_, "6. a start Thor never answers: event entity and logbook"):
        failure_in_logbook(run)
    with step(
        run_,
        "7. push: switch on Thor's notifications in the entry's options (the address "
        "is shown), start a charge: live power",
    ):
        push_live_power(run)
    context.close()


def main(argv: list[str] | None = None) -> int:
    """Run the browser test; return the exit status."""
    parser = argparse.ArgumentParser(prog="scripts/browser-test", description=__doc__)
    parser.add_argument(
        "--update-readme-screenshot",
        action="store_true",
        help=f"copy the device page screenshot to {README_SCREENSHOT.relative_to(REPO)} "
        f"and the Energy configuration's to {README_ENERGY_SCREENSHOT.relative_to(REPO)}",
    )
    parser.add_argument(
        "--headed", action="store_true", help="show the browser (needs a display)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary config directory"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    config_dir = Path(tempfile.mkdtemp(prefix="thor-browser-test-"))
    shutil.copy(thor_dev.DEFAULT_CONFIG / "configuration.yaml", config_dir)
    thor_dev.prepare_config(config_dir)
    ha_port, sim_port = thor_dev.free_port(), thor_dev.free_port()
    while sim_port == ha_port:
        sim_port = thor_dev.free_port()
    simulator = thor_dev.SimulatorInfo(sim_port, API_KEY)
    ha_url = f"http://127.0.0.1:{ha_port}"
    services: list[thor_dev.Service] = []
    run_: list[Run] = []
    failure: str | None = None
    with thor_dev.terminating_on_sigterm():
        try:
            print(
                f"browser-test: simulator on {sim_port}, Home Assistant on {ha_port} "
                f"(config {config_dir})",
                flush=True,
            )
            services.append(
                thor_dev.start_simulator(
                    simulator,
                    ARTIFACTS / "simulator.log",
                    start_delay=START_DELAY,
                    stop_delay=STOP_DELAY,
                )
            )
            hass = thor_dev.start_hass(
                config_dir, ha_port, "127.0.0.1", ARTIFACTS / "home-assistant.log"
            )
            services.append(hass)
            ha = thor_dev.HomeAssistant(ha_url)
            steps = ha.wait_until_up(hass)
            if not steps or any(steps.values()):
                raise thor_dev.DevError(f"Home Assistant is not un-onboarded: {steps}")
            print(
                f"browser-test: Home Assistant answers ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=not args.headed,
                    args=CHROMIUM_ARGS,
                )
                try:
                    scenario(
                        browser,
                        run_,
                        {"ha_url": ha_url, "simulator": simulator, "ha": ha},
                    )
                finally:
                    browser.close()
        except (StepFailedError, thor_dev.DevError) as err:
            failure = str(err)
        except KeyboardInterrupt:
            failure = "interrupted"
        finally:
            for service in reversed(services):
                service.stop()
            if args.keep:
                print(f"browser-test: kept {config_dir}")
            else:
                shutil.rmtree(config_dir, ignore_errors=True)
    run = run_[0] if run_ else None
    passed = len(run.passed) if run else 0
    if (
        failure is None
        and run is not None
        and run.device_shot is not None
        and args.update_readme_screenshot
    ):
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(run.device_shot, README_SCREENSHOT)
        print(f"browser-test: updated {README_SCREENSHOT.relative_to(REPO)}")
        if run.energy_shot is not None:
            shutil.copy(run.energy_shot, README_ENERGY_SCREENSHOT)
            print(f"browser-test: updated {README_ENERGY_SCREENSHOT.relative_to(REPO)}")
    elapsed = time.monotonic() - started
    if failure is not None:
        print(f"browser-test: FAILED: {failure}", file=sys.stderr, flush=True)
        if run and run.shots:
            print(f"browser-test: last screenshot {run.shots[-1]}", file=sys.stderr)
        print(f"browser-test: logs in {ARTIFACTS.relative_to(REPO)}/", file=sys.stderr)
        print(f"browser: {passed} passed, 1 failed")
        return 1
    print(
        f"browser-test: screenshots in {ARTIFACTS.relative_to(REPO)}/ ({elapsed:.0f} s)"
    )
    print(f"browser: {passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
