"""Benchmark: the CPU time one Thor notification costs Home Assistant, by chargeboxes.

Run by `scripts/bench-push` (and by `scripts/bench`). For each size N (default 1, 20
and 100 chargeboxes, the first with two connectors, the others with one):

- the Thor simulator runs in a process of its own (its work is Thor's, not Home
  Assistant's), with no start/stop delay;
- Home Assistant runs in this process (the test harness's, in real time;
  scripts/bench_hass.py) with one account entry of the N chargeboxes, each with its
  entities, and push switched on in the entry's options (push, a webhook id); its
  HTTP app is served on loopback;
- a poster process (scripts/bench_poster.py) POSTs the notifications to the
  webhook, one at a time over one keep-alive connection, when told through a pipe:
  HTTP through Home Assistant's webhook handler, as Thor sends them.

A charge runs on connector 2 of the first chargebox all along. Each round, a card
starts a charge on connector 1 (the simulator's admin API), its start notification is
posted, then METERS meter-values notifications, then the charge ends at the box and
its stop notification is posted; the first round warms up and is not counted. Around
each notification this process's CPU time (time.process_time(), every thread) is read
before it is handed to the poster and again once the answer came, Home Assistant's
tasks are done and DEFERRED seconds more passed (work put off by the handler); the
median of each kind is the figure (a poll falling into one window does not move it).
The occupied sensor of connector 1 must follow each start and stop, and each round's
meter values must change a state of that chargebox: a notification ignored would
measure nothing.

The floor: the same POST to a webhook registered by the benchmark that only reads
the body (HTTP, Home Assistant's webhook dispatch, the pipe to the poster).

Goals: below GOAL_MS per notification of each kind at the largest N, and flat: at the
largest N at most FLAT_MS more than at the smallest. Only the webhook's HTTP
interface and public setup (the config entry, its options) are used, so the
benchmark holds when the handling of notifications is rewritten.

Prints the figures beside their goals (`--json FILE` also writes them for
scripts/bench) and exits 0 when all are met, 1 when one is missed, 2 on an error.
"""

import bench_hass  # isort:skip  # first: it sets up the harness's time patches

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass, field
import json
from pathlib import Path
import secrets
import statistics
import subprocess
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web
from bench import Result, number_list, run_in_process
from bench_hass import API_KEY, BenchError, Harness
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant
from homeassistant.util import slugify
import thor_dev

PROG = "scripts/bench-push"
POSTER = Path(__file__).resolve().parent / "bench_poster.py"
KINDS = ("start", "meters", "stop")
"""The kinds of notification: start, meter values, stop."""
GOAL_MS = 1.0
"""CPU per notification at the largest N, milliseconds."""
FLAT_MS = 0.25
"""How much more a notification may cost at the largest N than at the smallest, ms
(2.5 microseconds per chargebox from 1 to 100: flat, not a cost per chargebox)."""
METERS = 4
"""Meter-values notifications per round (Thor sends one every few seconds)."""
DEFERRED = 0.05
"""Seconds after the answer still counted: work the handler put off."""
PAUSE = 0.02
"""Seconds before each window: what came before it (the simulator's admin calls, the
checks, the previous window) is over."""
SHOWN_WITHIN = 2.0
"""Seconds after a start (stop) notification within which connector 1 must show
occupied (free): else the notification was not applied, an error."""
STATE_SAMPLE = 0.01
"""Seconds between two looks at that sensor."""
FIRST_BOX = ("Bench 01", 2)
"""Alias and connectors of the first chargebox (its connector 2 charges all along)."""
POWER = 11000.0
"""W drawn by the charges of the notifications (three phases)."""

SECTION = "notification CPU: process time per notification through the webhook"
SECTIONS = (SECTION,)


def log(message: str) -> None:
    """Print a progress line."""
    print(f"bench-push: {message}", flush=True)


# --- the notifications (Thor's API doc §3; as thor_simulator/notifications.py) ------


def start_body(box: str, connector: int, id_tag: str, transaction: int) -> Any:
    """Return the start notification of a charge a card started (§3.1)."""
    return {
        "type": "start",
        "accepted": True,
        "chargebox": box,
        "connector": connector,
        "id": id_tag,
        "transaction_id": transaction,
        "mode": "local",
    }


def meters_body(box: str, connector: int, id_tag: str, energy: float) -> Any:
    """Return a meter-values notification of a running charge (§3.4), energy in Wh."""
    phases = ("L1", "L2", "L3")
    per_phase = POWER / len(phases)
    return {
        "type": "meters",
        "chargebox": box,
        "connector": connector,
        "idTag": id_tag,
        "time": "00:00:05",
        "kwh": energy,
        "meters": [
            {
                "measurand": "Energy.Active.Import.Register",
                "uom": "Wh",
                "value": energy,
                "phase": None,
            },
            *(
                {
                    "measurand": "Power.Active.Import",
                    "uom": "W",
                    "phase": phase,
                    "value": per_phase,
                }
                for phase in phases
            ),
            *(
                {
                    "measurand": "Current.Import",
                    "uom": "A",
                    "phase": phase,
                    "value": round(per_phase / 230, 2),
                }
                for phase in phases
            ),
        ],
    }


def stop_body(
    box: str, connector: int, id_tag: str, transaction: int, energy: float
) -> Any:
    """Return the stop notification of a charge that ended (§3.2), energy in Wh."""
    return {
        "type": "stop_transaction",
        "accepted": True,
        "unlocked": False,
        "chargebox": box,
        "connector": connector,
        "idTag": id_tag,
        "transaction_id": transaction,
        "kwh": energy,
        "time": 60,
    }


# --- the processes -----------------------------------------------------------------


class Poster:
    """The poster process, as seen from Home Assistant's process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        """Wrap a started poster."""
        self.process = process

    @classmethod
    async def start(cls, port: int) -> Poster:
        """Start a poster sending to Home Assistant on 127.0.0.1:port."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(POSTER),
            str(port),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        return cls(process)

    async def post(self, path: str, text: str) -> int:
        """Have `text` POSTed to `path`; return the HTTP status (0: no answer)."""
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:
            raise BenchError("the poster has no pipes")
        stdin.write(f"{path} {text}\n".encode())
        await stdin.drain()
        line = await stdout.readline()
        if not line:
            raise BenchError(f"the poster exited ({self.process.returncode})")
        return int(line)

    async def stop(self) -> None:
        """End the poster (stdin closed), killing it if it lingers."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


@dataclass
class Simulator:
    """The simulator's process and its admin API."""

    port: int
    process: asyncio.subprocess.Process
    session: aiohttp.ClientSession
    boxes: list[tuple[str, str]] = field(default_factory=list)
    """(id, alias) of the chargeboxes, in order."""

    @property
    def base_url(self) -> str:
        """The Thor API base URL."""
        return f"http://127.0.0.1:{self.port}/latest/integration"

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin API; return its JSON answer."""
        url = f"http://127.0.0.1:{self.port}/_simulator{path}"
        async with self.session.request(method, url, json=body) as response:
            if response.status >= 400:
                text = await response.text()
                raise BenchError(f"simulator {method} {path}: {response.status} {text}")
            return await response.json()

    async def rfid_start(self, box: str, connector: int, id_tag: str) -> int:
        """Start a charge with a card at the box; return its transaction."""
        answer = await self.admin(
            "POST",
            f"/chargeboxes/{box}/rfid_start",
            {"connector": connector, "id_tag": id_tag},
        )
        return int(answer["transaction"])

    async def end_charge(self, box: str, connector: int) -> None:
        """End the charge on a connector at the box."""
        await self.admin(
            "POST", f"/chargeboxes/{box}/end_charge", {"connector": connector}
        )


@contextlib.asynccontextmanager
async def simulator_process(size: int) -> Any:
    """Run the simulator with `size` chargeboxes on a free loopback port."""
    port = thor_dev.free_port()
    args = ["--quiet", "--port", str(port), "--api-key", API_KEY, "--seed", "1"]
    args += ["--start-delay", "0", "--stop-delay", "0", "--rate-limit", "0"]
    args += ["--chargebox", f"{FIRST_BOX[0]}:{FIRST_BOX[1]}"]
    for number in range(2, size + 1):
        args += ["--chargebox", f"Bench {number:03d}:1"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "thor_simulator",
        *args,
        cwd=bench_hass.REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        async with aiohttp.ClientSession() as session:
            sim = Simulator(port, process, session)
            state = await wait_for_simulator(sim)
            sim.boxes = [
                (str(box["id"]), str(box["alias"])) for box in state["chargeboxes"]
            ]
            yield sim
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def wait_for_simulator(sim: Simulator) -> Any:
    """Return the simulator's state once it answers (30 s at most)."""
    deadline = time.monotonic() + 30
    while True:
        if sim.process.returncode is not None:
            error = (
                b"" if sim.process.stderr is None else await sim.process.stderr.read()
            )
            raise BenchError(f"the simulator exited: {error.decode()[-500:]}")
        try:
            return await sim.admin("GET", "/state")
        except aiohttp.ClientError:
            if time.monotonic() > deadline:
                raise BenchError("the simulator does not answer") from None
            await asyncio.sleep(0.1)


# --- the measurement ---------------------------------------------------------------


@dataclass
class Figures:
    """Milliseconds of CPU per notification, by kind, at one size.

    Each notification's window is followed by a floor window (the same body to the
    benchmark's webhook): `net` holds the differences of these pairs, so that the
    floor's drift (other processes, the CPU's clock) cancels out.
    """

    gross: dict[str, list[float]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS}
    )
    floor: list[float] = field(default_factory=list)
    net: dict[str, list[float]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS}
    )

    def add(self, kind: str, gross: float, floor: float) -> None:
        """Add a notification's window and the floor window after it, ms."""
        self.gross[kind].append(gross)
        self.floor.append(floor)
        self.net[kind].append(gross - floor)


class Measure:
    """One size: Home Assistant, the simulator, the poster and the samples."""

    def __init__(
        self, harness: Harness, sim: Simulator, poster: Poster, webhook_path: str
    ) -> None:
        """Measure through a set-up entry with push on."""
        self.hass: HomeAssistant = harness.hass
        self.harness = harness
        self.sim = sim
        self.poster = poster
        self.webhook_path = webhook_path
        self.figures = Figures()
        self.floor_path = ""
        box_slug = slugify(sim.boxes[0][1])
        self.occupied = f"binary_sensor.{box_slug}_connector_1_occupied"
        self.box_entities = [
            entity_id
            for entity_id in harness.entity_ids(
                next(iter(self.hass.config_entries.async_entries(bench_hass.DOMAIN)))
            )
            if entity_id.split(".", 1)[1].startswith(box_slug)
        ]

    async def window(self, path: str, text: str, shown: str | None = None) -> float:
        """POST `text` to `path`; return the CPU time of its window, ms.

        The window ends DEFERRED s after the answer, once Home Assistant's tasks are
        done and, with `shown`, once connector 1's occupied sensor shows it (work
        put off longer than DEFERRED is counted too), SHOWN_WITHIN s at most.
        """
        await asyncio.sleep(PAUSE)
        started = time.process_time()
        status = await self.poster.post(path, text)
        await self.hass.async_block_till_done()
        await asyncio.sleep(DEFERRED)
        await self.hass.async_block_till_done()
        waited = DEFERRED
        while shown is not None and self.state(self.occupied) != shown:
            if waited >= SHOWN_WITHIN:
                raise BenchError(
                    f"{self.occupied} is {self.state(self.occupied)}, not {shown}, "
                    f"{SHOWN_WITHIN:g} s after the notification: not applied? "
                    f"(the entities of the box: {', '.join(self.box_entities)})"
                )
            await asyncio.sleep(STATE_SAMPLE)
            waited += STATE_SAMPLE
            await self.hass.async_block_till_done()
        spent = time.process_time() - started
        self.harness.check()
        if status != 200:
            raise BenchError(f"a POST to {path[:14]}... was answered {status}")
        return spent * 1000

    async def post(self, kind: str | None, body: Any, shown: str | None = None) -> None:
        """POST a notification, then the floor's; record both (None: not counted).

        `shown`: what connector 1's occupied sensor must show after it.
        """
        text = json.dumps(body)
        gross = await self.window(self.webhook_path, text, shown)
        floor = await self.window(self.floor_path, text)
        if kind is not None:
            self.figures.add(kind, gross, floor)

    def state(self, entity_id: str) -> str | None:
        """Return an entity's state, None when it has none."""
        state = self.hass.states.get(entity_id)
        return None if state is None else state.state

    async def setup_floor(self) -> None:
        """Register the benchmark's own webhook, which only reads the body."""

        async def handler(
            _hass: HomeAssistant, _webhook_id: str, request: web.Request
        ) -> web.Response:
            await request.read()
            return web.Response(status=200)

        floor_id = secrets.token_hex(16)
        webhook.async_register(
            self.hass,
            "bench",
            "Bench floor",
            floor_id,
            handler,
            allowed_methods=["POST"],
        )
        self.floor_path = webhook.async_generate_path(floor_id)

    async def background_charge(self) -> None:
        """Start the charge that runs on connector 2 of the first box all along."""
        box = self.sim.boxes[0][0]
        transaction = await self.sim.rfid_start(box, 2, "BENCH-ALL-ALONG")
        await self.post(None, start_body(box, 2, "BENCH-ALL-ALONG", transaction))

    async def round(self, number: int, *, counted: bool) -> None:
        """Start, meter values and stop of one charge on connector 1."""
        box = self.sim.boxes[0][0]
        id_tag = f"BENCH-{number:04d}"
        transaction = await self.sim.rfid_start(box, 1, id_tag)
        await self.post(
            "start" if counted else None,
            start_body(box, 1, id_tag, transaction),
            shown="on",
        )
        before = {entity_id: self.state(entity_id) for entity_id in self.box_entities}
        energy = 0.0
        for _ in range(METERS):
            energy += 15.0  # 11 kW for about 5 s
            await self.post(
                "meters" if counted else None,
                meters_body(box, 1, id_tag, energy),
            )
        waited = 0.0
        while before == {entity_id: self.state(entity_id) for entity_id in before}:
            if waited >= SHOWN_WITHIN:
                raise BenchError(
                    "meter-values notifications changed no state of the chargebox "
                    f"within {SHOWN_WITHIN:g} s: not applied?"
                )
            await asyncio.sleep(STATE_SAMPLE)
            waited += STATE_SAMPLE
        await self.sim.end_charge(box, 1)
        await self.post(
            "stop" if counted else None,
            stop_body(box, 1, id_tag, transaction, energy),
            shown="off",
        )


async def measure_size(size: int, rounds: int) -> Figures:
    """Set up N chargeboxes with push and time the notifications."""
    async with (
        simulator_process(size) as sim,
        bench_hass.in_process_hass() as harness,
    ):
        started = time.monotonic()
        entry = await harness.add_account(sim.base_url, sim.boxes, push=True)
        entities = len(harness.entity_ids(entry))
        log(
            f"N={size}: entry set up with {entities} entities in "
            f"{time.monotonic() - started:.1f} s"
        )
        port = await harness.serve_http()
        poster = await Poster.start(port)
        try:
            measure = Measure(
                harness,
                sim,
                poster,
                webhook.async_generate_path(entry.options["webhook_id"]),
            )
            await measure.setup_floor()
            await measure.background_charge()
            for number in range(rounds + 1):
                await measure.round(number, counted=number > 0)
        finally:
            await poster.stop()
        return measure.figures


def medians(figures: Figures, kind: str) -> tuple[float, float, float]:
    """Return the median net, gross and floor of a kind, ms."""
    return (
        statistics.median(figures.net[kind]),
        statistics.median(figures.gross[kind]),
        statistics.median(figures.floor),
    )


def results_of(sizes: Sequence[int], figures: dict[int, Figures]) -> list[Result]:
    """Return the medians beside their goals (the goals on the net figures)."""
    results: list[Result] = []
    smallest, largest = sizes[0], sizes[-1]
    where = "/".join(map(str, sizes))

    def shown(values: Sequence[float]) -> str:
        return "/".join(f"{value:.2f}" for value in values)

    for kind in KINDS:
        net = [medians(figures[size], kind)[0] for size in sizes]
        gross = [medians(figures[size], kind)[1] for size in sizes]
        count = len(figures[largest].net[kind])
        results.append(Result(SECTION, f"{kind:<6} ms in all, N={where}", shown(gross)))
        results.append(
            Result(
                SECTION,
                f"{kind:<6} ms above the floor ({count} each)",
                shown(net),
                f"< {GOAL_MS:g} ms",
                net[-1] < GOAL_MS,
            )
        )
        growth = net[-1] - net[0]
        results.append(
            Result(
                SECTION,
                f"{kind:<6} growth N={smallest} -> {largest}",
                f"{growth:+.2f} ms",
                f"<= +{FLAT_MS:g}",
                growth <= FLAT_MS,
            )
        )
    floors = [statistics.median(figures[size].floor) for size in sizes]
    results.append(
        Result(SECTION, f"floor (HTTP, webhook dispatch), N={where}", shown(floors))
    )
    return results


async def measure(args: argparse.Namespace, results: list[Result]) -> None:
    """Measure every size, then add the figures to `results`."""
    figures: dict[int, Figures] = {}
    for size in args.sizes:
        started = time.monotonic()
        figures[size] = found = await measure_size(size, args.rounds)
        shown = ", ".join(
            f"{kind} {net:.2f} ({gross:.2f})"
            for kind in KINDS
            for net, gross, _ in [medians(found, kind)]
        )
        log(
            f"N={size}: median ms per notification above the floor (in all): "
            f"{shown}; floor {statistics.median(found.floor):.2f} "
            f"({time.monotonic() - started:.0f} s)"
        )
    results.extend(results_of(args.sizes, figures))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--quick", action="store_true", help="a fast check: N=1,100, 10 rounds"
    )
    parser.add_argument(
        "--sizes",
        type=number_list(int),
        help="chargeboxes on the entry (default: 1,20,100; at least two)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"charges per size, each a start, {METERS} meter values and a stop "
        "(default: 30)",
    )
    parser.add_argument(
        "--json", type=Path, help="also write the figures to this file (JSON)"
    )
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = [1, 100] if args.quick else [1, 20, 100]
    if args.rounds is None:
        args.rounds = 10 if args.quick else 30
    if len(args.sizes) < 2 or args.rounds < 1:
        parser.error("--sizes needs two sizes at least, --rounds 1 at least")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    return run_in_process(
        "bench-push",
        SECTIONS,
        lambda results: measure(args, results),
        args.json,
        BenchError,
    )


if __name__ == "__main__":
    sys.exit(main())
