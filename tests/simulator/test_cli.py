"""The `python -m thor_simulator` command line."""

import argparse
import asyncio
import io
import signal
import socket

import aiohttp
import pytest

from thor_simulator import ThorSimulator
from thor_simulator.cli import (
    banner,
    build_simulator,
    chargebox_spec,
    default_api_key,
    fault_spec,
    main,
    parse_args,
    serve,
)


def test_defaults() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.seed, args.api_key) == (
        "127.0.0.1",
        8765,
        0,
        None,
    )
    assert (args.start_delay, args.stop_delay, args.rate_limit) == (3.0, 3.0, 5.0)
    assert (args.chargeboxes, args.connectors, args.chargebox) == (None, 2, [])
    sim = build_simulator(args)
    assert [(b.alias, len(b.connectors)) for b in sim.chargeboxes.values()] == [
        ("Chargebox 1", 2)
    ]
    assert sim.api_keys == {default_api_key(0)}
    assert (sim.start_delay, sim.stop_delay, sim.start_rate_limit) == (3.0, 3.0, 5.0)


def test_options() -> None:
    args = parse_args(
        [
            "--host=127.0.0.1",
            "--port=0",
            "--api-key=k",
            "--seed=3",
            "--chargeboxes=2",
            "--connectors=3",
            "--chargebox=Garage:2",
            "--chargebox",
            "Bike shed:1",
            "--chargebox=Odd:name:1",
            "--start-delay=0",
            "--stop-delay=0.5",
            "--rate-limit=0",
            "--quiet",
        ]
    )
    sim = build_simulator(args)
    boxes = list(sim.chargeboxes.values())
    assert [(b.alias, len(b.connectors)) for b in boxes] == [
        ("Chargebox 1", 3),
        ("Chargebox 2", 3),
        ("Garage", 2),
        ("Bike shed", 1),
        ("Odd:name", 1),
    ]
    bike = boxes[3]
    assert bike.vehicle == "bicycle"
    assert (bike.connectors[0].power, bike.connectors[0].type) == (3700, "schuko")
    assert boxes[2].vehicle == "car"
    assert sim.api_keys == {"k"}
    assert (sim.start_delay, sim.stop_delay, sim.start_rate_limit) == (0, 0.5, 0)
    assert args.quiet


def test_only_named_chargeboxes() -> None:
    sim = build_simulator(parse_args(["--chargebox", "Garage:1"]))
    assert [b.alias for b in sim.chargeboxes.values()] == ["Garage"]


def test_seeded() -> None:
    def ids(seed: str) -> list[str]:
        return list(build_simulator(parse_args(["--seed", seed])).chargeboxes)

    assert ids("5") == ids("5")
    assert ids("5") != ids("6")
    assert default_api_key(5) == default_api_key(5) != default_api_key(6)
    assert len(default_api_key(5)) == 32


@pytest.mark.parametrize("spec", ["Garage", "Garage:x", "Garage:0", ":2", " :1"])
def test_bad_chargebox_spec(spec: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        chargebox_spec(spec)


@pytest.mark.parametrize(
    "argv",
    [
        ["--chargebox", "Garage"],
        ["--start-delay", "-1"],
        ["--stop-delay", "soon"],
        ["--chargeboxes", "0"],
        ["--connectors", "two"],
        ["--port", "x"],
        ["--fault", "retry_after_header=1\r\n"],
    ],
)
def test_bad_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_faults_from_the_command_line() -> None:
    args = parse_args(
        [
            "--fault=status=429",
            "--fault",
            "retry_after_header=Wed, 21 Oct 2015 07:28:00 GMT",
            "--fault",
            'error_raw_body={"message": "{api_key}"}',
            "--fault=omit_running=true",
            "--fault",
            "omit_list_connectors=true",
        ]
    )
    sim = build_simulator(args)
    assert sim.faults.status == 429
    assert sim.faults.retry_after_header == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert sim.faults.error_raw_body == '{"message": "{api_key}"}'
    assert sim.faults.omit_running is True
    assert sim.faults.omit_list_connectors is True
    sim._base_url = "http://127.0.0.1:1/latest/integration"
    sim._admin_url = "http://127.0.0.1:1/_simulator"
    assert "  Faults:    status=429, retry_after_header='Wed, 21" in banner(sim)
    sim.faults.clear()
    assert "Faults:" not in banner(sim)


@pytest.mark.parametrize("spec", ["status", "status=600", "nope=1", "hang=maybe"])
def test_bad_fault_spec(spec: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        fault_spec(spec)


def test_banner_without_chargeboxes() -> None:
    sim = ThorSimulator(api_key="k")
    sim._base_url = "http://127.0.0.1:1/latest/integration"
    sim._admin_url = "http://127.0.0.1:1/_simulator"
    text = banner(sim)
    assert "API key:   k" in text
    assert "curl" not in text


async def test_serve_until_stopped() -> None:
    args = parse_args(
        ["--port", "0", "--seed", "1", "--chargebox", "Garage:2", "--quiet"]
    )
    stop = asyncio.Event()
    out = io.StringIO()
    seen: list[ThorSimulator] = []
    task = asyncio.ensure_future(serve(args, stop, ready=seen.append, out=out))
    for _ in range(200):
        if seen:
            break
        await asyncio.sleep(0.005)
    sim = seen[0]
    box_id = next(iter(sim.chargeboxes))
    key = default_api_key(1)
    text = out.getvalue()
    assert sim.base_url in text
    assert sim.admin_url in text
    assert f"API key:   {key}" in text
    assert f"{box_id}  'Garage'  2 connector(s)" in text
    assert f"curl -H 'X-Api-Key: {key}' {sim.base_url}/chargeboxes/{box_id}" in text
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{sim.base_url}/chargeboxes/{box_id}", headers={"X-Api-Key": key}
        ) as response,
    ):
        assert response.status == 200
        assert (await response.json())["alias"] == "Garage"
    stop.set()
    await task
    with pytest.raises(RuntimeError):
        _ = sim.base_url


async def test_serve_stops_on_sigterm(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["--port", "0", "--quiet"])
    started: list[ThorSimulator] = []

    def ready(sim: ThorSimulator) -> None:
        started.append(sim)
        signal.raise_signal(signal.SIGTERM)

    await serve(args, ready=ready)
    assert len(started) == 1
    assert "Thor simulator running" in capsys.readouterr().out
    with pytest.raises(RuntimeError):
        _ = started[0].admin_url


async def test_serve_with_stop_already_set(capsys: pytest.CaptureFixture[str]) -> None:
    stop = asyncio.Event()
    stop.set()
    await serve(parse_args(["--port", "0", "--quiet"]), stop)
    assert "Base URL:  http://127.0.0.1:" in capsys.readouterr().out


def test_main_exits_0_on_sigint(capsys: pytest.CaptureFixture[str]) -> None:
    def ready(_sim: ThorSimulator) -> None:
        signal.raise_signal(signal.SIGINT)

    assert main(["--port", "0"], ready=ready) == 0
    assert "Press Ctrl+C to stop." in capsys.readouterr().out


def test_main_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--port", str(port), "--quiet"]) == 1
    assert "Cannot start the simulator" in capsys.readouterr().err
