"""Benchmark: how hard the Thor integration hits Thor during a 429 storm.

Run by `scripts/bench-rate-limit`. It starts the Thor simulator and a real Home
Assistant on free loopback ports with a temporary config directory (a copy of
config/configuration.yaml), onboards it and adds one Thor chargebox through the real
config flow (the machinery of scripts/thor_dev.py), then:

1. answers every API request with 429 and `Retry-After: 0`, forces one poll, and
   counts the requests Thor receives in the window (`--seconds`, default 95): the
   goal is one request per back-off floor (30 s) at most, `ceil(window / 30) + 1`;
2. (`--recovery`, the default; `--quick` skips it) answers the next request with 429
   and `Retry-After: 1e9`, then nothing more, and measures how long until a poll
   succeeds again: the goal is the Retry-After cap (300 s) plus one poll interval.

`--ref REF` measures the integration as committed at REF (extracted with git
archive) instead of the working tree. The config copy logs Thor at info, not debug:
a line per failed poll would slow Home Assistant down in a flood.

Prints the figures beside their goals, exits 1 when one is missed, 2 when the setup
fails. Every process is stopped on exit, Ctrl-C included.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
import io
import math
from pathlib import Path
import subprocess
import sys
import tarfile
import time
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import thor_dev

REPO = thor_dev.REPO
BACKOFF_FLOOR = 30.0
"""Seconds: the integration's shortest wait after a 429 (the goal of phase 1)."""
RETRY_AFTER_CAP = 300.0
"""Seconds: the longest Retry-After the integration should honour."""
POLL_INTERVAL = 60.0
"""Seconds: the integration's idle poll interval."""
SIM_API_KEY = "thor-bench-api-key"
CHARGEBOX = "Garage:2"
"""One chargebox, so one coordinator polls and the goals count one client."""
OWNER = ("Thor Bench", "bench", "thor-bench")
"""Name, username and password of the temporary instance's owner."""
SAMPLE = 0.25
"""Seconds between two looks at the simulator's counters."""


def log(message: str) -> None:
    """Print a progress line."""
    print(f"bench-rate-limit: {message}", flush=True)


@dataclass
class Result:
    """One figure beside its goal (`passed` None: a figure without a goal)."""

    phase: str
    label: str
    value: str
    goal: str = ""
    passed: bool | None = None

    def line(self) -> str:
        """Return the printed line."""
        if self.passed is None:
            return f"    {self.label:<24}{self.value:>12}"
        verdict = "PASS" if self.passed else "FAIL"
        return f"    {self.label:<24}{self.value:>12}   goal {self.goal:<10}{verdict}"


def print_results(results: list[Result], elapsed: float) -> None:
    """Print the figures, grouped by phase."""
    print(f"\nbench-rate-limit: results ({elapsed:.0f} s in all)", flush=True)
    phase = None
    for result in results:
        if result.phase != phase:
            phase = result.phase
            print(f"  {phase}")
        print(result.line(), flush=True)


# --- the simulator ---------------------------------------------------------------


class Simulator(thor_dev.SimulatorInfo):
    """The simulator's admin API, as the benchmark uses it."""

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin API."""
        return thor_dev.http(
            method, f"{self.admin_url}{path}", json_body=body, timeout=10
        )

    def set_faults(self, **faults: Any) -> None:
        """Change faults (the others stay as they are)."""
        self.admin("POST", "/faults", faults)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.admin("DELETE", "/faults")

    def faults(self) -> dict[str, Any]:
        """Return the faults in force."""
        state: dict[str, Any] = self.state()
        faults: dict[str, Any] = state["faults"]
        return faults

    def counts(self) -> dict[str, Any]:
        """Return the request counts since the last reset."""
        counts: dict[str, Any] = self.admin("GET", "/requests")
        return counts

    def reset_counts(self) -> None:
        """Zero the request counts (and the request log, which a flood bloats)."""
        self.admin("POST", "/requests/reset")


def start_simulator(sim: Simulator, log_path: Path) -> thor_dev.Service:
    """Start the simulator with one chargebox; wait until its admin API answers.

    Not thor_dev.start_simulator: that one logs every request, and a flood would
    spend the simulator's time on its access log.
    """
    args = [str(thor_dev.VENV_BIN / "python"), "-m", "thor_simulator", "--quiet"]
    args += ["--port", str(sim.port), "--api-key", sim.api_key]
    args += ["--chargebox", CHARGEBOX, "--start-delay", "5", "--stop-delay", "3"]
    service = thor_dev.start_service("the Thor simulator", args, log_path)
    try:
        thor_dev.wait_for(
            "the Thor simulator", sim.state, timeout=30, services=[service]
        )
    except BaseException:
        service.stop()
        raise
    return service


# --- Home Assistant --------------------------------------------------------------


def prepare_config(config_dir: Path, ref: str | None) -> None:
    """Fill the temporary config dir; with `ref`, the integration as committed there."""
    config = (thor_dev.DEFAULT_CONFIG / "configuration.yaml").read_text()
    config = config.replace(
        "custom_components.thor: debug", "custom_components.thor: info"
    )
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(config)
    thor_dev.prepare_config(config_dir)
    if ref is None:
        return
    archive = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "archive",
            "--format=tar",
            ref,
            "custom_components/thor",
        ],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise thor_dev.DevError(
            f"git archive {ref}: {archive.stderr.decode(errors='replace').strip()}"
        )
    (config_dir / "custom_components" / "thor").unlink()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(config_dir, filter="data")


def start_home_assistant(
    config_dir: Path, port: int, sim: Simulator, services: list[thor_dev.Service]
) -> tuple[thor_dev.HomeAssistant, str]:
    """Start, onboard, add the chargebox; return the client and a Thor entity id."""
    hass = thor_dev.start_hass(
        config_dir, port, "127.0.0.1", config_dir / "hass-console.log"
    )
    services.append(hass)
    ha = thor_dev.HomeAssistant(f"http://127.0.0.1:{port}")
    ha.wait_until_up(hass)
    log("Home Assistant answers; onboarding")
    ha.onboard(*OWNER)
    ha.wait_running(hass)
    settings = {
        "api_key": sim.api_key,
        "environment": "production",
        "advanced": {"base_url": sim.base_url},
    }
    for label, outcome in ha.add_thor(settings, None):
        log(f"Thor chargebox {label}: {outcome}")

    def loaded() -> bool:
        states = [entry["state"] for entry in ha.entries()]
        if any(state in ("setup_error", "setup_retry") for state in states):
            raise thor_dev.DevError(f"the Thor entry did not load: {ha.entries()}")
        return bool(states) and all(state == "loaded" for state in states)

    thor_dev.wait_for("the Thor entry to load", loaded, timeout=120, services=services)
    entities = ha.template("{{ integration_entities('thor') | list | to_json }}")
    if not entities:
        raise thor_dev.DevError("the Thor entry has no entities")
    return ha, str(entities[0])


def force_poll(ha: thor_dev.HomeAssistant, entity_id: str) -> None:
    """Make the coordinator poll now (homeassistant.update_entity)."""
    try:
        ha.request(
            "POST",
            "/api/services/homeassistant/update_entity",
            json_body={"entity_id": entity_id},
            timeout=30,
        )
    except (OSError, thor_dev.DevError) as err:
        # The storm also starts with the next scheduled poll; only later.
        log(f"could not force a poll ({err}); waiting for a scheduled one")


# --- the phases ------------------------------------------------------------------


def alive(services: list[thor_dev.Service]) -> None:
    """Raise DevError when a service has exited."""
    for service in services:
        if not service.running():
            raise thor_dev.DevError(
                f"{service.name} exited (code {service.process.returncode}); last "
                f"lines of {service.log_path}:\n{service.tail()}"
            )


def storm(
    sim: Simulator,
    ha: thor_dev.HomeAssistant,
    entity_id: str,
    seconds: float,
    services: list[thor_dev.Service],
) -> list[Result]:
    """Phase 1: 429 with Retry-After 0 on every request; count them."""
    phase = f'phase 1: every request gets 429 with Retry-After "0" ({seconds:.0f} s)'
    log(phase)
    sim.set_faults(status=429, retry_after_header="0")
    sim.reset_counts()
    started = time.monotonic()
    force_poll(ha, entity_id)
    report = started + 15
    while (now := time.monotonic()) < started + seconds:
        alive(services)
        time.sleep(min(1.0, started + seconds - now))
        if time.monotonic() >= report:
            log(
                f"  {time.monotonic() - started:3.0f} s: {sim.counts()['total']} requests"
            )
            report += 15
    counts = sim.counts()
    window = time.monotonic() - started
    total = int(counts["total"])
    goal = math.ceil(window / BACKOFF_FLOOR) + 1
    for path, number in counts["by_path"].items():
        log(f"  {number:>8}  {path}")
    log(f"  answers by status: {counts['by_status']}")
    return [
        Result(phase, "window", f"{window:.1f} s"),
        Result(phase, "requests received", str(total), f"<= {goal}", total <= goal),
        Result(phase, "requests per second", f"{total / window:.2f}"),
    ]


def wait_until(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    services: list[thor_dev.Service],
    *,
    nudge: Callable[[], None] | None = None,
    nudge_after: float = 2.0,
) -> float | None:
    """Return the seconds until `check()` held (None: not within `timeout`).

    `nudge` runs once when nothing happened within `nudge_after` seconds.
    """
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) <= timeout:
        alive(services)
        if check():
            return elapsed
        if nudge is not None and elapsed >= nudge_after:
            nudge()
            nudge = None
        time.sleep(SAMPLE)
    log(f"  no {what} within {timeout:.0f} s")
    return None


def recovery(
    sim: Simulator,
    ha: thor_dev.HomeAssistant,
    entity_id: str,
    services: list[thor_dev.Service],
) -> list[Result]:
    """Phase 2: one 429 with Retry-After 1e9, then Thor is fine; time the recovery."""
    goal = RETRY_AFTER_CAP + POLL_INTERVAL
    phase = 'phase 2: one 429 with Retry-After "1e9", then Thor answers again'
    log(phase)
    sim.reset_counts()
    # `count=1`: the simulator clears every fault itself right after that answer, so
    # no request that took an older fault can pass for the 1e9 one.
    sim.set_faults(status=429, retry_after_header="1e9", count=1)

    def served() -> bool:
        return sim.faults()["status"] is None

    # A client that backs off may not poll for minutes: force one if none comes.
    waited = wait_until(
        "request",
        served,
        goal + BACKOFF_FLOOR,
        services,
        nudge=lambda: force_poll(ha, entity_id),
    )
    if waited is None:
        sim.clear_faults()
        return [Result(phase, "1e9 answer served", "never", "a request", False)]
    log(f"  the 1e9 answer was served after {waited:.1f} s; waiting for a good poll")

    def succeeded() -> bool:
        return int(sim.counts()["by_status"].get("200", 0)) > 0

    seconds = wait_until("successful poll", succeeded, goal + BACKOFF_FLOOR, services)
    value = "never" if seconds is None else f"{seconds:.0f} s"
    passed = seconds is not None and seconds <= goal
    return [
        Result(phase, "1e9 answer served after", f"{waited:.1f} s"),
        Result(phase, "next successful poll", value, f"<= {goal:.0f} s", passed),
    ]


# --- main ------------------------------------------------------------------------


def positive(value: str) -> float:
    """Parse a number of seconds > 0 (an argparse type)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number > 0 or not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench-rate-limit",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument(
        "--seconds",
        type=positive,
        default=95.0,
        help="phase 1's measured window (default: 95)",
    )
    parser.add_argument(
        "--recovery",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run phase 2, the Retry-After 1e9 recovery (default: on; about 6 min, "
        "13 at most)",
    )
    parser.add_argument("--quick", action="store_true", help="same as --no-recovery")
    parser.add_argument(
        "--ref",
        help="measure the integration as committed at this git ref (e.g. HEAD) "
        "instead of the working tree",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary config dir and logs"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.recovery = False
    return args


def run(args: argparse.Namespace, config_dir: Path, results: list[Result]) -> None:
    """Set everything up and run the phases, adding to `results`."""
    ha_port, sim_port = thor_dev.free_port(), thor_dev.free_port()
    while sim_port == ha_port:
        sim_port = thor_dev.free_port()
    sim = Simulator(sim_port, SIM_API_KEY)
    services: list[thor_dev.Service] = []
    try:
        prepare_config(config_dir, args.ref)
        what = f"as of {args.ref}" if args.ref else "working tree"
        log(f"simulator on {sim_port}, Home Assistant on {ha_port} ({what})")
        services.append(start_simulator(sim, config_dir / "simulator.log"))
        ha, entity_id = start_home_assistant(config_dir, ha_port, sim, services)
        log(f"the Thor entry is loaded; forcing polls through {entity_id}")
        results += storm(sim, ha, entity_id, args.seconds, services)
        if args.recovery:
            results += recovery(sim, ha, entity_id, services)
    finally:
        for service in reversed(services):
            service.stop(timeout=15)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    args = parse_args(argv)
    results: list[Result] = []

    def report(elapsed: float) -> bool:
        if results:
            print_results(results, elapsed)
        return not any(result.passed is False for result in results)

    return thor_dev.run_benchmark(
        "bench-rate-limit",
        lambda config_dir: run(args, config_dir, results),
        report,
        keep=args.keep,
    )


if __name__ == "__main__":
    sys.exit(main())
