"""A Home Assistant development instance with the Thor integration and the simulator.

Used by `scripts/develop` (run as `python scripts/thor_dev.py`) and by the browser test
(`scripts/browser_test.py`). It starts the Thor simulator and a real Home Assistant
(`hass`) in their own process groups, onboards Home Assistant through its REST API and
adds the Thor integration through the real config flows: one account entry with the
chargeboxes picked in its multi-select, a chargebox added later through the entry's
"Add chargebox" subentry flow, the entry re-pointed at a moved simulator through its
reconfigure flow. On a new instance, the simulator's admin API gives the chargeboxes
a few finished charges that their energy meters count. Home Assistant's external URL
is set to its own address (websocket `config/core/update`), push is switched on in the
entry's options flow (unless --no-push) and the simulator's notifications are sent to
the webhook address that flow shows (admin API). Only the standard library is used (a
minimal websocket client included), so it runs on the project's .venv Python without
anything more.
"""

from __future__ import annotations

import argparse
import base64
from collections.abc import Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
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

SUBENTRY_TYPE = "chargebox"
"""The subentry type of the Thor account entry: one subentry per chargebox."""

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


def _ws_read_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes from a socket."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise DevError("the websocket connection closed")
        data += chunk
    return data


def _ws_send(sock: socket.socket, message: dict[str, Any]) -> None:
    """Send a JSON text frame (masked, as a client must)."""
    payload = json.dumps(message).encode()
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 1 << 16:
        header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
    mask = secrets.token_bytes(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    sock.sendall(header + mask + masked)


def _ws_receive(sock: socket.socket) -> Any:
    """Return the next JSON text message (pings answered, fragments joined)."""
    message = b""
    while True:
        first, second = _ws_read_exact(sock, 2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", _ws_read_exact(sock, 2))[0]
        elif size == 127:
            size = struct.unpack("!Q", _ws_read_exact(sock, 8))[0]
        mask = _ws_read_exact(sock, 4) if second & 0x80 else b""
        payload = _ws_read_exact(sock, size)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        opcode = first & 0x0F
        if opcode == 0x8:
            raise DevError("the websocket connection was closed by Home Assistant")
        if opcode == 0x9:  # ping: answer with a masked pong
            pong_mask = secrets.token_bytes(4)
            body = bytes(b ^ pong_mask[i % 4] for i, b in enumerate(payload))
            sock.sendall(bytes([0x8A, 0x80 | len(body)]) + pong_mask + body)
            continue
        if opcode in (0x0, 0x1):
            message += payload
            if first & 0x80:
                return json.loads(message)


def websocket_command(
    base_url: str, token: str, command: dict[str, Any], timeout: float = 30
) -> Any:
    """Send one command over Home Assistant's websocket API; return its result.

    A minimal client (standard library only): authenticate, send `command` with id 1,
    return the `result` of its answer or raise DevError with its error.
    """
    parts = urllib.parse.urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    with socket.create_connection((host, port), timeout=timeout) as sock:
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        sock.sendall(
            (
                "GET /api/websocket HTTP/1.1\r\n"
                f"Host: {host}:{port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(1)
            if not chunk:
                raise DevError("the websocket handshake was cut off")
            answer += chunk
        if b" 101 " not in answer.split(b"\r\n", 1)[0]:
            raise DevError(f"the websocket handshake failed: {answer[:200]!r}")
        _ws_receive(sock)  # auth_required
        _ws_send(sock, {"type": "auth", "access_token": token})
        auth = _ws_receive(sock)
        if auth.get("type") != "auth_ok":
            raise DevError(f"websocket authentication failed: {auth.get('type')}")
        _ws_send(sock, {**command, "id": 1})
        while True:
            reply = _ws_receive(sock)
            if reply.get("id") == 1 and reply.get("type") == "result":
                break
        if not reply.get("success"):
            raise DevError(
                f"websocket command {command.get('type')} failed: {reply.get('error')}"
            )
        return reply.get("result")


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

    def add_chargebox(self, alias: str, connectors: int = 1) -> dict[str, Any]:
        """Add a chargebox to the simulated account; return it (with its id)."""
        box: dict[str, Any] = http(
            "POST",
            f"{self.admin_url}/chargeboxes",
            json_body={"alias": alias, "connectors": connectors},
        )
        return box

    def patch_chargebox(self, chargebox_id: str, changes: dict[str, Any]) -> Any:
        """Change a simulated chargebox (PATCH /_simulator/chargeboxes/{id})."""
        return http(
            "PATCH", f"{self.admin_url}/chargeboxes/{chargebox_id}", json_body=changes
        )

    def add_finished_charge(
        self,
        chargebox_id: str,
        connector: int,
        *,
        started: float,
        finished: float,
        energy: int | None = None,
        mode: str = "local",
    ) -> dict[str, Any]:
        """Add a charge that ended to the history (times in epoch seconds, Wh).

        As if it had happened while nobody was polling; on a paid chargebox it comes
        with a payment.
        """
        charge: dict[str, Any] = http(
            "POST",
            f"{self.admin_url}/chargeboxes/{chargebox_id}/finished_charge",
            json_body={
                "connector": connector,
                "started": round(started * 1000),
                "finished": round(finished * 1000),
                "mode": mode,
                **({} if energy is None else {"energy": energy}),
            },
        )
        return charge

    def set_notifications(
        self, url: str | None, *, meter_interval: float = 5, enabled: bool = True
    ) -> Any:
        """Point Thor's notifications at `url` (POST /_simulator/notifications)."""
        return http(
            "POST",
            f"{self.admin_url}/notifications",
            json_body={
                "url": url,
                "meter_interval": meter_interval,
                "enabled": enabled,
            },
        )

    def set_faults(self, **faults: Any) -> Any:
        """Inject API faults (POST /_simulator/faults), e.g. drop_connection=True."""
        return http("POST", f"{self.admin_url}/faults", json_body=faults)

    def now(self) -> float:
        """Return the simulator's clock, epoch seconds."""
        return float(self.state()["now"]) / 1000


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

    def start_subentry_flow(
        self, entry_id: str, subentry_type: str = SUBENTRY_TYPE
    ) -> dict[str, Any]:
        """Start a subentry flow of an entry (e.g. Thor's "Add chargebox")."""
        result: dict[str, Any] = self.request(
            "POST",
            "/api/config/config_entries/subentries/flow",
            json_body={"handler": [entry_id, subentry_type]},
        )
        return result

    def subentry_flow(self, flow_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send a step of a subentry flow."""
        result: dict[str, Any] = self.request(
            "POST",
            f"/api/config/config_entries/subentries/flow/{flow_id}",
            json_body=data,
        )
        return result

    def _drop_flow(self, flow_id: str, *, subentry: bool = False) -> None:
        """Abandon a flow left at a form."""
        kind = "subentries/flow" if subentry else "flow"
        with contextlib.suppress(HttpError):
            self.request("DELETE", f"/api/config/config_entries/{kind}/{flow_id}")

    def add_thor(
        self,
        settings: dict[str, Any],
        wanted: Sequence[str] | None,
        *,
        first_only: bool = False,
    ) -> list[tuple[str, str]]:
        """Add Thor chargeboxes through the config flows; return (label, outcome).

        `settings` is the user step (api_key, environment, advanced.base_url). `wanted`
        lists chargebox ids or names; None means every chargebox the account lists
        (with `first_only`, only the first one when the account has no entry yet).

        Without a Thor entry, the user flow creates the account entry with the wanted
        chargeboxes picked in its multi-select. With one, each wanted chargebox that
        is not configured yet is added through the entry's "Add chargebox" subentry
        flow, so running this again creates no duplicate.
        """
        entries = self.entries()
        if not entries:
            return self._add_account(settings, wanted, first_only=first_only)
        entry = account_entry(entries)
        if wanted is None and first_only:
            return []  # a real account: its first chargebox was added on the first run
        return self._add_to_account(entry, wanted)

    def _add_account(
        self,
        settings: dict[str, Any],
        wanted: Sequence[str] | None,
        *,
        first_only: bool,
    ) -> list[tuple[str, str]]:
        """Create the account entry with the wanted chargeboxes (the user flow)."""
        flow = self.request(
            "POST",
            "/api/config/config_entries/flow",
            json_body={"handler": "thor", "show_advanced_options": True},
        )
        step = self.flow(flow["flow_id"], settings)
        if step.get("type") == "abort":
            raise DevError(f"the Thor config flow aborted: {step.get('reason')}")
        if step.get("type") != "form" or step.get("errors"):
            self._drop_flow(flow["flow_id"])
            raise DevError(f"the Thor config flow refused the settings: {step}")
        if step["step_id"] == "chargebox_manual":
            # The account's list is empty or not readable: ids only, one at a time.
            if not wanted:
                self._drop_flow(flow["flow_id"])
                raise DevError(
                    "the account's chargebox list is not readable: use --chargebox ID"
                )
            first, *others = wanted
            done = self.flow(flow["flow_id"], {"chargebox_id": first})
            if done.get("type") != "create_entry":
                raise DevError(f"the Thor config flow failed for {first}: {done}")
            results = [(first, "added")]
            if others:
                results += self._add_to_account(account_entry(self.entries()), others)
            return results
        options = select_options(step, "chargebox_ids")
        if wanted is None:
            chosen = options[:1] if first_only else options
            if first_only and len(options) > 1:
                rest = ", ".join(label for _, label in options[1:])
                log(f"the account also has: {rest} (add them with --chargebox)")
        else:
            chosen = []
            for want in wanted:
                match = match_option(want, options)
                if match is None:
                    self._drop_flow(flow["flow_id"])
                    known = ", ".join(label for _, label in options)
                    raise DevError(
                        f"no chargebox {want!r} in the account (it has: {known})"
                    )
                if match not in chosen:
                    chosen.append(match)
        if not chosen:
            self._drop_flow(flow["flow_id"])
            raise DevError("the Thor account lists no chargebox: use --chargebox ID")
        done = self.flow(
            flow["flow_id"], {"chargebox_ids": [value for value, _ in chosen]}
        )
        if done.get("type") != "create_entry":
            raise DevError(f"the Thor config flow failed: {done}")
        return [(label, "added") for _, label in chosen]

    def _add_to_account(
        self, entry: dict[str, Any], wanted: Sequence[str] | None
    ) -> list[tuple[str, str]]:
        """Add the wanted chargeboxes the entry lacks (its "Add chargebox" flow)."""
        results: list[tuple[str, str]] = []
        pending = None if wanted is None else list(dict.fromkeys(wanted))
        while pending is None or pending:
            flow = self.start_subentry_flow(entry["entry_id"])
            if flow.get("type") == "abort":
                if flow.get("reason") != "no_chargeboxes_left":
                    raise DevError(
                        f"cannot add a chargebox to {entry['title']!r}: {flow}"
                    )
                # Every chargebox of the account is configured.
                results += [
                    (want, self._not_offered(want, [])) for want in pending or ()
                ]
                return results
            if flow.get("type") != "form":
                raise DevError(f"the Add chargebox flow failed: {flow}")
            field_ = form_field(flow, "chargebox_id")
            options = select_options(flow, "chargebox_id") if field_ else []
            if pending is None:
                # Every chargebox offered is one not configured yet.
                if not options:
                    self._drop_flow(flow["flow_id"], subentry=True)
                    return results
                pending = [value for value, _ in options]
            want = pending.pop(0)
            if options:
                match = match_option(want, options)
                if match is None:
                    # Not offered: configured already, or not in the account.
                    self._drop_flow(flow["flow_id"], subentry=True)
                    results.append((want, self._not_offered(want, options)))
                    continue
                value, label = match
            else:
                # The account's list is not readable: the flow asks for an id.
                value = label = want
            done = self.subentry_flow(flow["flow_id"], {"chargebox_id": value})
            if done.get("type") == "create_entry":
                results.append((label, "added"))
            elif done.get("type") == "abort" and done.get("reason") in (
                "already_configured",
                "already_in_progress",
            ):
                results.append((label, "already added"))
            else:
                raise DevError(f"adding the chargebox {label} failed: {done}")
        return results

    def _not_offered(self, want: str, options: list[tuple[str, str]]) -> str:
        """Say why the Add chargebox flow does not offer `want`."""
        if any(want in device for device in self.thor_device_keys()):
            return "already added"
        offered = ", ".join(label for _, label in options) or "none"
        raise DevError(
            f"no chargebox {want!r} among the Thor devices nor in the account's "
            f"chargeboxes not added yet ({offered})"
        )

    def reconfigure_thor(self, entry_id: str, settings: dict[str, Any]) -> None:
        """Point an existing Thor entry at new settings (the reconfigure flow).

        An empty API key keeps the stored one.
        """
        flow = self.request(
            "POST",
            "/api/config/config_entries/flow",
            json_body={"handler": "thor", "entry_id": entry_id},
        )
        if flow.get("type") != "form" or flow.get("step_id") != "reconfigure":
            raise DevError(f"the Thor reconfigure flow did not start: {flow}")
        done = self.flow(flow["flow_id"], settings)
        if (
            done.get("type") != "abort"
            or done.get("reason") != "reconfigure_successful"
        ):
            if done.get("type") == "form":
                self._drop_flow(flow["flow_id"])
            raise DevError(f"reconfiguring the Thor entry failed: {done}")

    def websocket(self, command: dict[str, Any]) -> Any:
        """Send one command over the websocket API (logged in); return its result."""
        if not self.token:
            raise DevError("not logged in to Home Assistant")
        return websocket_command(self.url, self.token, command)

    def set_external_url(self, url: str) -> None:
        """Set Home Assistant's external URL (websocket config/core/update).

        Kept in .storage/core.config; the Thor options flow needs one (or Home
        Assistant Cloud) to give the webhook's address.
        """
        if self.request("GET", "/api/config").get("external_url") == url:
            return
        self.websocket({"type": "config/core/update", "external_url": url})

    def enable_push(self, entry_id: str) -> str:
        """Switch push on in an entry's options flow; return the address it shows.

        The entry reloads with options {"push": true, "webhook_id": ...}; the address
        stays the same when push was on already (the webhook id is kept).
        """
        flow: dict[str, Any] = self.request(
            "POST",
            "/api/config/config_entries/options/flow",
            json_body={"handler": entry_id},
        )
        if flow.get("type") != "form" or flow.get("step_id") != "init":
            raise DevError(f"the Thor options flow did not start: {flow}")
        flow_id = flow["flow_id"]
        path = f"/api/config/config_entries/options/flow/{flow_id}"
        step: dict[str, Any] = self.request("POST", path, json_body={"push": True})
        if step.get("type") != "form" or step.get("step_id") != "push":
            with contextlib.suppress(HttpError):
                self.request("DELETE", path)
            raise DevError(
                f"the Thor options flow did not switch push on: {step.get('errors') or step}"
            )
        url = str((step.get("description_placeholders") or {}).get("url") or "")
        done: dict[str, Any] = self.request("POST", path, json_body={})
        if done.get("type") != "create_entry":
            raise DevError(f"the Thor options flow did not finish: {done}")
        if not url:
            raise DevError("the Thor options flow showed no webhook address")
        return url

    def disable_push(self, entry_id: str) -> None:
        """Switch push off in an entry's options flow (the webhook id is kept)."""
        flow: dict[str, Any] = self.request(
            "POST",
            "/api/config/config_entries/options/flow",
            json_body={"handler": entry_id},
        )
        path = f"/api/config/config_entries/options/flow/{flow['flow_id']}"
        done: dict[str, Any] = self.request("POST", path, json_body={"push": False})
        if done.get("type") != "create_entry":
            with contextlib.suppress(HttpError):
                self.request("DELETE", path)
            raise DevError(f"the Thor options flow did not switch push off: {done}")

    def diagnostics(self, entry_id: str) -> dict[str, Any]:
        """Return the Thor entry's diagnostics (their `data`)."""
        answer: dict[str, Any] = self.request(
            "GET", f"/api/diagnostics/config_entry/{entry_id}"
        )
        data: dict[str, Any] = answer.get("data", answer)
        return data

    def reload_entry(self, entry_id: str) -> None:
        """Reload a config entry (unload and set up again)."""
        self.request("POST", f"/api/config/config_entries/entry/{entry_id}/reload")

    def energy_meters(self) -> list[EnergyMeter]:
        """Return the "Energy delivered" sensor of every chargebox, by device name.

        The chargebox's sensor, not the per-connector ones of multi-connector boxes.
        """
        rendered = self.template(
            "{% set ns = namespace(m=[]) %}"
            "{% for e in integration_entities('thor') %}"
            "{% if e is match('sensor\\.') and e is search('_energy_delivered$') "
            "and not e is search('_connector_[0-9]+_energy_delivered$') %}"
            "{% set d = device_id(e) %}"
            "{% set ns.m = ns.m + [[device_attr(d, 'name_by_user') or "
            "device_attr(d, 'name'), device_attr(d, 'serial_number'), e, states(e), "
            "state_attr(e, 'unit_of_measurement')]] %}"
            "{% endif %}{% endfor %}{{ ns.m | to_json }}"
        )
        if isinstance(rendered, str):
            rendered = json.loads(rendered)
        return sorted(
            EnergyMeter(str(name), str(serial or ""), str(entity), str(state), unit)
            for name, serial, entity, state, unit in rendered
        )

    def template(self, template: str) -> Any:
        """Render a template on the instance; a JSON result comes back decoded."""
        return self.request("POST", "/api/template", json_body={"template": template})

    def thor_devices(self) -> list[tuple[str, str]]:
        """Return (device name, device id) of the Thor devices (every chargebox's)."""
        return [(name, device) for name, device, _ in self._thor_devices()]

    def thor_device_keys(self) -> list[tuple[str, str]]:
        """Return (device name, serial number = chargebox id) of the Thor devices."""
        return [(name, serial) for name, _, serial in self._thor_devices()]

    def _thor_devices(self) -> list[tuple[str, str, str]]:
        """Return (name, device id, serial number) of the Thor devices, by name."""
        rendered = self.template(
            "{% set ns = namespace(d=[]) %}"
            "{% for e in integration_entities('thor') %}"
            "{% set d = device_id(e) %}"
            "{% if d and d not in ns.d | map(attribute=1) | list %}"
            "{% set ns.d = ns.d + [[device_attr(d, 'name_by_user') or "
            "device_attr(d, 'name'), d, device_attr(d, 'serial_number')]] %}"
            "{% endif %}{% endfor %}{{ ns.d | to_json }}"
        )
        if isinstance(rendered, str):
            rendered = json.loads(rendered)
        return sorted(
            (str(name), str(device), str(serial or ""))
            for name, device, serial in rendered
        )


@dataclass(frozen=True, order=True)
class EnergyMeter:
    """A chargebox's "Energy delivered" sensor and its state."""

    device: str
    chargebox_id: str
    entity_id: str
    state: str
    unit: str | None

    @property
    def value(self) -> float | None:
        """Return the state as a number, None while unknown."""
        try:
            return float(self.state)
        except ValueError:
            return None

    def __str__(self) -> str:
        """Return e.g. "Garage 10.55 kWh"."""
        value = self.value
        shown = self.state if value is None else f"{value:.2f} {self.unit or ''}"
        return f"{self.device} {shown.strip()}"


def account_entry(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return the Thor account entry to add chargeboxes to (the first one)."""
    if len(entries) > 1:
        titles = ", ".join(repr(entry["title"]) for entry in entries)
        log(f"warning: {len(entries)} Thor entries ({titles}); using the first")
    return entries[0]


def form_field(step: dict[str, Any], name: str) -> dict[str, Any] | None:
    """Return the field `name` of a form step's data_schema, if it has one."""
    for item in step.get("data_schema") or ():
        if item.get("name") == name:
            return dict(item)
    return None


def select_options(step: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """Return (value, label) of the options of the select field `name` of a form."""
    item = form_field(step, name)
    select = ((item or {}).get("selector") or {}).get("select")
    if select is None:
        return []
    options: list[tuple[str, str]] = []
    for option in select.get("options") or ():
        if isinstance(option, dict):
            options.append(
                (str(option["value"]), str(option.get("label", option["value"])))
            )
        else:
            options.append((str(option), str(option)))
    return options


def match_option(
    want: str, options: Sequence[tuple[str, str]]
) -> tuple[str, str] | None:
    """Return the option whose id or name is `want` ("Alias (id)" labels too)."""
    for value, label in options:
        if want in (value, label) or label.startswith(f"{want} ("):
            return value, label
    return None


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


def run_benchmark(
    name: str,
    run: Callable[[Path], None],
    report: Callable[[float], bool],
    *,
    keep: bool = False,
) -> int:
    """Run a benchmark in a temporary config dir; print its verdict; return the status.

    `run(config_dir)` sets up and measures; `report(elapsed)` prints the figures
    gathered, even after an error, and returns False when a goal was missed. The exit
    status is 0 (every goal met), 1 (a goal missed), 2 (setup failed) or 130.
    """

    def say(message: str) -> None:
        print(f"{name}: {message}", flush=True)

    started = time.monotonic()
    config_dir = Path(tempfile.mkdtemp(prefix="thor-bench-"))
    status = 0
    with terminating_on_sigterm():
        try:
            run(config_dir)
        except DevError as err:
            say(f"error: {err}")
            status = 2
        except KeyboardInterrupt:
            say("interrupted")
            status = 130
        finally:
            if keep:
                say(f"kept {config_dir}")
            else:
                shutil.rmtree(config_dir, ignore_errors=True)
    if not report(time.monotonic() - started) and status == 0:
        status = 1
    with contextlib.suppress(BrokenPipeError):
        verdict = {0: "PASS", 1: "FAIL", 2: "ERROR"}.get(status, "INTERRUPTED")
        say(verdict)
    return status


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
        help="chargebox to add to the Thor account entry (repeatable); default: every "
        "simulated chargebox, or the first one of a real account. On a later run, one "
        "not added yet is added through the entry's Add chargebox flow",
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
    parser.add_argument(
        "--no-push",
        action="store_true",
        help="leave push off: no notifications from the simulator, polling only "
        "(default: switched on in the Thor entry's options, the simulator's "
        "notifications sent to the address it shows)",
    )
    parser.add_argument(
        "--exit-when-ready",
        action="store_true",
        help="stop Home Assistant and the simulator as soon as the instance is ready "
        "(a check that the setup works; the state in the config dir is kept)",
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
        thor = ThorSetup()
        push = ""
        if not args.empty:
            if steps:
                log(f"onboarding: owner {state['username']!r}")
            ha.onboard(DEFAULT_NAME, state["username"], state["password"])
            save_state(config_dir, state)
            ha.wait_running(hass_service)
            thor = add_integration(ha, args, simulator, state, services)
            since = time.time()  # the entry has set up: its meters exist
            if steps:
                remove_offline_defaults(ha)
            if simulator is not None:
                state["sim_port"] = simulator.port
                if not state.get("history_added") and thor.devices:
                    try:
                        history = add_history(ha, simulator, thor, since, services)
                    except DevError as err:
                        log(f"warning: no charge history added: {err}")
                        history = []
                    if history:
                        log(
                            f"added {len(history)} finished charges to the history "
                            "(counted by the Energy delivered meters): "
                            + ", ".join(
                                f"{c.alias} connector {c.connector} "
                                f"{c.energy / 1000:.2f} kWh"
                                + (" (paid)" if c.paid else "")
                                for c in history
                            )
                        )
                        state["history_added"] = True
            save_state(config_dir, state)
            push = set_up_push(
                ha, ha_url, simulator, thor, no_push=args.no_push, services=services
            )
        meters: list[EnergyMeter] = []
        if thor.devices:
            with contextlib.suppress(DevError, OSError):
                meters = ha.energy_meters()
        print_ready(
            args=args,
            ha_url=ha_url,
            state=state,
            simulator=simulator,
            thor=thor,
            meters=meters,
            config_dir=config_dir,
            started=started,
            push=push,
        )
        if args.exit_when_ready:
            log("--exit-when-ready: stopping")
            return 0
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


@dataclass
class ThorSetup:
    """The Thor entries and devices of the instance once set up."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    devices: list[tuple[str, str]] = field(default_factory=list)
    """(name, device id) of every chargebox's device."""


SETTLED = ("loaded", "setup_error", "setup_retry", "migration_error", "failed_unload")
"""Config entry states that do not change by themselves any more."""


def settled_entries(
    ha: HomeAssistant, services: Sequence[Service] = (), timeout: float = 120
) -> list[dict[str, Any]]:
    """Return the Thor entries once each has set up (or failed to).

    Entries of the previous layout (one per chargebox) are merged into the account
    entry by the integration at startup: this waits for that too.
    """

    def settled() -> tuple[list[dict[str, Any]]] | None:
        entries = ha.entries()
        if all(
            entry["state"] in SETTLED
            or (entry["state"] == "not_loaded" and entry.get("disabled_by"))
            for entry in entries
        ):
            return (entries,)
        return None

    result: tuple[list[dict[str, Any]]] = wait_for(
        "the Thor entries to set up", settled, timeout=timeout, services=services
    )
    return result[0]


def add_integration(
    ha: HomeAssistant,
    args: argparse.Namespace,
    simulator: SimulatorInfo | None,
    state: dict[str, Any],
    services: Sequence[Service] = (),
) -> ThorSetup:
    """Add (or keep) the Thor account entry and its chargeboxes; return them.

    The first run creates one account entry with the wanted chargeboxes; a later run
    adds the wanted ones it lacks through its "Add chargebox" subentry flow, and
    re-points it at the simulator when the simulator's port changed.
    """
    entries = settled_entries(ha, services)
    if simulator is not None:
        settings: dict[str, Any] = {
            "api_key": simulator.api_key,
            "environment": "production",
            "advanced": {"base_url": simulator.base_url},
        }
        old_port = state.get("sim_port")
        if entries and old_port and old_port != simulator.port:
            entry = account_entry(entries)
            log(
                f"pointing {entry['title']!r} at the simulator's new port "
                f"{simulator.port} (reconfigure, keeping the API key)"
            )
            # The key left empty: the reconfigure step keeps the stored one.
            ha.reconfigure_thor(entry["entry_id"], {**settings, "api_key": ""})
        first_only = False
    else:
        settings = {
            "api_key": args.api_key,
            "environment": args.environment,
            "advanced": {},
        }
        first_only = True
    added = ha.add_thor(settings, args.chargebox, first_only=first_only)
    for label, outcome in added:
        log(f"Thor chargebox {label}: {outcome}")
    if not added:
        log("Thor: every chargebox wanted is already added")
    entries = settled_entries(ha, services)
    for entry in entries:
        chargeboxes = entry.get("num_subentries", 0)
        log(
            f"Thor entry {entry['title']!r}: {chargeboxes} chargebox(es), {entry['state']}"
        )
        if entry["state"] != "loaded":
            log(
                f"warning: Thor entry {entry['title']!r} is {entry['state']}: "
                f"{entry.get('reason')}"
            )
    expected = sum(int(entry.get("num_subentries") or 0) for entry in entries)
    if not all(entry["state"] == "loaded" for entry in entries):
        return ThorSetup(entries, ha.thor_devices())

    def found() -> list[tuple[str, str]] | None:
        devices = ha.thor_devices()
        return devices if devices and len(devices) >= expected else None

    try:
        devices = wait_for("the Thor devices", found, timeout=60, services=services)
    except DevError as err:
        devices = ha.thor_devices()
        log(f"warning: {err}; {len(devices)} of {expected} devices")
    return ThorSetup(entries, list(devices))


def set_up_push(
    ha: HomeAssistant,
    ha_url: str,
    simulator: SimulatorInfo | None,
    thor: ThorSetup,
    *,
    no_push: bool,
    services: Sequence[Service] = (),
) -> str:
    """Give Home Assistant its external URL; switch push on; return the status line.

    The external URL is the instance's own address, so the options flow of the Thor
    entry can show a webhook address. Unless `no_push`, push is switched on through
    that options flow (the entry reloads) and the simulator's notifications go to the
    address it showed. A real Thor account cannot reach a loopback address: push is
    left as it is then.
    """
    try:
        ha.set_external_url(ha_url)
    except (DevError, OSError) as err:
        log(f"warning: cannot set Home Assistant's external URL: {err}")
        return "off (Home Assistant has no external URL)"
    if no_push:
        if simulator is not None:
            with contextlib.suppress(DevError, OSError):
                simulator.set_notifications(None, enabled=False)
        for entry in thor.entries:
            if entry["state"] != "loaded":
                continue
            try:
                if ha.diagnostics(entry["entry_id"]).get("push", {}).get("enabled"):
                    ha.disable_push(entry["entry_id"])
                    log(f"push switched off in {entry['title']!r} (options flow)")
                    settled_entries(ha, services)
            except (DevError, OSError) as err:
                log(f"warning: push not switched off: {err}")
        return "off (--no-push): polling only"
    if simulator is None:
        return (
            "not switched on (a real Thor account cannot reach "
            f"{ha_url}); Configure on the Thor entry shows the address"
        )
    loaded = [entry for entry in thor.entries if entry["state"] == "loaded"]
    if not loaded:
        return "off (the Thor entry is not loaded)"
    entry = account_entry(loaded)
    try:
        url = ha.enable_push(entry["entry_id"])
        settled_entries(ha, services)
        simulator.set_notifications(url)
    except (DevError, OSError) as err:
        log(f"warning: push not switched on: {err}")
        return f"off (switching it on failed: {err})"
    log("push switched on (options flow); the simulator's notifications go to it")
    return f"notifications from the simulator to {url}"


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


@dataclass(frozen=True)
class PastCharge:
    """A finished charge that scripts/develop puts into a new instance's history."""

    chargebox_id: str
    alias: str
    connector: int
    energy: int
    """Wh."""
    mode: str
    """How it was started: "local" (RFID card), "remote" (Thor app) or "api"."""
    paid: bool = False


HISTORY_MIN_SLOT = 2.0
"""Least seconds each history charge lasts (they fit between the setup and now)."""


def plan_history(boxes: Sequence[dict[str, Any]]) -> list[PastCharge]:
    """Return the charges to give the configured chargeboxes (simulator's JSON).

    An RFID charge and a Thor app charge on the first chargebox (on its second
    connector when it has one), and with several chargeboxes an RFID charge on the
    last one, paid: its last session has a cost.
    """
    if not boxes:
        return []
    first = boxes[0]
    alias = str(first.get("alias") or first["id"])
    plan = [PastCharge(first["id"], alias, 1, 7400, "local")]
    plan.append(
        PastCharge(
            first["id"], alias, 2 if len(first["connectors"]) > 1 else 1, 3150, "remote"
        )
    )
    if len(boxes) > 1:
        last = boxes[-1]
        plan.append(
            PastCharge(
                last["id"], str(last.get("alias") or last["id"]), 1, 850, "local", True
            )
        )
    return plan


def add_history(
    ha: HomeAssistant,
    simulator: SimulatorInfo,
    thor: ThorSetup,
    since: float,
    services: Sequence[Service] = (),
) -> list[PastCharge]:
    """Give the configured chargeboxes finished charges that their meters count.

    A meter starts at 0 when its chargebox is added and counts only charges that
    began after that (`since`, epoch seconds, is after the entry has set up): the
    charges fit between `since` and now, as if they had happened while Home Assistant
    was not running. Reloading the entry makes its start-up reconciliation read and
    count them; this waits until the meters show them. A paid charge is added while
    its chargebox requires payment, which is then made free again (so Home Assistant
    can start charges there).
    """
    if not thor.entries or any(e["state"] != "loaded" for e in thor.entries):
        return []
    configured = {serial for _, serial in ha.thor_device_keys()}
    state = simulator.state()
    boxes = [box for box in state["chargeboxes"] if box["id"] in configured]
    plan = plan_history(boxes)
    if not plan:
        return []
    now = float(state["now"]) / 1000
    start = since + 0.5
    slot = (now - 1 - start) / len(plan)
    if slot < HISTORY_MIN_SLOT:
        time.sleep(start + HISTORY_MIN_SLOT * len(plan) + 1 - now)
        slot = HISTORY_MIN_SLOT
    for index, charge in enumerate(plan):
        began = start + index * slot
        if charge.paid:
            simulator.patch_chargebox(charge.chargebox_id, {"payment_free": False})
        try:
            simulator.add_finished_charge(
                charge.chargebox_id,
                charge.connector,
                started=began,
                finished=began + slot * 0.8,
                energy=charge.energy,
                mode=charge.mode,
            )
        finally:
            if charge.paid:
                simulator.patch_chargebox(charge.chargebox_id, {"payment_free": True})
    for entry in thor.entries:
        ha.reload_entry(entry["entry_id"])
    settled_entries(ha, services)
    expected: dict[str, float] = {}
    for charge in plan:
        expected[charge.chargebox_id] = (
            expected.get(charge.chargebox_id, 0) + charge.energy / 1000
        )

    def counted() -> bool:
        values = {
            meter.chargebox_id: meter.value or 0.0 for meter in ha.energy_meters()
        }
        return all(values.get(box, 0.0) >= kwh - 0.005 for box, kwh in expected.items())

    wait_for("the energy meters to count the history", counted, timeout=60)
    return plan


def print_ready(
    *,
    args: argparse.Namespace,
    ha_url: str,
    state: dict[str, Any],
    simulator: SimulatorInfo | None,
    thor: ThorSetup,
    meters: Sequence[EnergyMeter] = (),
    config_dir: Path,
    started: float,
    push: str = "",
) -> None:
    """Print where to go, how to log in, where the energy is, and how to stop."""
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
        lines.extend(
            f"  Thor account  {entry['title']!r} with "
            f"{entry.get('num_subentries', 0)} chargebox(es): "
            f"{ha_url}/config/integrations/integration/thor (Add chargebox there)"
            for entry in thor.entries
        )
        for name, device_id in thor.devices:
            lines.append(
                f"  Device        {name}: {ha_url}/config/devices/device/{device_id}"
            )
        if meters:
            lines += [
                "  Energy        "
                + ", ".join(f"{meter} ({meter.entity_id})" for meter in meters),
                '                "Energy delivered" (lifetime meter) and "Last session ..." '
                "on the device pages; to chart a meter:",
                f"                {ha_url}/config/energy > Individual electrical devices > "
                "Add device",
            ]
        if thor.devices:
            delay = (
                f"; the simulator begins it after {args.start_delay:g} s"
                if simulator is not None
                else ""
            )
            lines += [
                '  Charge        a device page\'s "Charging" switch ("Connector N '
                f'charging" with several connectors){delay},',
                "                or the action thor.start_charge: "
                f"{ha_url}/developer-tools/action",
            ]
    if push:
        lines.append(f"  Push          {push}")
    if simulator is not None:
        lines += [
            f"  Simulator     API key {simulator.api_key!r}, base URL (under Advanced) {simulator.base_url}",
            f"                state: {simulator.admin_url}/state",
        ]
    lines += [
        f"  Logs          {shown}/home-assistant.log"
        + (f", {shown}/simulator.log" if simulator is not None else ""),
    ]
    if not args.exit_when_ready:
        lines.append("Press Ctrl-C to stop Home Assistant and the simulator.")
    lines.append("")
    print("\n".join(lines), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run scripts/develop."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with terminating_on_sigterm():
        return develop(args)


if __name__ == "__main__":
    sys.exit(main())
