"""Benchmark: the Thor requests of one idle hour, counted over a whole simulated hour.

Run by `scripts/bench` (and on its own: `.venv/bin/python scripts/bench_hour.py`).
For each size N (default 1, 5 and 20 chargeboxes), without and with push, a new
in-process Home Assistant (the test harness's; scripts/bench_hass.py) sets up one
account entry against an in-process simulator, with time frozen. Time then moves from
one timer of the event loop to the next: Home Assistant's scheduler runs every poll at
the exact time it asked for, so the requests of a full hour are counted, not
extrapolated from one poll interval (which wobbles by the time it takes to notice a
request), in about a second per hour.

- idle: a full hour from SETTLE_IDLE after the setup (the setup's requests, the list
  and the energy reconciliation, are counted apart); goal: 60 requests at most (one
  poll a minute); then a card starts a charge at the box and the polls of the next
  10 minutes are counted (goal: 2 requests per poll at most, the list and the
  running charges);
- with push (the entry's options: push on, a webhook id): the simulator's
  notifications go to the webhook through Home Assistant's HTTP server (loopback), a
  charge starts and ends at the box (start, meter values every 5 s, stop), then
  after SETTLE (the charge's finished record is read) the next full hour is counted;
  goal: 12 requests at most (one poll every 5 minutes).

Prints the figures beside their goals (`--json FILE` also writes them for
scripts/bench) and exits 0 when all are met, 1 when one is missed, 2 on an error.
"""

import bench_hass  # isort:skip  # first: it sets up the harness's time patches

import argparse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import itertools
import math
from pathlib import Path
import sys
from typing import Any

from bench import Result, number_list, paths_text, run_in_process
from bench_hass import BenchError, Clock, Harness

from thor_simulator import ThorSimulator

HOUR = timedelta(hours=1)
IDLE_HOUR_GOAL = 60
"""Requests per idle hour: one poll a minute, one request each."""
PUSH_HOUR_GOAL = 12
"""Requests per idle hour while notifications arrive: one poll every 5 minutes."""
CHARGING_GOAL = 2
"""Requests per poll while a connector charges: the list and the running charges."""
CHARGING_TIME = timedelta(minutes=10)
"""How long the charge after the idle hour is watched."""
CHARGE = timedelta(minutes=2)
"""How long the charge of the push scenario runs (polls and meter values)."""
METER_INTERVAL = 5.0
"""Seconds between two meter notifications of the simulator."""
SETTLE_IDLE = timedelta(minutes=5)
"""After the setup, before the hour counted: any hour of a steady idle entry, not one
that starts with the setup's own poll."""
SETTLE = timedelta(minutes=15)
"""After the charge: the finished record of the charge is read (retried every minute
for 10 minutes at most), then the hour counted is a steady idle one."""
FIRST_BOX = ("Bench 01", 2)
"""The first chargebox has two connectors, the others one (as in scripts/bench)."""

IDLE = "idle hour (simulated): requests over a whole hour of an idle entry"
CHARGING = "charging (simulated): the polls of 10 minutes while a connector charges"
PUSH = "push idle hour (simulated): requests over a whole hour after a charge"
SECTIONS = (IDLE, CHARGING, PUSH)


def log(message: str) -> None:
    """Print a progress line."""
    print(f"bench-hour: {message}", flush=True)


@dataclass
class Period:
    """The requests of a counted period, by the (frozen) time they were sent at."""

    start: datetime
    requests: list[tuple[float, Counter[str]]] = field(default_factory=list)
    """Seconds since `start`, and the requests the timers run then sent."""

    @property
    def counts(self) -> Counter[str]:
        """Return all the requests, by endpoint."""
        total: Counter[str] = Counter()
        for _, counts in self.requests:
            total += counts
        return total

    @property
    def intervals(self) -> list[float]:
        """Return the seconds between two moments with requests (polls)."""
        times = [seconds for seconds, _ in self.requests]
        return [later - earlier for earlier, later in itertools.pairwise(times)]


class Recorder:
    """Counts the simulator's requests as frozen time moves on."""

    def __init__(self, sim: ThorSimulator, clock: Clock) -> None:
        """Start from the requests received so far."""
        self.sim = sim
        self.clock = clock
        self.seen = Counter(sim.request_counts.by_endpoint)
        self.period: Period | None = None

    def take(self) -> Counter[str]:
        """Return the requests since the last look."""
        now = Counter(self.sim.request_counts.by_endpoint)
        new, self.seen = now - self.seen, now
        return new

    def record(self) -> None:
        """Add the requests since the last look to the period being counted."""
        new = self.take()
        if self.period is None or not new:
            return
        seconds = (self.clock.now() - self.period.start).total_seconds()
        requests = self.period.requests
        if requests and requests[-1][0] == seconds:
            requests[-1][1].update(new)  # The same moment: one poll.
        else:
            requests.append((seconds, new))


def make_simulator(size: int) -> ThorSimulator:
    """Return a simulator with `size` chargeboxes (not started)."""
    sim = bench_hass.real_clock_simulator()
    sim.add_chargebox(alias=FIRST_BOX[0], connectors=FIRST_BOX[1])
    for number in range(2, size + 1):
        sim.add_chargebox(alias=f"Bench {number:02d}", connectors=1)
    return sim


def boxes(sim: ThorSimulator) -> list[tuple[str, str]]:
    """Return the simulator's chargeboxes as (id, title)."""
    return [(box_id, box.alias) for box_id, box in sim.chargeboxes.items()]


async def run(
    harness: Harness,
    clock: Clock,
    recorder: Recorder,
    until: datetime,
    *,
    sim: ThorSimulator | None = None,
    step: float | None = None,
) -> None:
    """Run Home Assistant's timers until `until`, recording the requests of each.

    With `sim`, the notifications due are sent after each timer (and every `step`
    seconds), as Thor sends them when things happen.
    """

    async def after_timer() -> None:
        recorder.record()
        if sim is not None:
            await sim.async_send_notifications()
            await bench_hass.async_settle(harness.hass)
            recorder.record()
        harness.check()

    await clock.run_until(harness.hass, until, step=step, after_timer=after_timer)


async def count(
    harness: Harness,
    clock: Clock,
    recorder: Recorder,
    length: timedelta = HOUR,
    sim: ThorSimulator | None = None,
) -> Period:
    """Count the requests of the next `length` of time (a full hour by default)."""
    recorder.record()  # Not in the period: what happened before it.
    recorder.period = period = Period(clock.now())
    await run(harness, clock, recorder, period.start + length, sim=sim)
    recorder.period = None
    return period


@dataclass
class IdleFigures:
    """What the scenario without push measured."""

    setup: Counter[str]
    hour: Period
    charging: Period


async def idle_hour(size: int, clock: Clock) -> IdleFigures:
    """Set an entry up without push: count its setup, an idle hour, then a charge."""
    sim = make_simulator(size)
    await sim.start("127.0.0.1", 0)
    try:
        async with bench_hass.in_process_hass() as harness:
            recorder = Recorder(sim, clock)
            await harness.add_account(sim.base_url, boxes(sim), push=False)
            setup = recorder.take()
            await run(harness, clock, recorder, clock.now() + SETTLE_IDLE)
            hour = await count(harness, clock, recorder)
            # A card starts a charge at the box; the next poll sees it.
            sim.start_rfid_charge(next(iter(sim.chargeboxes)), 1, "BENCH-CARD")
            charging = await count(harness, clock, recorder, CHARGING_TIME)
            return IdleFigures(setup, hour, charging)
    finally:
        await sim.stop()


async def push_hour(size: int, clock: Clock) -> tuple[Period, dict[str, Any]]:
    """Set an entry up with push, charge once, settle; return the next hour.

    Also return the entry's diagnostics at the end of the hour (push's health).
    """
    sim = make_simulator(size)
    await sim.start("127.0.0.1", 0)
    try:
        async with bench_hass.in_process_hass() as harness:
            recorder = Recorder(sim, clock)
            entry = await harness.add_account(sim.base_url, boxes(sim), push=True)
            await harness.serve_http()
            sim.configure_notifications(
                url=harness.webhook_url(entry.options["webhook_id"]),
                meter_interval=METER_INTERVAL,
            )
            box = next(iter(sim.chargeboxes))
            sim.start_rfid_charge(box, 1, "BENCH-CARD")
            charged = clock.now() + CHARGE
            await run(harness, clock, recorder, charged, sim=sim, step=1.0)
            sim.end_charge(box, 1)
            settled = clock.now() + SETTLE
            await run(harness, clock, recorder, settled, sim=sim)
            counters = sim.notifier.counters
            if counters.sent == 0 or counters.failed:
                raise BenchError(
                    f"notifications: {counters.sent} answered 2xx, "
                    f"{counters.failed} failed (last: {counters.last_status} "
                    f"{counters.last_error})"
                )
            hour = await count(harness, clock, recorder, sim=sim)
            return hour, await diagnostics(harness, entry)
    finally:
        await sim.stop()


async def diagnostics(harness: Harness, entry: Any) -> dict[str, Any]:
    """Return the entry's diagnostics, as Home Assistant's diagnostics page gets them."""
    from custom_components.thor import diagnostics as thor_diagnostics  # noqa: PLC0415

    data: dict[str, Any] = await thor_diagnostics.async_get_config_entry_diagnostics(
        harness.hass, entry
    )
    return data


def spacing(period: Period, *, skip: int = 0) -> str:
    """Return the spacing of the polls of a period: `60.0 s`, or `min-max s`."""
    intervals = period.intervals[skip:]
    if not intervals:
        return "no poll"
    low, high = min(intervals), max(intervals)
    if math.isclose(low, high):
        return f"{low:.1f} s"
    return f"{low:.1f}-{high:.1f} s"


def per_poll(period: Period, *, skip: int = 0) -> list[int]:
    """Return the requests of each poll of a period."""
    return [sum(counts.values()) for _, counts in period.requests[skip:]]


def hour_results(section: str, size: int, hour: Period, goal: int) -> list[Result]:
    """Return the figures of a counted hour."""
    total = sum(hour.counts.values())
    return [
        Result(section, f"N={size:<3} polls in the hour, spacing", spacing(hour)),
        Result(
            section,
            f"N={size:<3} requests per poll (most)",
            str(max(per_poll(hour), default=0)),
        ),
        Result(
            section,
            f"N={size:<3} requests in the hour",
            str(total),
            f"<= {goal}",
            total <= goal,
        ),
    ]


def charging_results(size: int, period: Period) -> list[Result]:
    """Return the figures of the charging period (its first poll saw the start)."""
    polls = per_poll(period, skip=1)
    return [
        Result(
            CHARGING,
            f"N={size:<3} spacing of the charging polls",
            spacing(period, skip=1),
        ),
        Result(
            CHARGING,
            f"N={size:<3} requests per charging poll (most)",
            str(max(polls, default=0)),
            f"<= {CHARGING_GOAL}",
            bool(polls) and max(polls) <= CHARGING_GOAL,
        ),
    ]


async def measure(args: argparse.Namespace, results: list[Result]) -> None:
    """Run every scenario, adding to `results`."""
    with bench_hass.frozen_clock() as clock:
        for size in args.sizes:
            if args.idle:
                idle = await idle_hour(size, clock)
                log(f"N={size}: setup: {paths_text(idle.setup)}")
                log(f"N={size}: idle hour: {paths_text(idle.hour.counts)}")
                log(
                    f"N={size}: {CHARGING_TIME.seconds // 60} minutes of a charge: "
                    f"{paths_text(idle.charging.counts)}"
                )
                results.extend(hour_results(IDLE, size, idle.hour, IDLE_HOUR_GOAL))
                results.extend(charging_results(size, idle.charging))
            if args.push:
                hour, data = await push_hour(size, clock)
                log(f"N={size}: idle hour with push: {paths_text(hour.counts)}")
                push: dict[str, Any] = data.get("push") or {}
                coordinator: dict[str, Any] = data.get("coordinator") or {}
                log(
                    f"N={size}: after the hour: push healthy {push.get('healthy')}, "
                    f"{push.get('notifications_received')} notifications received, "
                    f"update_interval {coordinator.get('update_interval')} s"
                )
                results.extend(hour_results(PUSH, size, hour, PUSH_HOUR_GOAL))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="bench_hour.py",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--sizes",
        type=number_list(int),
        default=[1, 5, 20],
        help="chargeboxes on the entry (default: 1,5,20)",
    )
    parser.add_argument(
        "--idle",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the idle hour without push (default: on)",
    )
    parser.add_argument(
        "--push",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the idle hour with push (default: on)",
    )
    parser.add_argument(
        "--json", type=Path, help="also write the figures to this file (JSON)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    return run_in_process(
        "bench-hour",
        SECTIONS,
        lambda results: measure(args, results),
        args.json,
        BenchError,
    )


if __name__ == "__main__":
    sys.exit(main())
