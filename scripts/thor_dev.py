"""A Home Assistant development instance with the Thor integration and the simulator.

Used by `scripts/develop` (run as `python scripts/thor_dev.py`) and by the browser test
(`scripts/browser_test.py`). It starts the Thor simulator and a real Home Assistant
(`hass`) in their own process groups, onboards Home Assistant through its REST API and
adds the Thor integration through the real config flow. Only the standard library is
used, so it runs on the project's .venv Python without anything more.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any, TextIO
import urllib.error
import urllib.parse
import urllib.request

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
DEFAULT_CONFIG = REPO / "config"
STATE_FILE = ".develop.json"
"""Kept in the config directory: the login and the simulator settings of the instance."""

DEFAULT_HA_PORT = 8123
DEFAULT_SIM_PORT = 8765
DEFAULT_USERNAME = "dev"
DEFAULT_PASSWORD = "thor-dev"  # noqa: S105 - a printed development login
DEFAULT_NAME = "Thor Developer"
SIM_API_KEY = "thor-dev-api-key"
SIM_SEED = 2026
SIM_CHARGEBOXES = ("Garage:2", "Bike shed:1")
"""`name:connectors` of the simulated chargeboxes."""

RUNTIME_KEEP = {"configuration.yaml"}
"""What `reset_config` keeps in the config directory (the tracked files)."""


def log(message: str) -> None:
    """Print a progress line of the development tools."""
    print(f"develop: {message}", flush=True)


class DevError(Exception):
    """A step of the development instance failed; the message says which and why."""


# --- processes -------------------------------------------------------------------


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Return True when nothing listens on host:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0


def free_port() -> int:
    """Return a TCP port that is free on the loopback interface right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A child process started in its own process group, with its output in a file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: TextIO | None = field(default=None, repr=False)

    def running(self) -> bool:
        """Return True while the process has not exited."""
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        """Return the last lines of the process output."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 30) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after `timeout`."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop in {timeout:.0f} s; killing it")
        # Also whatever the process left behind in its group (e.g. a pip install).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None


def start_service(
    name: str, args: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> Service:
    """Start `args` in a new session (process group) with its output in `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    output = log_path.open("w")
    process = subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    return Service(name, process, log_path, output)


# --- HTTP ------------------------------------------------------------------------


class HttpError(DevError):
    """An HTTP request answered with an error status."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        """Keep the status and the body."""
        super().__init__(f"{method} {url} answered {status}: {body[:500]}")
        self.status = status
        self.body = body


def http(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> Any:
    """Send a request; return the decoded JSON answer (None when empty)."""
    headers = {"Accept": "application/json"}
    data: bytes | None = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read().decode()
    except urllib.error.HTTPError as err:
        raise HttpError(
            method, url, err.code, err.read().decode(errors="replace")
        ) from err
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body


def wait_for(
    what: str,
    check: Any,
    *,
    timeout: float,
    services: Sequence[Service] = (),
    interval: float = 0.5,
) -> Any:
    """Call `check()` until it returns a truthy value; fail on timeout or a dead service."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        for service in services:
            if not service.running():
                raise DevError(
                    f"{service.name} exited (code {service.process.returncode}) while "
                    f"waiting for {what}; last lines of {service.log_path}:\n"
                    f"{service.tail()}"
                )
        try:
            if result := check():
                return result
        except (OSError, DevError) as err:
            last_error = str(err)
        if time.monotonic() > deadline:
            raise DevError(
                f"timed out after {timeout:.0f} s waiting for {what}"
                + (f" (last error: {last_error})" if last_error else "")
            )
        time.sleep(interval)


# --- the simulator ---------------------------------------------------------------


@dataclass
class SimulatorInfo:
    """Where the simulator answers and with which key."""

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

    def state(self) -> Any:
        """Return the simulator's state (GET /_simulator/state)."""
        return http("GET", f"{self.admin_url}/state", timeout=10)

    def patch_chargebox(self, chargebox_id: str, changes: dict[str, Any]) -> Any:
        """Change a simulated chargebox (PATCH /_simulator/chargeboxes/{id})."""
        return http(
            "PATCH", f"{self.admin_url}/chargeboxes/{chargebox_id}", json_body=changes
        )


def start_simulator(
    info: SimulatorInfo,
    log_path: Path,
    *,
    seed: int = SIM_SEED,
    chargeboxes: Sequence[str] = SIM_CHARGEBOXES,
    start_delay: float = 5,
    stop_delay: float = 3,
    timeout: float = 30,
) -> Service:
    """Start the Thor simulator and wait until its admin API answers."""
    if not port_is_free(info.port):
        raise DevError(f"port {info.port} (simulator) is already in use")
    args = [
        str(VENV_BIN / "python"),
        "-m",
        "thor_simulator",
        "--port",
        str(info.port),
        "--api-key",
        info.api_key,
        "--seed",
        str(seed),
        "--start-delay",
        str(start_delay),
        "--stop-delay",
        str(stop_delay),
    ]
    for chargebox in chargeboxes:
        args += ["--chargebox", chargebox]
    service = start_service("the Thor simulator", args, log_path)
    try:
        wait_for("the Thor simulator", info.state, timeout=timeout, services=[service])
    except BaseException:
        service.stop()
        raise
    return service


# --- Home Assistant --------------------------------------------------------------


def prepare_config(config_dir: Path) -> None:
    """Make `config_dir` loadable: link the integration, create the included files."""
    config_dir.mkdir(parents=True, exist_ok=True)
    if not (config_dir / "configuration.yaml").exists():
        shutil.copy(DEFAULT_CONFIG / "configuration.yaml", config_dir)
    for name, empty in (("automations.yaml", "[]\n"), ("scripts.yaml", "{}\n")):
        if not (config_dir / name).exists():
            (config_dir / name).write_text(empty)
    link = config_dir / "custom_components" / "thor"
    target = REPO / "custom_components" / "thor"
    link.parent.mkdir(exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.resolve() == target.resolve():
            return
        if link.is_symlink() or link.is_file():
            link.unlink()
        else:
            shutil.rmtree(link)
    # Relative when the config directory is in the repo, so the checkout can move.
    link.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)


def reset_config(config_dir: Path) -> None:
    """Delete Home Assistant's runtime state: keep only the tracked files."""
    if not config_dir.exists():
        return
    if not (config_dir / "configuration.yaml").is_file():
        raise DevError(f"{config_dir} has no configuration.yaml: not deleting anything")
    for path in config_dir.iterdir():
        if path.name in RUNTIME_KEEP:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def write_http_config(config_dir: Path, port: int, host: str) -> None:
    """Set the port and the address Home Assistant listens on.

    Home Assistant keeps its HTTP settings in .storage/http (YAML is only migrated
    once, as a trial that reverts after 5 minutes), so they are written there.
    """
    path = config_dir / ".storage" / "http"
    try:
        stored: dict[str, Any] = json.loads(path.read_text())
        stable: dict[str, Any] = stored["data"]["stable"]
    except OSError, ValueError, KeyError, TypeError:
        stable = {
            "cors_allowed_origins": ["https://cast.home-assistant.io"],
            "login_attempts_threshold": -1,
            "ip_ban_enabled": True,
            "ssl_profile": "modern",
            "use_x_frame_options": True,
            "created_at": "2026-01-01T00:00:00+00:00",
            "error": None,
            "error_message": None,
        }
    stable.update(server_port=port, server_host=[host], error=None, error_message=None)
    stored = {
        "version": 2,
        "minor_version": 2,
        "key": "http",
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)


def start_hass(
    config_dir: Path, port: int, host: str, log_path: Path | None = None
) -> Service:
    """Start Home Assistant on `config_dir`, listening on host:port."""
    if not port_is_free(port):
        raise DevError(
            f"port {port} (Home Assistant) is already in use: is another instance "
            "running? Stop it, or pick another port with --ha-port"
        )
    write_http_config(config_dir, port, host)
    args = [str(VENV_BIN / "hass"), "--config", str(config_dir), "--log-no-color"]
    return start_service(
        "Home Assistant", args, log_path or config_dir / "hass-console.log"
    )


class HomeAssistant:
    """A client of the REST API of the instance at `url`."""

    def __init__(self, url: str) -> None:
        """Talk to the Home Assistant at `url` (no trailing slash)."""
        self.url = url.rstrip("/")
        self.client_id = f"{self.url}/"
        self.token: str | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request to the instance with the access token (once logged in)."""
        return http(method, f"{self.url}{path}", token=self.token, **kwargs)

    def onboarding(self) -> dict[str, bool] | None:
        """Return {step: done} of onboarding ({} once onboarded), None while down."""
        try:
            steps = self.request("GET", "/api/onboarding", timeout=5)
        except HttpError as err:
            # The onboarding views are only there until onboarding is done.
            return {} if err.status == 404 else None
        except OSError:
            return None
        return {step["step"]: step["done"] for step in steps}

    def onboarded(self) -> bool:
        """Return True once every onboarding step is done."""
        return all((self.onboarding() or {}).values())

    def wait_until_up(self, service: Service, timeout: float = 300) -> dict[str, bool]:
        """Wait until Home Assistant serves HTTP; return the onboarding status."""
        result: tuple[dict[str, bool]] = wait_for(
            "Home Assistant to answer HTTP",
            lambda: (status,) if (status := self.onboarding()) is not None else None,
            timeout=timeout,
            services=[service],
            interval=1,
        )
        return result[0]

    def _token_from_code(self, code: str) -> None:
        tokens = self.request(
            "POST",
            "/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        )
        self.token = tokens["access_token"]

    def onboard(self, name: str, username: str, password: str) -> None:
        """Go through every onboarding step that is not done; leave us logged in."""
        steps = self.onboarding()
        if steps is None:
            raise DevError("Home Assistant does not answer")
        if not steps:  # onboarded
            self.login(username, password)
            return
        if not steps.get("user"):
            answer = self.request(
                "POST",
                "/api/onboarding/users",
                json_body={
                    "client_id": self.client_id,
                    "name": name,
                    "username": username,
                    "password": password,
                    "language": "en",
                },
            )
            self._token_from_code(answer["auth_code"])
        else:
            self.login(username, password)
        if not steps.get("core_config"):
            self.request("POST", "/api/onboarding/core_config", json_body={})
        if not steps.get("analytics"):
            self.request("POST", "/api/onboarding/analytics", json_body={})
        if not steps.get("integration"):
            self.request(
                "POST",
                "/api/onboarding/integration",
                json_body={
                    "client_id": self.client_id,
                    "redirect_uri": f"{self.url}/?auth_callback=1",
                },
            )

    def login(self, username: str, password: str) -> None:
        """Log in with the login flow of the Home Assistant auth provider."""
        flow = self.request(
            "POST",
            "/auth/login_flow",
            json_body={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.url}/?auth_callback=1",
            },
        )
        result = self.request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json_body={
                "client_id": self.client_id,
                "username": username,
                "password": password,
            },
        )
        if result.get("type") != "create_entry":
            raise DevError(
                f"cannot log in to Home Assistant as {username!r} ({result.get('errors')});"
                " the instance was onboarded with another login: start over with --reset"
            )
        self._token_from_code(result["result"])

    def wait_running(self, service: Service, timeout: float = 300) -> None:
        """Wait until Home Assistant has finished starting."""

        def running() -> bool:
            return bool(self.request("GET", "/api/config").get("state") == "RUNNING")

        wait_for(
            "Home Assistant to finish starting",
            running,
            timeout=timeout,
            services=[service],
            interval=1,
        )

    def entries(self, domain: str = "thor") -> list[dict[str, Any]]:
        """Return the config entries of `domain`."""
        entries: list[dict[str, Any]] = self.request(
            "GET", f"/api/config/config_entries/entry?domain={domain}"
        )
        return entries

    def flow(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send a step of a config flow."""
        result: dict[str, Any] = self.request(
            "POST", f"/api/config/config_entries/flow/{flow_id}", json_body=data
        )
        return result

    def add_thor(
        self,
        settings: dict[str, Any],
        wanted: Sequence[str] | None,
    ) -> list[tuple[str, str]]:
        """Add Thor chargeboxes through the config flow; return (label, outcome).

        `settings` is the user step (api_key, environment, advanced.base_url). `wanted`
        lists chargebox ids or names; None means every chargebox the account lists.
        A chargebox that already has an entry is left alone (the flow aborts with
        already_configured), so running this again creates no duplicate.
        """
        results: list[tuple[str, str]] = []
        pending = list(wanted) if wanted is not None else None
        while True:
            flow = self.request(
                "POST",
                "/api/config/config_entries/flow",
                json_body={"handler": "thor", "show_advanced_options": True},
            )
            step = self.flow(flow["flow_id"], settings)
            if step.get("type") != "form" or step.get("errors"):
                raise DevError(f"the Thor config flow refused the settings: {step}")
            if step["step_id"] == "chargebox_manual":
                # The account's list is not readable: ids only.
                options = [(cid, cid) for cid in (pending or [])]
                if not options:
                    raise DevError(
                        "the chargebox list is not readable: use --chargebox"
                    )
            else:
                schema = {item["name"]: item for item in step["data_schema"]}
                select = schema["chargebox_id"]["selector"]["select"]["options"]
                options = [(o["value"], o["label"]) for o in select]
            if pending is None:
                pending = [value for value, _ in options]
            if not pending:
                self.request(
                    "DELETE", f"/api/config/config_entries/flow/{flow['flow_id']}"
                )
                return results
            want = pending.pop(0)
            match = [
                (value, label)
                for value, label in options
                if want in (value, label) or label.startswith(f"{want} (")
            ]
            if not match:
                self.request(
                    "DELETE", f"/api/config/config_entries/flow/{flow['flow_id']}"
                )
                known = ", ".join(label for _, label in options)
                raise DevError(
                    f"no chargebox {want!r} in the account (it has: {known})"
                )
            value, label = match[0]
            done = self.flow(flow["flow_id"], {"chargebox_id": value})
            if done.get("type") == "create_entry":
                results.append((label, "added"))
            elif done.get("type") == "abort" and done.get("reason") in (
                "already_configured",
                "already_in_progress",
            ):
                results.append((label, "already added"))
            else:
                raise DevError(f"the Thor config flow failed for {label}: {done}")

    def reconfigure_thor(self, entry_id: str, settings: dict[str, Any]) -> None:
        """Point an existing Thor entry at new settings (the reconfigure flow)."""
        flow = self.request(
            "POST",
            "/api/config/config_entries/flow",
            json_body={"handler": "thor", "entry_id": entry_id},
        )
        done = self.flow(flow["flow_id"], settings)
        if (
            done.get("type") != "abort"
            or done.get("reason") != "reconfigure_successful"
        ):
            raise DevError(f"reconfiguring the Thor entry failed: {done}")

    def template(self, template: str) -> Any:
        """Render a template on the instance; a JSON result comes back decoded."""
        return self.request("POST", "/api/template", json_body={"template": template})

    def thor_devices(self) -> list[tuple[str, str]]:
        """Return (device name, device id) of the Thor devices."""
        rendered = self.template(
            "{% set ns = namespace(d=[]) %}"
            "{% for e in integration_entities('thor') %}"
            "{% set d = device_id(e) %}"
            "{% if d and d not in ns.d | map(attribute=1) | list %}"
            "{% set ns.d = ns.d + [[device_attr(d, 'name_by_user') or device_attr(d, 'name'), d]] %}"
            "{% endif %}{% endfor %}{{ ns.d | to_json }}"
        )
        if isinstance(rendered, str):
            rendered = json.loads(rendered)
        return [(str(name), str(device)) for name, device in rendered]


# --- scripts/develop -------------------------------------------------------------


def load_state(config_dir: Path) -> dict[str, Any]:
    """Return what an earlier run stored (login, simulator port and key)."""
    try:
        state: dict[str, Any] = json.loads((config_dir / STATE_FILE).read_text())
    except OSError, ValueError:
        return {}
    return state


def save_state(config_dir: Path, state: dict[str, Any]) -> None:
    """Store the login and the simulator settings for the next run."""
    path = config_dir / STATE_FILE
    path.write_text(json.dumps(state, indent=2) + "\n")
    path.chmod(0o600)


@contextlib.contextmanager
def terminating_on_sigterm() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into KeyboardInterrupt: `finally` cleans up."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {
        sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)
    }
    # Also when started in the background of a shell, which ignores SIGINT there.
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line of scripts/develop."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description=(
            "Start Home Assistant with the Thor integration against the bundled Thor "
            "simulator (or a real Thor account), onboarded and with the chargeboxes "
            "added, ready to open in a browser. Ctrl-C stops everything."
        ),
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="Home Assistant config dir (default: config/)",
    )
    parser.add_argument(
        "--ha-port", type=int, default=DEFAULT_HA_PORT, help="default: 8123"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address Home Assistant listens on (default: 127.0.0.1; 0.0.0.0 for all, "
        "e.g. in a container — the login is printed, so only on a trusted network)",
    )
    parser.add_argument(
        "--sim-port",
        type=int,
        default=None,
        help=f"simulator port (default: the last run's, else {DEFAULT_SIM_PORT})",
    )
    parser.add_argument(
        "--start-delay",
        type=float,
        default=5,
        help="simulator: seconds before a started charge is charging (default: 5)",
    )
    parser.add_argument(
        "--stop-delay",
        type=float,
        default=3,
        help="simulator: seconds before a stopped charge ends (default: 3)",
    )
    parser.add_argument(
        "--no-simulator",
        action="store_true",
        help="use a real Thor account (--api-key or THOR_API_KEY) instead of the simulator",
    )
    parser.add_argument(
        "--api-key",
        help="API key of the real Thor account (default: $THOR_API_KEY)",
    )
    parser.add_argument(
        "--environment",
        choices=("production", "development"),
        default="production",
        help="Thor environment of the real account (default: production)",
    )
    parser.add_argument(
        "--chargebox",
        action="append",
        metavar="ID_OR_NAME",
        help="chargebox to add (repeatable); default: every simulated chargebox, or "
        "the first one of a real account",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the instance's state in the config dir first (a new onboarding)",
    )
    parser.add_argument(
        "--empty",
        action="store_true",
        help="start from an empty, un-onboarded instance (implies --reset): onboard "
        "and add the integration yourself in the UI",
    )
    args = parser.parse_args(argv)
    if args.api_key and not args.no_simulator:
        parser.error("--api-key is for a real account: add --no-simulator")
    if args.no_simulator:
        args.api_key = args.api_key or os.environ.get("THOR_API_KEY")
        if not args.api_key:
            parser.error("--no-simulator needs --api-key (or THOR_API_KEY)")
    return args


def develop(args: argparse.Namespace) -> int:
    """Run the development instance until Ctrl-C."""
    started = time.monotonic()
    config_dir: Path = args.config.resolve()
    if args.reset or args.empty:
        log(f"deleting the instance's state in {config_dir}")
        try:
            reset_config(config_dir)
        except DevError as err:
            log(f"error: {err}")
            return 1
    prepare_config(config_dir)
    state = load_state(config_dir)
    state.setdefault("username", DEFAULT_USERNAME)
    state.setdefault("password", DEFAULT_PASSWORD)
    sim_port = args.sim_port or state.get("sim_port") or DEFAULT_SIM_PORT
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
    ha_url = f"http://{host}:{args.ha_port}"
    services: list[Service] = []
    try:
        simulator: SimulatorInfo | None = None
        if not args.no_simulator:
            simulator = SimulatorInfo(sim_port, SIM_API_KEY)
            log(f"starting the Thor simulator on port {sim_port}")
            services.append(
                start_simulator(
                    simulator,
                    config_dir / "simulator.log",
                    start_delay=args.start_delay,
                    stop_delay=args.stop_delay,
                )
            )
        log(f"starting Home Assistant on {ha_url} (config: {config_dir})")
        hass_service = start_hass(config_dir, args.ha_port, args.host)
        services.append(hass_service)
        ha = HomeAssistant(ha_url)
        steps = ha.wait_until_up(hass_service)
        log(f"Home Assistant answers ({time.monotonic() - started:.0f} s)")
        devices: list[tuple[str, str]] = []
        if not args.empty:
            if steps:
                log(f"onboarding: owner {state['username']!r}")
            ha.onboard(DEFAULT_NAME, state["username"], state["password"])
            save_state(config_dir, state)
            ha.wait_running(hass_service)
            devices = add_integration(ha, args, simulator, state)
            if steps:
                remove_offline_defaults(ha)
            if simulator is not None:
                state["sim_port"] = simulator.port
            save_state(config_dir, state)
        print_ready(
            args=args,
            ha_url=ha_url,
            state=state,
            simulator=simulator,
            devices=devices,
            config_dir=config_dir,
            started=started,
        )
        while all(service.running() for service in services):
            time.sleep(1)
        dead = next(service for service in services if not service.running())
        log(
            f"{dead.name} exited (code {dead.process.returncode}); last lines of "
            f"{dead.log_path}:\n{dead.tail()}"
        )
        return 1
    except KeyboardInterrupt:
        print(flush=True)
        return 0
    except DevError as err:
        log(f"error: {err}")
        return 1
    finally:
        for service in reversed(services):
            log(f"stopping {service.name}")
            service.stop()
        if services:
            log("stopped")


def add_integration(
    ha: HomeAssistant,
    args: argparse.Namespace,
    simulator: SimulatorInfo | None,
    state: dict[str, Any],
) -> list[tuple[str, str]]:
    """Add (or keep) the Thor entries; return the Thor devices."""
    if simulator is not None:
        settings: dict[str, Any] = {
            "api_key": simulator.api_key,
            "environment": "production",
            "advanced": {"base_url": simulator.base_url},
        }
        old_port = state.get("sim_port")
        if old_port and old_port != simulator.port:
            for entry in ha.entries():
                log(f"pointing {entry['title']!r} at the simulator's new port")
                ha.reconfigure_thor(entry["entry_id"], settings)
        wanted = args.chargebox
    else:
        settings = {
            "api_key": args.api_key,
            "environment": args.environment,
            "advanced": {},
        }
        wanted = args.chargebox or []
        if not wanted:
            wanted = [first_chargebox(ha, settings)]
    for label, outcome in ha.add_thor(settings, wanted):
        log(f"Thor chargebox {label}: {outcome}")

    def loaded() -> list[dict[str, Any]] | None:
        entries = ha.entries()
        if entries and all(
            e["state"] in ("loaded", "setup_error", "setup_retry") for e in entries
        ):
            return entries
        return None

    for entry in wait_for("the Thor entries to set up", loaded, timeout=120):
        if entry["state"] != "loaded":
            log(
                f"warning: Thor entry {entry['title']!r} is {entry['state']}: {entry.get('reason')}"
            )

    def found() -> list[tuple[str, str]]:
        return ha.thor_devices()

    return list(wait_for("the Thor devices", found, timeout=60))


ONBOARDING_DEFAULTS = ("google_translate", "met", "radio_browser", "shopping_list")
"""Integrations that Home Assistant's onboarding adds (core_config step)."""


def remove_offline_defaults(ha: HomeAssistant, timeout: float = 60) -> None:
    """Remove the onboarding's default entries that cannot set up (no internet).

    Met.no and Radio Browser retry (and log errors) forever without the internet;
    they are no part of what the instance is for.
    """

    def settled() -> list[dict[str, Any]] | None:
        entries = [
            entry
            for entry in ha.request("GET", "/api/config/config_entries/entry")
            if entry["source"] == "onboarding"
        ]
        if {entry["domain"] for entry in entries} >= {"met", "radio_browser"} and all(
            entry["state"] not in ("not_loaded", "setup_in_progress")
            for entry in entries
        ):
            return entries
        return None

    try:
        entries = wait_for(
            "the onboarding's default integrations", settled, timeout=timeout
        )
    except DevError:
        return
    for entry in entries:
        if entry["state"] in ("setup_retry", "setup_error"):
            log(
                f"removing {entry['title']!r} ({entry['domain']}): it cannot set up without the internet"
            )
            ha.request(
                "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
            )


def first_chargebox(ha: HomeAssistant, settings: dict[str, Any]) -> str:
    """Return the first chargebox of a real account's list (the dropdown's default)."""
    flow = ha.request(
        "POST", "/api/config/config_entries/flow", json_body={"handler": "thor"}
    )
    try:
        step = ha.flow(flow["flow_id"], settings)
        if step.get("type") != "form" or step.get("errors"):
            raise DevError(
                f"the Thor config flow refused the API key: {step.get('errors') or step}"
            )
        if step["step_id"] != "chargebox":
            raise DevError(
                "the account's chargebox list is not readable: use --chargebox ID"
            )
        options = step["data_schema"][0]["selector"]["select"]["options"]
        others = ", ".join(o["label"] for o in options[1:])
        if others:
            log(f"the account also has: {others} (add them with --chargebox)")
        return str(options[0]["value"])
    finally:
        with contextlib.suppress(HttpError):
            ha.request("DELETE", f"/api/config/config_entries/flow/{flow['flow_id']}")


def print_ready(
    *,
    args: argparse.Namespace,
    ha_url: str,
    state: dict[str, Any],
    simulator: SimulatorInfo | None,
    devices: list[tuple[str, str]],
    config_dir: Path,
    started: float,
) -> None:
    """Print where to go, how to log in and how to stop."""
    shown = config_dir
    with contextlib.suppress(ValueError):
        shown = config_dir.relative_to(Path.cwd())
    what = (
        "An empty Home Assistant"
        if args.empty
        else "Home Assistant with the Thor integration"
    )
    lines = [
        "",
        f"{what} is ready ({time.monotonic() - started:.0f} s).",
        f"  Open          {ha_url}/",
    ]
    if args.empty:
        lines.append("  Onboarding    not done: create the owner user in the browser,")
        lines.append(
            "                then Settings > Devices & services > Add integration > Thor"
        )
    else:
        lines.append(
            f"  Log in        user {state['username']!r}, password {state['password']!r}"
        )
        for name, device_id in devices:
            lines.append(
                f"  Device        {name}: {ha_url}/config/devices/device/{device_id}"
            )
    if simulator is not None:
        lines += [
            f"  Simulator     API key {simulator.api_key!r}, base URL (under Advanced) {simulator.base_url}",
            f"                state: {simulator.admin_url}/state",
        ]
    lines += [
        f"  Logs          {shown}/home-assistant.log"
        + (f", {shown}/simulator.log" if simulator is not None else ""),
        "Press Ctrl-C to stop Home Assistant and the simulator.",
        "",
    ]
    print("\n".join(lines), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run scripts/develop."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with terminating_on_sigterm():
        return develop(args)


if __name__ == "__main__":
    sys.exit(main())
