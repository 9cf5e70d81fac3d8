"""An in-process Home Assistant for the benchmarks: the test harness's, outside pytest.

`scripts/bench_hour.py` (requests over a simulated hour) and `scripts/bench_push.py`
(CPU per notification) set Home Assistant up the way the tests do
(`pytest_homeassistant_custom_component`'s `async_test_home_assistant`, custom
integrations enabled), but in a temporary config directory of their own and without
pytest. The Thor entry is made from public setup only (an account entry with a
chargebox subentry per box, push in its options); the integration's internals are
never touched, so the benchmarks survive their rewrites.

`frozen_clock()` freezes time as the tests' `freezer` does; `Clock.run_until()` then
moves it from one scheduled timer of the event loop to the next, so that Home
Assistant's scheduler runs an hour of polls at the exact times it asked for, in a
few seconds.
"""

# Home Assistant first (it installs probatio as voluptuous), then the harness's time
# patches, before anything else of Home Assistant captures dt_util.utcnow.
import homeassistant  # noqa: F401  # isort:skip
from pytest_homeassistant_custom_component import (  # type: ignore[import-untyped]  # isort:skip
    patch_time,
)

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
import math
from pathlib import Path
import secrets
import shutil
import sys
import tempfile
import threading
import time
from typing import Any
from unittest.mock import patch
import weakref

from aiohttp import web
from aiohttp.resolver import AsyncResolver
import freezegun
from freezegun.api import FrozenDateTimeFactory
from homeassistant import loader, runner
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID
from homeassistant.core import DOMAIN as HA_DOMAIN, HomeAssistant
from homeassistant.helpers import entity_registry as er, frame, translation
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_fire_time_changed_exact,
    async_test_home_assistant,
)

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    # custom_components.thor and thor_simulator of this checkout.
    sys.path.insert(0, str(REPO))

from thor_simulator import ThorSimulator  # noqa: E402

DOMAIN = "thor"
API_KEY = "thor-bench-api-key"
FROZEN_START = datetime(2026, 3, 10, 18, 0, 0, tzinfo=dt_util.UTC)
"""Where frozen time starts: 11:00 in the harness's time zone (US/Pacific), far from
the daily reconciliation (15 minutes after local midnight)."""
SETTLE_LIMIT = 120.0
"""Real seconds Home Assistant's tasks may take to be done after a timer or a call."""
MAX_TIMER_STEPS = 100_000
"""Timers run in one `run_until` at most: more means a timer loop, not polling."""

QUIET_LOGGERS = ("homeassistant.loader", "aiohttp_fast_zlib")
"""Loggers whose start-up warnings (a custom integration; no zlib_ng) are noise here."""


class BenchError(Exception):
    """The in-process Home Assistant could not be set up or measured."""


def configure_freezegun() -> None:
    """Give freezegun the harness's classes, as its pytest plugin does for a test."""
    api: Any = freezegun.api
    api.FakeDate = patch_time.HAFakeDate
    api.datetime_to_fakedatetime = patch_time.ha_datetime_to_fakedatetime
    api.FakeDatetime = patch_time.HAFakeDatetime
    api._get_module_attributes = patch_time.ha_get_module_attributes  # noqa: SLF001
    api._get_module_attributes_hash = patch_time.ha_get_module_attributes_hash  # noqa: SLF001
    api._should_use_real_time = patch_time.ha_should_use_real_time  # noqa: SLF001
    api.get_current_time = patch_time.ha_get_current_time


async def async_settle(
    hass: HomeAssistant, *, background: bool = True, limit: float = SETTLE_LIMIT
) -> None:
    """Wait until Home Assistant's tasks are done, `limit` real seconds at most.

    With time frozen, a task that sleeps would wait forever: a watchdog thread (real
    time) turns that into a BenchError.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(
        hass.async_block_till_done(wait_background_tasks=background)
    )
    watchdog = threading.Timer(limit, lambda: loop.call_soon_threadsafe(task.cancel))
    watchdog.daemon = True
    watchdog.start()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
        raise BenchError(
            f"Home Assistant's tasks were not done after {limit:g} s (real time): "
            "one waits for time that only the benchmark moves?"
        ) from None
    finally:
        watchdog.cancel()


@dataclass
class Clock:
    """Frozen time, moved on by the benchmark only."""

    factory: FrozenDateTimeFactory

    def now(self) -> datetime:
        """Return the frozen time."""
        return dt_util.utcnow()

    async def run_until(
        self,
        hass: HomeAssistant,
        end: datetime,
        *,
        step: float | None = None,
        after_timer: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Move time to `end`, running every timer of the loop when it is due.

        Time jumps to the next scheduled timer (Home Assistant's polls, aiohttp's
        keep-alive, the integration's own timers), which runs at its exact due time,
        then everything it started is waited for, then `after_timer()`. With `step`,
        time also stops at least every `step` seconds (for `after_timer` to act).
        """
        await async_settle(hass)
        for _ in range(MAX_TIMER_STEPS):
            now_mono = hass.loop.time()
            until_end = (end - self.now()).total_seconds()
            if until_end <= 0:
                return
            due = [
                handle.when() - now_mono
                for handle in get_scheduled_timer_handles(hass.loop)
                if isinstance(handle, asyncio.TimerHandle) and not handle.cancelled()
            ]
            wait = min([until_end, *due])
            if step is not None:
                wait = min(wait, step)
            if wait > 0:
                # Whole microseconds (frozen time's resolution), rounded up: a timer
                # a float's rounding error ahead must not be waited for forever.
                self.factory.tick(timedelta(microseconds=math.ceil(wait * 1e6)))
            async_fire_time_changed_exact(hass, self.now())
            await async_settle(hass)
            if after_timer is not None:
                await after_timer()
        raise BenchError(f"more than {MAX_TIMER_STEPS} timers before {end}")


@contextlib.contextmanager
def frozen_clock(start: datetime = FROZEN_START) -> Iterator[Clock]:
    """Freeze time (wall clock and the event loop's monotonic clock) at `start`."""
    configure_freezegun()
    with freezegun.freeze_time(start) as factory:
        if not isinstance(factory, FrozenDateTimeFactory):  # not ticking: for mypy
            raise TypeError(factory)
        yield Clock(factory)


def real_clock_simulator(**kwargs: Any) -> ThorSimulator:
    """Return a simulator with no delays nor rate limit whose clock follows time.time.

    Looked up at each call, so a frozen clock moves it too. No background sender:
    notifications go out when the benchmark calls `async_send_notifications()`.
    """
    settings: dict[str, Any] = {
        "api_key": API_KEY,
        "seed": 1,
        "start_delay": 0,
        "stop_delay": 0,
        "start_rate_limit": 0,
        "clock": lambda: time.time(),  # noqa: PLW0108
        "notification_loop_interval": 0,
    }
    settings.update(kwargs)
    return ThorSimulator(**settings)


@dataclass
class Harness:
    """Home Assistant, its HTTP server and the exceptions its loop reported."""

    hass: HomeAssistant
    config_dir: Path
    exceptions: list[str] = field(default_factory=list)
    http_port: int | None = None

    def check(self) -> None:
        """Raise BenchError when the loop reported an unhandled exception."""
        if self.exceptions:
            raise BenchError(
                "Home Assistant's loop reported: " + "; ".join(self.exceptions[:3])
            )

    async def serve_http(self) -> int:
        """Serve Home Assistant's HTTP app on a free loopback port; return the port.

        As the tests' `hass_client_no_auth` does: the app with every middleware and
        view (the webhook view among them), served by aiohttp on 127.0.0.1.
        """
        if self.http_port is not None:
            return self.http_port
        if not await async_setup_component(self.hass, "http", {"http": {}}):
            raise BenchError("the http component did not set up")
        runner = web.AppRunner(self.hass.http.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.hass.bus.async_listen_once("homeassistant_stop", _cleanup(runner))
        self.http_port = int(runner.addresses[0][1])
        return self.http_port

    def webhook_url(self, webhook_id: str) -> str:
        """Return the loopback address of a webhook (after `serve_http`)."""
        if self.http_port is None:
            raise BenchError("serve_http() first")
        return f"http://127.0.0.1:{self.http_port}{webhook.async_generate_path(webhook_id)}"

    async def add_account(
        self, base_url: str, boxes: Sequence[tuple[str, str]], *, push: bool
    ) -> MockConfigEntry:
        """Set up one account entry with a chargebox subentry per (id, title).

        With `push`, the entry's options switch push on with a new webhook id (what
        the options flow stores).
        """
        options: dict[str, Any] = (
            {"push": True, CONF_WEBHOOK_ID: secrets.token_hex(16)} if push else {}
        )
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Thor",
            version=2,
            data={
                CONF_API_KEY: API_KEY,
                "environment": "production",
                "base_url": base_url,
            },
            options=options,
            subentries_data=[
                {
                    "data": {"chargebox_id": box_id},
                    "subentry_type": "chargebox",
                    "title": title,
                    "unique_id": box_id,
                }
                for box_id, title in boxes
            ],
        )
        entry.add_to_hass(self.hass)
        await self.hass.config_entries.async_setup(entry.entry_id)
        await async_settle(self.hass)
        self.check()
        if entry.state is not ConfigEntryState.LOADED:
            raise BenchError(f"the Thor entry did not load: {entry.state}")
        return entry

    def entity_ids(self, entry: MockConfigEntry) -> list[str]:
        """Return the entity ids of an entry."""
        registry = er.async_get(self.hass)
        return sorted(
            item.entity_id
            for item in er.async_entries_for_config_entry(registry, entry.entry_id)
        )


_CONFIGURED_LOOPS: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def _cleanup(runner: web.AppRunner) -> Any:
    async def cleanup(_event: Any) -> None:
        await runner.cleanup()

    return cleanup


@contextlib.asynccontextmanager
async def in_process_hass() -> AsyncIterator[Harness]:
    """Start Home Assistant in this process, in a temporary config directory.

    Loop exceptions are collected (`Harness.check()`); on exit the entries are
    unloaded, Home Assistant is stopped and the directory removed.
    """
    loop = asyncio.get_running_loop()
    if loop not in _CONFIGURED_LOOPS:
        # As Home Assistant configures its own loop (and the tests'), without debug;
        # once per loop (Home Assistant refuses to set the executor twice).
        runner.configure_event_loop(loop)
        _CONFIGURED_LOOPS.add(loop)
    config_dir = Path(tempfile.mkdtemp(prefix="thor-bench-hass-"))
    exceptions: list[str] = []

    def on_exception(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        exceptions.append(repr(error) if error else str(context.get("message")))

    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    previous = loop.get_exception_handler()
    loop.set_exception_handler(on_exception)
    try:
        async with contextlib.AsyncExitStack() as stack:
            # What the harness's autouse fixtures patch: no zeroconf resolver for
            # aiohttp (loopback only), and no HTTP server bound by the http component
            # on its default port (serve_http() serves the app on a free one).
            stack.enter_context(
                patch(
                    "homeassistant.helpers.aiohttp_client._async_make_resolver",
                    return_value=AsyncResolver(),
                )
            )
            stack.enter_context(
                patch("homeassistant.components.http.HomeAssistantHTTP.async_bind")
            )
            stack.enter_context(
                patch("homeassistant.components.http.HomeAssistantHTTP.start")
            )
            hass = await stack.enter_async_context(
                async_test_home_assistant(loop, config_dir=str(config_dir))
            )
            frame.async_setup(hass)
            await translation.async_load_integrations(hass, {HA_DOMAIN})
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # enable_custom_integrations
            harness = Harness(hass, config_dir, exceptions)
            try:
                yield harness
            finally:
                for entry in hass.config_entries.async_entries():
                    if entry.state is ConfigEntryState.LOADED:
                        await hass.config_entries.async_unload(entry.entry_id)
                await hass.async_stop(force=True)
    finally:
        loop.set_exception_handler(previous)
        shutil.rmtree(config_dir, ignore_errors=True)
