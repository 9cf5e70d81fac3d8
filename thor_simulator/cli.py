"""Command line: `python -m thor_simulator`."""

import argparse
import asyncio
from collections.abc import Callable, Sequence
import contextlib
import logging
import random
import shlex
import signal
import string
import sys
from typing import TextIO

from .faults import Faults, parse_fault
from .notifications import check_notification_url
from .simulator import ThorSimulator

_BICYCLE_WORDS = ("bike", "bicycle", "bici", "cycle")


def chargebox_spec(value: str) -> tuple[str, int]:
    """Parse `ALIAS:CONNECTORS` (an argparse type)."""
    alias, sep, count = value.rpartition(":")
    if not sep or not alias.strip():
        raise argparse.ArgumentTypeError(f"expected ALIAS:CONNECTORS, got {value!r}")
    try:
        connectors = int(count)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"the connector count of {value!r} is not an integer"
        ) from None
    if connectors < 1:
        raise argparse.ArgumentTypeError(f"{value!r} needs at least one connector")
    return alias.strip(), connectors


def fault_spec(value: str) -> tuple[str, object]:
    """Parse `NAME=VALUE` into a validated fault (an argparse type)."""
    try:
        return parse_fault(value)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _non_negative(value: str) -> float:
    """Parse a number of seconds >= 0 (an argparse type)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is negative")
    return number


def _positive_int(value: str) -> int:
    """Parse an integer >= 1 (an argparse type)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not >= 1")
    return number


def _positive_float(value: str) -> float:
    """Parse a number of seconds > 0 (an argparse type)."""
    number = _non_negative(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not > 0")
    return number


def _notification_url(value: str) -> str:
    """Parse a notification URL: http(s) on a loopback host (an argparse type)."""
    try:
        check_notification_url(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m thor_simulator",
        description="Simulate the Thor cloud (thor.tools) integration API on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="0 = any free port")
    parser.add_argument("--api-key", help="valid API key (default: seeded random)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random id")
    parser.add_argument(
        "--chargeboxes",
        type=_positive_int,
        metavar="N",
        help='add N chargeboxes "Chargebox 1".."Chargebox N" (default 1 when no '
        "--chargebox is given)",
    )
    parser.add_argument(
        "--connectors",
        type=_positive_int,
        default=2,
        metavar="M",
        help="connectors of each --chargeboxes chargebox (default 2)",
    )
    parser.add_argument(
        "--chargebox",
        action="append",
        type=chargebox_spec,
        default=[],
        metavar="ALIAS:CONNECTORS",
        help="add a chargebox (repeatable); an alias naming a bike makes a 3.7 kW "
        "bicycle chargebox with schuko sockets",
    )
    parser.add_argument(
        "--start-delay",
        type=_non_negative,
        default=3.0,
        metavar="S",
        help="seconds from an accepted start to the running charge",
    )
    parser.add_argument(
        "--stop-delay",
        type=_non_negative,
        default=3.0,
        metavar="S",
        help="seconds from an accepted stop to the end of the charge",
    )
    parser.add_argument(
        "--rate-limit",
        type=_non_negative,
        default=5.0,
        metavar="S",
        help="window of the per-connector start throttle (0 disables)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        type=fault_spec,
        default=[],
        metavar="NAME=VALUE",
        help="inject a fault from the start (repeatable), e.g. status=429, "
        'retry_after_header=1e9, error_raw_body=\'{"message": "{api_key}"}\', '
        "omit_running=true, omit_list_connectors=true, path=/charges/running, "
        "count=1; every field of "
        "thor_simulator.Faults works, and POST/DELETE /_simulator/faults change "
        "them live",
    )
    parser.add_argument(
        "--notification-url",
        type=_notification_url,
        metavar="URL",
        help="POST Thor's push notifications (start, stop, meters) to this http(s) "
        "URL on a loopback host, e.g. http://127.0.0.1:8123/api/webhook/ID; "
        "POST /_simulator/notifications changes it live",
    )
    parser.add_argument(
        "--meter-interval",
        type=_positive_float,
        default=5.0,
        metavar="S",
        help="seconds between two meter notifications of a running charge",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log every request")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    return build_parser().parse_args(argv)


def default_api_key(seed: int) -> str:
    """Return the seeded API key used when --api-key is not given."""
    rng = random.Random(f"thor-simulator-api-key-{seed}")
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))


def build_simulator(args: argparse.Namespace) -> ThorSimulator:
    """Create the simulator the arguments describe."""
    sim = ThorSimulator(
        api_key=args.api_key or default_api_key(args.seed),
        seed=args.seed,
        start_delay=args.start_delay,
        stop_delay=args.stop_delay,
        start_rate_limit=args.rate_limit,
        notification_url=args.notification_url,
    )
    sim.configure_notifications(meter_interval=args.meter_interval)
    count = args.chargeboxes
    if count is None and not args.chargebox:
        count = 1
    for number in range(1, (count or 0) + 1):
        sim.add_chargebox(alias=f"Chargebox {number}", connectors=args.connectors)
    for alias, connectors in args.chargebox:
        if any(word in alias.lower() for word in _BICYCLE_WORDS):
            sim.add_chargebox(
                alias=alias,
                connectors=connectors,
                power=3700,
                vehicle="bicycle",
                connector_type="schuko",
                max_amperage=16,
                power_type="AC_1_PHASE",
            )
        else:
            sim.add_chargebox(alias=alias, connectors=connectors)
    sim.faults.set(**dict(args.fault))
    return sim


def banner(sim: ThorSimulator) -> str:
    """Return what the CLI prints once the simulator listens."""
    key = sorted(sim.api_keys)[0]
    lines = [
        "Thor simulator running",
        f"  Base URL:  {sim.base_url}",
        f"  API key:   {key}",
        f"  Admin URL: {sim.admin_url}",
        "  Chargeboxes:",
    ]
    lines.extend(
        f"    {box.id}  {box.alias!r}  {len(box.connectors)} connector(s)"
        for box in sim.chargeboxes.values()
    )
    if sim.notification_url is not None:
        lines.append(f"  Notifications: {sim.notification_url}")
    if sim.faults.active:
        default = Faults().to_dict()
        active = ", ".join(
            f"{name}={value!r}"
            for name, value in sim.faults.to_dict().items()
            if value != default[name]
        )
        lines.append(f"  Faults:    {active}")
    if sim.chargeboxes:
        first = next(iter(sim.chargeboxes))
        url = shlex.quote(f"{sim.base_url}/chargeboxes/{first}")
        header = shlex.quote(f"X-Api-Key: {key}")
        lines.extend(["  Try:", f"    curl -H {header} {url}"])
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


async def serve(
    args: argparse.Namespace,
    stop_event: asyncio.Event | None = None,
    *,
    ready: Callable[[ThorSimulator], object] | None = None,
    out: TextIO | None = None,
) -> None:
    """Run the simulator until `stop_event` is set, SIGINT or SIGTERM."""
    stop = stop_event if stop_event is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    sim = build_simulator(args)
    try:
        await sim.start(args.host, args.port, access_log=not args.quiet)
        print(banner(sim), file=out or sys.stdout, flush=True)
        if ready is not None:
            ready(sim)
        await stop.wait()
    finally:
        await sim.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)


def main(
    argv: Sequence[str] | None = None,
    *,
    ready: Callable[[ThorSimulator], object] | None = None,
) -> int:
    """Run the CLI; return the exit status."""
    args = parse_args(argv)
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        asyncio.run(serve(args, ready=ready))
    except OSError as err:
        print(f"Cannot start the simulator: {err}", file=sys.stderr)
        return 1
    return 0
