"""Benchmark: the Thor requests of an account entry, its commands, its notifications.

Run by `scripts/bench`, in three parts (each prints figures beside their goals):

A. requests over simulated time (scripts/bench_hour.py, in-process Home Assistant with
   frozen time moved from one timer to the next; seconds): the requests of a whole
   idle hour (goal: 60 at most), of ten minutes of charging (goal: 2 per poll) and of a
   whole idle hour with push (goal: 12 at most), at every size N;

B. a real Home Assistant: it starts the Thor simulator and Home Assistant on free
   loopback ports with a temporary config directory (a copy of
   config/configuration.yaml), onboards it and creates one Thor account entry
   through the real config flow with one chargebox; more chargeboxes are added to
   the simulator (admin API) and to the entry (the subentry flow) as the sizes ask.
   For each size N (default 1, 5 and 20):

   1. setup: the entry is reloaded (REST) and the requests counted until it is
      loaded and quiet (goal: 2 at most);
   2. idle: polls are forced (`homeassistant.update_entity` on one Thor entity; Home
      Assistant's debouncer allows one every 10 s) and the requests of each counted
      (goal: exactly 1);
   3. charging: a charge starts at the box (the simulator's RFID start) and polls are
      forced again (goal: 2 at most per poll);

   then, at the largest N, the switch of a connector is turned on with the
   simulator's start delay d (default 1, 3, 6 and 11 s) and the time from the
   turn_on call's answer until the connector's "occupied" binary sensor is on is
   measured (goal: d + 2 s), and the same for turn_off with the stop delay set to d.
   Last, push: Home Assistant's external URL is set to its own address, push is
   switched on in the entry's options flow (REST) and the simulator's notifications
   are sent to the address the flow shows; the confirmations are timed again (goal:
   d + 0.5 s) and the entry's diagnostics must show push healthy and the idle poll
   interval slowed to 300 s;

C. CPU per notification (scripts/bench_push.py): the process time a start, a meter
   values and a stop notification posted to the webhook cost Home Assistant at
   N = 1, 20 and 100 (goal: < 1 ms above the HTTP floor at N = 100, flat in N).

Exits 0 when all goals are met, 1 when one is missed, 2 when a setup fails. Every
process is stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict, dataclass, field
import json
import math
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import thor_dev

SCRIPTS = Path(__file__).resolve().parent

PROG = "scripts/bench"
SIM_API_KEY = "thor-bench-api-key"
OWNER = ("Thor Bench", "bench", "thor-bench")
"""Name, username and password of the temporary instance's owner."""

COOLDOWN = 10.3
"""Seconds between two forced polls: Home Assistant's refresh debouncer runs a
requested refresh at once only 10 s after the previous one."""
QUIET = 1.0
"""Seconds without a request after which a forced poll counts as over."""
SETTLE_QUIET = 3.0
"""Seconds without a request after which a setup (or a reload) counts as over."""
COUNT_SAMPLE = 0.1
"""Seconds between two looks at the simulator's request counts."""
STATE_SAMPLE = 0.05
"""Seconds between two looks at an entity's state."""

SETUP_GOAL = 2
IDLE_GOAL = 1
CHARGING_GOAL = 2
CONFIRM_SLACK = 2.0
"""Seconds a command may take to confirm beyond the simulator's delay."""
PUSH_CONFIRM_SLACK = 0.5
"""The same with push: a notification confirms the command."""
PUSH_IDLE_INTERVAL = 300.0
"""Seconds: the integration's declared idle poll interval while notifications arrive."""

SECTIONS = (
    "setup: requests from an entry reload until loaded and quiet",
    "idle: requests per poll (forced polls)",
    "charging: requests per poll while one connector charges",
    "confirmation: switch call answered -> occupied sensor (start/stop delay d)",
    "push: notifications on (options flow), confirmation and diagnostics",
)
SETUP, IDLE, CHARGING, CONFIRM, PUSH = SECTIONS


def log(message: str) -> None:
    """Print a progress line."""
    print(f"bench: {message}", flush=True)


@dataclass
class Result:
    """One figure beside its goal (`passed` None: a figure without a goal)."""

    section: str
    label: str
    value: str
    goal: str = ""
    passed: bool | None = None

    def line(self) -> str:
        """Return the printed line."""
        if self.passed is None:
            return f"    {self.label:<44}{self.value:>16}"
        verdict = "PASS" if self.passed else "FAIL"
        return f"    {self.label:<44}{self.value:>16}   goal {self.goal:<10}{verdict}"

    def as_dict(self) -> dict[str, Any]:
        """Return the figure as JSON (what a part run on its own hands back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """Return a figure from `as_dict()`'s JSON."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def print_results(
    results: list[Result],
    elapsed: float,
    sections: Sequence[str] | None = None,
    *,
    name: str = "bench",
) -> None:
    """Print the figures, grouped by section (in the order they first came)."""
    print(f"\n{name}: results ({elapsed:.0f} s in all)", flush=True)
    if sections is None:
        sections = list(dict.fromkeys(result.section for result in results))
    for section in sections:
        lines = [result for result in results if result.section == section]
        if lines:
            print(f"  {section}")
            for result in lines:
                print(result.line(), flush=True)


def run_in_process(
    name: str,
    sections: Sequence[str],
    measure: Callable[[list[Result]], Coroutine[Any, Any, None]],
    json_path: Path | None,
    failure: type[Exception],
) -> int:
    """Run a part measured in this process (A, C), in its own event loop; return status.

    Its figures are printed, or written to `json_path` for scripts/bench to print.
    Exit status: 0 every goal met, 1 a goal missed, 2 `failure` (setup failed), 130
    interrupted.
    """
    results: list[Result] = []
    started = time.monotonic()
    status = 0
    try:
        asyncio.run(measure(results))
    except failure as err:
        print(f"{name}: error: {err}", flush=True)
        status = 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted", flush=True)
        status = 130
    if json_path is None:  # Else the caller (scripts/bench) prints them.
        print_results(results, time.monotonic() - started, sections, name=name)
    if status == 0 and any(result.passed is False for result in results):
        status = 1
    if json_path is not None:
        json_path.write_text(
            json.dumps({"status": status, "results": [r.as_dict() for r in results]})
        )
    verdict = {0: "PASS", 1: "FAIL", 2: "ERROR"}.get(status, "INTERRUPTED")
    print(f"{name}: {verdict}", flush=True)
    return status


def paths_text(counts: Counter[str]) -> str:
    """Return `3 x /charges/running, ...` with the API prefix dropped."""
    if not counts:
        return "no request"
    return ", ".join(
        f"{number} x {path.removeprefix('/latest/integration')}"
        for path, number in sorted(counts.items())
    )


# --- the simulator ---------------------------------------------------------------


@dataclass
class Chargebox:
    """A simulated chargebox and its entities in Home Assistant."""

    id: str
    alias: str
    connectors: int
    switches: dict[int, str] = field(default_factory=dict)
    """Connector number to the entity id of its charging switch."""
    occupied: dict[int, str] = field(default_factory=dict)
    """Connector number to the entity id of its occupied binary sensor."""


@dataclass
class Simulator:
    """Where the simulator answers, and its admin API as the benchmark uses it.

    Not thor_dev.SimulatorInfo: this script depends on as little of it as it can.
    """

    port: int
    api_key: str

    @property
    def base_url(self) -> str:
        """The Thor API base URL to enter in the config flow."""
        return f"http://127.0.0.1:{self.port}/latest/integration"

    @property
    def admin_url(self) -> str:
        """The simulator's admin API."""
        return f"http://127.0.0.1:{self.port}/_simulator"

    def state(self) -> dict[str, Any]:
        """Return the simulator's state."""
        state: dict[str, Any] = self.admin("GET", "/state")
        return state

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin API."""
        return thor_dev.http(
            method, f"{self.admin_url}{path}", json_body=body, timeout=10
        )

    def counts(self) -> Counter[str]:
        """Return the API requests received since the last reset, by endpoint.

        `GET /charges/running?chargebox` apart from `GET /charges/running`, ids left
        out; a simulator without `by_endpoint` counts by path.
        """
        counts: dict[str, Any] = self.admin("GET", "/requests")
        found: dict[str, Any] = counts.get("by_endpoint") or counts["by_path"]
        return Counter({str(path): int(n) for path, n in found.items()})

    def settings(self, **settings: float | bool) -> None:
        """Change settings (start_delay, stop_delay, start_rate_limit, ...)."""
        self.admin("POST", "/settings", settings)

    def add_chargebox(self, alias: str, connectors: int) -> Chargebox:
        """Add a chargebox to the account."""
        box: dict[str, Any] = self.admin(
            "POST", "/chargeboxes", {"alias": alias, "connectors": connectors}
        )
        return Chargebox(str(box["id"]), alias, connectors)

    def rfid_start(self, chargebox_id: str, connector: int) -> None:
        """Start a charge with a card at the box (no command from Home Assistant)."""
        self.admin(
            "POST",
            f"/chargeboxes/{chargebox_id}/rfid_start",
            {"connector": connector, "id_tag": "BENCH-CARD"},
        )

    def end_charge(self, chargebox_id: str, connector: int) -> None:
        """End a charge at the box (unplug)."""
        self.admin(
            "POST", f"/chargeboxes/{chargebox_id}/end_charge", {"connector": connector}
        )

    def busy(self) -> bool:
        """Return whether a charge runs or a start is pending anywhere."""
        state: dict[str, Any] = self.state()
        return bool(state["running"] or state["pending_starts"])


FIRST_BOX = ("Bench 01", 2)
"""Alias and connectors of the simulator's first chargebox (the command line's)."""


def start_simulator(sim: Simulator, log_path: Path) -> thor_dev.Service:
    """Start the simulator with one chargebox (quiet: no access log)."""
    args = [str(thor_dev.VENV_BIN / "python"), "-m", "thor_simulator", "--quiet"]
    args += ["--port", str(sim.port), "--api-key", sim.api_key]
    args += ["--chargebox", f"{FIRST_BOX[0]}:{FIRST_BOX[1]}"]
    args += ["--start-delay", "3", "--stop-delay", "3"]
    service = thor_dev.start_service("the Thor simulator", args, log_path)
    try:
        thor_dev.wait_for(
            "the Thor simulator", sim.state, timeout=30, services=[service]
        )
    except BaseException:
        service.stop()
        raise
    return service


# --- the benchmark ---------------------------------------------------------------


@dataclass
class Poll:
    """The requests of one poll and when it was over."""

    counts: Counter[str]
    began: float
    """When the first request came (monotonic seconds; the start of the wait if none)."""
    ended: float
    """When the last request came."""

    @property
    def total(self) -> int:
        """Return the number of requests."""
        return sum(self.counts.values())


class Bench:
    """The simulator, Home Assistant, the Thor entry and what was measured."""

    def __init__(
        self,
        args: argparse.Namespace,
        sim: Simulator,
        ha: thor_dev.HomeAssistant,
        services: list[thor_dev.Service],
    ) -> None:
        """Start measuring with a running simulator and an onboarded instance."""
        self.args = args
        self.sim = sim
        self.ha = ha
        self.services = services
        self.results: list[Result] = []
        self.boxes: list[Chargebox] = []
        self.entry_id: str | None = None
        self.last_force = 0.0
        self.entity_ids: list[str] = []
        """The Thor entities, as last looked up."""
        self.call_seconds = 0.0
        """The longest switch.turn_on/turn_off call (the figures start at its end)."""

    # --- helpers -----------------------------------------------------------------

    def alive(self) -> None:
        """Raise DevError when a service has exited."""
        for service in self.services:
            if not service.running():
                raise thor_dev.DevError(
                    f"{service.name} exited (code {service.process.returncode}); last "
                    f"lines of {service.log_path}:\n{service.tail()}"
                )

    def add(
        self,
        section: str,
        label: str,
        value: str,
        goal: str = "",
        passed: bool | None = None,
    ) -> None:
        """Record a figure."""
        self.results.append(Result(section, label, value, goal, passed))

    def wait_requests(
        self, before: Counter[str], *, first: float, quiet: float
    ) -> Poll:
        """Wait up to `first` s for a request, then until `quiet` s pass without one.

        Return the requests since `before` (counts, not a reset: a reset racing with
        a request could lose it).
        """
        started = time.monotonic()
        last_total = before.total()
        last_change = first_seen = started
        seen = False
        while True:
            self.alive()
            now = time.monotonic()
            counts = self.sim.counts()
            total = counts.total()
            if total != last_total:
                if not seen:
                    first_seen = now
                last_total, last_change, seen = total, now, True
            if seen and now - last_change >= quiet:
                break
            if not seen and now - started >= max(first, quiet):
                break
            time.sleep(COUNT_SAMPLE)
        return Poll(counts - before, first_seen, last_change)

    def thor_entity(self) -> str:
        """Return the Thor entity whose update forces a poll."""
        box = self.boxes[0]
        return next(iter(box.occupied.values()))

    def force_poll(self) -> Poll:
        """Force a poll (update_entity) and return its requests."""
        wait = self.last_force + COOLDOWN - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        before = self.sim.counts()
        self.last_force = time.monotonic()
        self.ha.request(
            "POST",
            "/api/services/homeassistant/update_entity",
            json_body={"entity_id": self.thor_entity()},
            timeout=60,
        )
        return self.wait_requests(before, first=COOLDOWN + 5, quiet=QUIET)

    def loaded(self) -> bool:
        """Return whether the Thor entry is loaded (raise if it failed)."""
        entries = self.ha.entries()
        states = [entry["state"] for entry in entries]
        if any(state in ("setup_error", "setup_retry") for state in states):
            raise thor_dev.DevError(f"the Thor entry did not load: {entries}")
        return bool(states) and all(state == "loaded" for state in states)

    def discover(self) -> int:
        """Find the switches and occupied sensors of the boxes; return how many boxes."""
        rendered = self.ha.template(
            "{% set ns = namespace(rows=[]) %}"
            "{% for e in integration_entities('thor') %}"
            "{% set d = device_id(e) %}"
            "{% set ns.rows = ns.rows + [[e, state_attr(e, 'friendly_name') or '', "
            "(device_attr(d, 'identifiers') | list) if d else [], "
            "(device_attr(d, 'name') or '') if d else '']] %}"
            "{% endfor %}{{ ns.rows | to_json }}"
        )
        rows: list[list[Any]] = (
            json.loads(rendered) if isinstance(rendered, str) else rendered
        )
        self.entity_ids = sorted(str(row[0]) for row in rows)
        found = 0
        for box in self.boxes:
            mine = [
                (str(entity_id), f"{entity_id} {name}".lower())
                for entity_id, name, identifiers, device in rows
                if any(box.id in map(str, ident) for ident in identifiers)
                or (not identifiers and device == box.alias)
            ]
            box.switches = pick(mine, "switch.", "charging", box.connectors)
            box.occupied = pick(mine, "binary_sensor.", "occupied", box.connectors)
            if len(box.switches) == len(box.occupied) == box.connectors:
                found += 1
        return found

    def settle(self, what: str) -> None:
        """Wait until the entry is loaded with every box's entities, and quiet."""
        wanted = len(self.boxes)
        try:
            thor_dev.wait_for(
                what,
                lambda: self.loaded() and self.discover() == wanted,
                timeout=180,
                services=self.services,
            )
        except thor_dev.DevError as err:
            raise thor_dev.DevError(
                f"{err}; no switch and occupied sensor per connector found among the "
                f"Thor entities {self.entity_ids}"
            ) from err
        self.wait_requests(self.sim.counts(), first=SETTLE_QUIET, quiet=SETTLE_QUIET)

    # --- the entry ---------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """Return the user step of the config flow."""
        return {
            "api_key": self.sim.api_key,
            "environment": "production",
            "advanced": {"base_url": self.sim.base_url},
        }

    def create_entry(self, box: Chargebox) -> None:
        """Create the account entry with one chargebox (the config flow)."""
        flow = self.ha.request(
            "POST",
            "/api/config/config_entries/flow",
            json_body={"handler": "thor", "show_advanced_options": True},
        )
        step = self.ha.flow(flow["flow_id"], self.settings())
        if step.get("type") == "form" and not step.get("errors"):
            names = [item["name"] for item in step.get("data_schema", [])]
            if "chargebox_ids" in names:
                answer: dict[str, Any] = {"chargebox_ids": [box.id]}
            elif "chargebox_id" in names:
                answer = {"chargebox_id": box.id}
            else:
                raise thor_dev.DevError(f"unexpected step of the config flow: {step}")
            step = self.ha.flow(flow["flow_id"], answer)
        if step.get("type") != "create_entry":
            raise thor_dev.DevError(f"the Thor config flow did not create: {step}")
        entries = self.ha.entries()
        if len(entries) != 1:
            raise thor_dev.DevError(f"expected one Thor entry, found {entries}")
        self.entry_id = str(entries[0]["entry_id"])

    def add_subentry(self, box: Chargebox) -> None:
        """Add a chargebox to the entry (the subentry flow; the entry reloads)."""
        base = "/api/config/config_entries/subentries/flow"
        flow = self.ha.request(
            "POST", base, json_body={"handler": [self.entry_id, "chargebox"]}
        )
        if flow.get("type") != "form":
            raise thor_dev.DevError(f"the chargebox subentry flow answered {flow}")
        names = [item["name"] for item in flow.get("data_schema", [])]
        answer: dict[str, Any] = (
            {"chargebox_ids": [box.id]}
            if "chargebox_ids" in names
            else {"chargebox_id": box.id}
        )
        done = self.ha.request("POST", f"{base}/{flow['flow_id']}", json_body=answer)
        if done.get("type") != "create_entry":
            raise thor_dev.DevError(f"the chargebox subentry flow ended with {done}")

    def grow(self, size: int) -> None:
        """Give the account and the entry `size` chargeboxes."""
        added = 0
        while len(self.boxes) < size:
            number = len(self.boxes) + 1
            # The first box (two connectors: switch.<box>_connector_1_charging) came
            # with the simulator; the others have one (switch.<box>_charging).
            if number == 1:
                state: dict[str, Any] = self.sim.state()
                first = state["chargeboxes"][0]
                box = Chargebox(str(first["id"]), *FIRST_BOX)
            else:
                box = self.sim.add_chargebox(f"Bench {number:02d}", 1)
            self.boxes.append(box)
            if self.entry_id is None:
                self.create_entry(box)
            else:
                self.add_subentry(box)
            added += 1
        if added:
            log(f"N={size}: added {added} chargebox(es); waiting for the entry")
            self.settle(f"the Thor entry with {size} chargeboxes")
            self.last_force = 0.0  # a new coordinator: a new debouncer

    # --- the measurements --------------------------------------------------------

    def measure_setup(self, size: int) -> None:
        """Reload the entry and count the requests until loaded and quiet."""
        totals: list[int] = []
        for _ in range(self.args.reloads):
            before = self.sim.counts()
            self.ha.request(
                "POST",
                f"/api/config/config_entries/entry/{self.entry_id}/reload",
                timeout=120,
            )
            thor_dev.wait_for(
                "the reloaded entry", self.loaded, timeout=120, services=self.services
            )
            poll = self.wait_requests(before, first=SETTLE_QUIET, quiet=SETTLE_QUIET)
            log(f"N={size}: reload: {paths_text(poll.counts)}")
            totals.append(poll.total)
            self.last_force = 0.0
        self.add(
            SETUP,
            f"N={size:<3} requests per setup",
            ",".join(map(str, totals)),
            f"<= {SETUP_GOAL}",
            max(totals) <= SETUP_GOAL,
        )

    def forced_polls(self, size: int, what: str, count: int) -> list[Poll]:
        """Force `count` polls; log each."""
        polls = []
        for number in range(1, count + 1):
            poll = self.force_poll()
            log(f"N={size}: {what} poll {number}: {paths_text(poll.counts)}")
            polls.append(poll)
        return polls

    def measure_idle(self, size: int) -> None:
        """Count the requests of forced idle polls."""
        polls = self.forced_polls(size, "idle", self.args.polls)
        totals = [poll.total for poll in polls]
        self.add(
            IDLE,
            f"N={size:<3} requests per idle poll",
            ",".join(map(str, totals)),
            f"= {IDLE_GOAL}",
            all(total == IDLE_GOAL for total in totals),
        )

    def measure_charging(self, size: int, last: bool) -> None:
        """Count the requests per poll while one connector charges."""
        box = self.boxes[0]
        self.sim.rfid_start(box.id, 1)
        log(f"N={size}: a card started a charge on {box.alias} connector 1")
        first = self.forced_polls(size, "first charging", 1)[0]
        self.add(
            CHARGING,
            f"N={size:<3} first poll after the start",
            str(first.total),
        )
        polls = self.forced_polls(size, "charging", self.args.polls)
        totals = [poll.total for poll in polls]
        self.add(
            CHARGING,
            f"N={size:<3} requests per charging poll",
            ",".join(map(str, totals)),
            f"<= {CHARGING_GOAL}",
            max(totals) <= CHARGING_GOAL,
        )
        self.sim.end_charge(box.id, 1)
        log(f"N={size}: the charge ended at the box")
        if last:
            # Back to idle before the next measurement (a reload does it otherwise).
            self.forced_polls(size, "after the charge", 1)
            self.wait_state(box.occupied[1], "off", 30)

    def wait_state(self, entity_id: str, wanted: str, timeout: float) -> float | None:
        """Return the seconds until `entity_id` is `wanted`, None past `timeout`."""
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) <= timeout:
            state: dict[str, Any] = self.ha.request(
                "GET", f"/api/states/{entity_id}", timeout=10
            )
            if state.get("state") == wanted:
                return elapsed
            time.sleep(STATE_SAMPLE)
        self.alive()
        return None

    def command(self, service: str, entity_id: str) -> tuple[float, str | None]:
        """Call switch.<service>; return its duration and an error, if any."""
        started = time.monotonic()
        try:
            self.ha.request(
                "POST",
                f"/api/services/switch/{service}",
                json_body={"entity_id": entity_id},
                timeout=60,
            )
        except thor_dev.HttpError as err:
            return time.monotonic() - started, err.body[:200]
        return time.monotonic() - started, None

    def confirm(
        self,
        delay: float,
        box: Chargebox,
        connector: int,
        *,
        section: str = CONFIRM,
        slack: float = CONFIRM_SLACK,
    ) -> None:
        """Turn a switch on, then off, with the simulator's delays at `delay`."""
        switch, occupied = box.switches[connector], box.occupied[connector]
        self.sim.settings(start_delay=delay, stop_delay=delay)
        goal = delay + slack
        for service, wanted, direction in (
            ("turn_on", "on", "start"),
            ("turn_off", "off", "stop"),
        ):
            before = self.sim.counts()
            took, error = self.command(service, switch)
            label = f"d={delay:g} s {direction}, {box.alias} connector {connector}"
            self.call_seconds = max(self.call_seconds, took)
            if error is not None:
                log(f"{switch} {service} failed: {error}")
                self.add(section, label, "refused", f"<= {goal:g} s", False)
                return
            seconds = self.wait_state(occupied, wanted, delay + 30)
            counts = self.sim.counts() - before
            shown = "never" if seconds is None else f"{seconds:.2f} s"
            log(
                f"d={delay:g}: {service} answered in {took:.2f} s; {occupied} "
                f"{wanted} {shown} later; requests: {paths_text(counts)}"
            )
            self.add(
                section,
                label,
                shown,
                f"<= {goal:g} s",
                seconds is not None and seconds <= goal,
            )
        # Idle again: no charge in the simulator and no quick polls any more.
        thor_dev.wait_for(
            "the charge to end",
            lambda: not self.sim.busy(),
            timeout=60,
            services=self.services,
        )
        self.wait_requests(self.sim.counts(), first=SETTLE_QUIET, quiet=SETTLE_QUIET)

    def measure_confirmations(self, size: int, *, push: bool = False) -> None:
        """Time the start and the stop confirmations at each delay."""
        # One connector per run, never the same twice in a row: the simulator (like
        # Thor) refuses a second start on a connector within 5 s.
        connectors = [
            (box, number)
            for box in self.boxes
            for number in range(1, box.connectors + 1)
        ]
        if len(connectors) > 1:
            connectors = connectors[1:] + connectors[:1]  # box 1 charged last
        for run, delay in enumerate(self.args.delays):
            box, number = connectors[run % len(connectors)]
            log(
                f"N={size}: start delay {delay:g} s on {box.alias} connector {number}"
                + (" (push)" if push else "")
            )
            if push:
                self.confirm(delay, box, number, section=PUSH, slack=PUSH_CONFIRM_SLACK)
            else:
                self.confirm(delay, box, number)
        if not push:
            self.add(
                CONFIRM,
                "longest switch call (not counted)",
                f"{self.call_seconds:.2f} s",
            )

    def enable_push(self, size: int) -> None:
        """Switch push on (options flow) and send the simulator's notifications there."""
        if self.entry_id is None:
            raise thor_dev.DevError("no Thor entry to switch push on")
        self.ha.set_external_url(self.ha.url)
        url = self.ha.enable_push(self.entry_id)
        log(f"N={size}: push switched on in the options flow; the entry reloads")
        self.settle("the Thor entry with push on")
        self.last_force = 0.0
        self.sim.admin(
            "POST",
            "/notifications",
            {"url": url, "meter_interval": 5, "enabled": True},
        )
        log(f"N={size}: the simulator's notifications go to the webhook address shown")

    def push_diagnostics(self) -> tuple[float | None, bool, int]:
        """Return update_interval (s), push.healthy and notifications received."""
        if self.entry_id is None:
            raise thor_dev.DevError("no Thor entry to read the diagnostics of")
        data = self.ha.diagnostics(self.entry_id)
        coordinator: dict[str, Any] = data.get("coordinator") or {}
        push: dict[str, Any] = data.get("push") or {}
        interval = coordinator.get("update_interval")
        return (
            None if interval is None else float(interval),
            bool(push.get("healthy")),
            int(push.get("notifications_received") or 0),
        )

    def check_push(self, size: int) -> None:
        """Check in the diagnostics that push is healthy and polls slowed down.

        The requests of a whole idle hour with push are counted by bench_hour.py.
        """
        interval, healthy, received = self.push_diagnostics()
        shown = "none" if interval is None else f"{interval:.0f} s"
        log(
            f"N={size}: diagnostics: update_interval {shown}, push healthy {healthy}, "
            f"{received} notifications received"
        )
        self.add(
            PUSH,
            "diagnostics: push.healthy",
            str(healthy).lower(),
            "true",
            healthy,
        )
        self.add(
            PUSH,
            "diagnostics: coordinator.update_interval",
            shown,
            f">= {PUSH_IDLE_INTERVAL:.0f} s",
            interval is not None and interval >= PUSH_IDLE_INTERVAL,
        )

    def measure_push(self, size: int) -> None:
        """Switch push on; time the confirmations and measure the idle requests."""
        self.enable_push(size)
        if self.args.delays:
            self.measure_confirmations(size, push=True)
        else:
            # A notification must have come for push to count as healthy.
            box = self.boxes[0]
            self.sim.rfid_start(box.id, 1)
            self.wait_state(box.occupied[1], "on", 30)
            self.sim.end_charge(box.id, 1)
            self.wait_state(box.occupied[1], "off", 30)
        self.check_push(size)

    def run(self) -> None:
        """Measure at every size, then the confirmations at the largest."""
        sizes: list[int] = self.args.sizes
        for size in sizes:
            last = size == sizes[-1]
            self.grow(size)
            log(f"N={size}: measuring")
            self.measure_setup(size)
            self.measure_idle(size)
            self.measure_charging(size, last=last)
        if self.args.delays:
            self.measure_confirmations(sizes[-1])
        if self.args.push:
            self.measure_push(sizes[-1])


def pick(
    entities: list[tuple[str, str]], domain: str, word: str, connectors: int
) -> dict[int, str]:
    """Return connector number -> entity id of `domain` whose name has `word`.

    `entities` are (entity id, "entity id + friendly name" lowercased). On a box with
    several connectors the name says "connector N" (the entity id "connector_N").
    """
    candidates = [
        (entity_id, text)
        for entity_id, text in entities
        if entity_id.startswith(domain) and word in text
    ]
    if connectors == 1:
        return {1: candidates[0][0]} if len(candidates) == 1 else {}
    found: dict[int, str] = {}
    for number in range(1, connectors + 1):
        mine = [
            entity_id
            for entity_id, text in candidates
            if f"connector {number} " in f"{text} " or f"connector_{number}_" in text
        ]
        if len(mine) == 1:
            found[number] = mine[0]
    return found


# --- Home Assistant --------------------------------------------------------------


def prepare_config(config_dir: Path) -> None:
    """Fill the temporary config dir (Thor logs at info: the log stays small)."""
    config = (thor_dev.DEFAULT_CONFIG / "configuration.yaml").read_text()
    config = config.replace(
        "custom_components.thor: debug", "custom_components.thor: info"
    )
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(config)
    thor_dev.prepare_config(config_dir)


def start_home_assistant(
    config_dir: Path, port: int, services: list[thor_dev.Service]
) -> thor_dev.HomeAssistant:
    """Start and onboard Home Assistant."""
    hass = thor_dev.start_hass(
        config_dir, port, "127.0.0.1", config_dir / "hass-console.log"
    )
    services.append(hass)
    ha = thor_dev.HomeAssistant(f"http://127.0.0.1:{port}")
    ha.wait_until_up(hass)
    log("Home Assistant answers; onboarding")
    ha.onboard(*OWNER)
    ha.wait_running(hass)
    return ha


# --- main ------------------------------------------------------------------------


def number_list[T: (int, float)](kind: Callable[[str], T]) -> Callable[[str], list[T]]:
    """Return an argparse type parsing `1,5,20` into sorted, distinct numbers > 0."""

    def parse(value: str) -> list[T]:
        try:
            numbers = sorted({kind(part) for part in value.split(",") if part.strip()})
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a list") from None
        if any(not number > 0 or not math.isfinite(number) for number in numbers):
            raise argparse.ArgumentTypeError(f"{value!r}: every number must be > 0")
        return numbers

    return parse


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a fast check: N=1,20, d=1,6, 1 poll, 1 reload; CPU per notification "
        "at N=1,100 with fewer rounds",
    )
    parser.add_argument(
        "--sizes",
        type=number_list(int),
        help="chargeboxes on the entry, measured in turn (default: 1,5,20)",
    )
    parser.add_argument(
        "--delays",
        type=number_list(float),
        help="simulator start (and stop) delays in seconds (default: 1,3,6,11)",
    )
    parser.add_argument(
        "--polls", type=int, help="forced polls per measurement (default: 2)"
    )
    parser.add_argument("--reloads", type=int, help="reloads per size (default: 2)")
    parser.add_argument(
        "--push",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with push switched on: the idle hour (part A), the confirmations "
        "again (part B) (default: on)",
    )
    parser.add_argument(
        "--hour",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="part A: the requests of simulated hours (default: on)",
    )
    parser.add_argument(
        "--real",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="part B: a real Home Assistant: setup, polls, confirmations (default: on)",
    )
    parser.add_argument(
        "--cpu",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="part C: CPU per notification, N=1,20,100 (default: on)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary config dir and logs"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "sizes": [1, 20] if quick else [1, 5, 20],
        "delays": [1.0, 6.0] if quick else [1.0, 3.0, 6.0, 11.0],
        # The simulated hours count 60 idle and 20 charging polls per size: two
        # forced polls of a real instance are the cross-check.
        "polls": 1 if quick else 2,
        "reloads": 1 if quick else 2,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.polls < 1 or args.reloads < 1:
        parser.error("--polls and --reloads must be >= 1")
    return args


def run_real(args: argparse.Namespace, config_dir: Path, results: list[Result]) -> None:
    """Part B: set the real Home Assistant up and measure, adding to `results`."""
    ha_port, sim_port = thor_dev.free_port(), thor_dev.free_port()
    while sim_port == ha_port:
        sim_port = thor_dev.free_port()
    sim = Simulator(sim_port, SIM_API_KEY)
    services: list[thor_dev.Service] = []
    bench: Bench | None = None
    try:
        prepare_config(config_dir)
        log(f"simulator on {sim_port}, Home Assistant on {ha_port} ({config_dir})")
        services.append(start_simulator(sim, config_dir / "simulator.log"))
        ha = start_home_assistant(config_dir, ha_port, services)
        bench = Bench(args, sim, ha, services)
        bench.run()
    finally:
        if bench is not None:
            results += bench.results
        for service in reversed(services):
            service.stop(timeout=15)


def run_part(
    script: str, options: list[str], config_dir: Path, results: list[Result]
) -> str | None:
    """Run a part in a process of its own; add its figures; return its error, if any.

    Its own process: part A freezes time, part C measures its process's CPU time.
    """
    figures = config_dir / f"{Path(script).stem}.json"
    command = [sys.executable, str(SCRIPTS / script), *options, "--json", str(figures)]
    log(f"running {script} {' '.join(options)}".rstrip())
    code = subprocess.run(command, check=False).returncode
    if not figures.exists():
        return f"{script} ended with status {code} and no figures"
    data: dict[str, Any] = json.loads(figures.read_text())
    results += [Result.from_dict(item) for item in data["results"]]
    return f"{script} failed (see above)" if data["status"] == 2 else None


def run(args: argparse.Namespace, config_dir: Path, results: list[Result]) -> None:
    """Run the parts asked for, adding to `results`.

    A part's error ends the run with status 2, once the other parts ran.
    """
    errors: list[str] = []
    if args.hour:
        options = ["--sizes", ",".join(map(str, args.sizes))]
        options += [] if args.push else ["--no-push"]
        errors.append(run_part("bench_hour.py", options, config_dir, results) or "")
    if args.real:
        try:
            run_real(args, config_dir / "real", results)
        except thor_dev.DevError as err:
            log(f"error: {err}")
            errors.append(f"the real Home Assistant: {err}")
    if args.cpu:
        options = ["--quick"] if args.quick else []
        errors.append(run_part("bench_push.py", options, config_dir, results) or "")
    if failed := [error for error in errors if error]:
        raise thor_dev.DevError("; ".join(failed))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    results: list[Result] = []

    def report(elapsed: float) -> bool:
        if results:
            print_results(results, elapsed)
        return not any(result.passed is False for result in results)

    return thor_dev.run_benchmark(
        "bench",
        lambda config_dir: run(args, config_dir, results),
        report,
        keep=args.keep,
    )


if __name__ == "__main__":
    sys.exit(main())
