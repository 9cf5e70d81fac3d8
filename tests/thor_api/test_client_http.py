"""Client behaviour checked against tiny scripted HTTP servers on loopback.

These cover what the simulator cannot easily produce: odd error bodies, a server that
echoes the key, redirects, Retry-After dates, and exactly what arrives on the wire.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import logging
import socket
from typing import Any

from aiohttp import (
    ClientSession,
    TCPConnector,
    TraceConfig,
    TraceRequestStartParams,
    web,
)
from aiohttp.abc import AbstractResolver, ResolveResult
import pytest

from custom_components.thor.thor_api import (
    DEFAULT_REQUEST_TIMEOUT,
    DEVELOPMENT_BASE_URL,
    PRODUCTION_BASE_URL,
    ThorAccessDeniedError,
    ThorAuthenticationError,
    ThorBadRequestError,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorConnectionError,
    ThorError,
    ThorPaymentRequiredError,
    ThorRateLimitError,
    ThorResponseError,
    ThorServerError,
    ThorTimeoutError,
)
from custom_components.thor.thor_api.client import _retry_after

from .conftest import API_KEY, PREFIX, Handler, ScriptedServer, reply

type StartServer = Callable[[Handler], Awaitable[ScriptedServer]]

JSON = "application/json"


def make_client(
    session: ClientSession, server: ScriptedServer, **kwargs: Any
) -> ThorClient:
    """Return a client pointed at a scripted server."""
    return ThorClient(
        session=session, api_key=API_KEY, base_url=server.base_url, **kwargs
    )


# --- error bodies ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param('{"message": "ChargeboxNotFound"}', JSON, id="json-message"),
        pytest.param('{"error": "ChargeboxNotFound"}', JSON, id="json-error"),
        pytest.param('{"code": "ChargeboxNotFound"}', JSON, id="json-code"),
        pytest.param('{"Message": "ChargeboxNotFound"}', JSON, id="json-Message"),
        pytest.param('{"errorMessage": "ChargeboxNotFound"}', JSON, id="errorMessage"),
        pytest.param(
            '{"code": 404, "message": "No box", "error": "ChargeboxNotFound"}',
            JSON,
            id="json-identifier-in-a-later-key",
        ),
        pytest.param(
            '{"error": {"code": 404, "message": "ChargeboxNotFound"}}',
            JSON,
            id="json-nested",
        ),
        pytest.param('{"message": "chargeboxnotfound"}', JSON, id="json-lowercase"),
        pytest.param('"ChargeboxNotFound"', JSON, id="json-string"),
        pytest.param("ChargeboxNotFound", "text/plain", id="text"),
        pytest.param(
            "  Error: ChargeboxNotFound (EaJ7)\n", "text/plain", id="sentence"
        ),
        pytest.param('{"message": "ChargeboxNotFound"}', None, id="json-as-octets"),
    ],
)
async def test_error_identifier_in_any_body_shape(
    session: ClientSession, scripted_server: StartServer, body: str, content_type: str
) -> None:
    server = await scripted_server(reply(404, body, content_type=content_type))
    client = make_client(session, server)

    with pytest.raises(ThorChargeboxNotFoundError) as err:
        await client.get_chargebox("EaJ7")

    assert err.value.status == 404
    assert err.value.code == "ChargeboxNotFound"
    assert str(err.value) == "Thor answered HTTP 404 ChargeboxNotFound"


@pytest.mark.parametrize(
    ("status", "body", "exception", "code"),
    [
        (400, '{"message": "BoundsTooBig"}', ThorBadRequestError, "BoundsTooBig"),
        (400, "", ThorBadRequestError, None),
        (401, "", ThorAuthenticationError, None),
        (402, "", ThorPaymentRequiredError, None),
        (403, '{"message": "Forbidden"}', ThorAccessDeniedError, None),
        (404, "", ThorChargeboxNotFoundError, None),
        (404, '{"message": "NotFound"}', ThorChargeboxNotFoundError, None),
        (429, "", ThorRateLimitError, None),
        (500, "", ThorServerError, None),
        (
            500,
            '{"message": "InternalServerError"}',
            ThorServerError,
            "InternalServerError",
        ),
        (502, "Bad Gateway", ThorServerError, None),
        (503, '{"message": "Service Unavailable"}', ThorServerError, None),
        (418, "", ThorError, None),
    ],
)
async def test_status_decides_without_a_known_identifier(
    session: ClientSession,
    scripted_server: StartServer,
    *,
    status: int,
    body: str,
    exception: type[ThorError],
    code: str | None,
) -> None:
    server = await scripted_server(reply(status, body, content_type=JSON))
    client = make_client(session, server)

    with pytest.raises(ThorError) as err:
        await client.get_chargebox("EaJ7")

    assert type(err.value) is exception
    assert err.value.status == status
    assert err.value.code == code
    assert str(err.value).startswith(f"Thor answered HTTP {status}")


async def test_plain_error_detail_is_shown_but_shortened(
    session: ClientSession, scripted_server: StartServer
) -> None:
    """A body without a known identifier is quoted in the message, cut at 200 chars."""
    detail = "database exploded " + "x" * 500
    server = await scripted_server(reply(500, detail, content_type="text/plain"))
    client = make_client(session, server)

    with pytest.raises(ThorServerError) as err:
        await client.list_chargeboxes()

    message = str(err.value)
    assert "database exploded" in message
    assert "x" * 182 in message
    assert "x" * 183 not in message


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><title>502 Bad Gateway</title></head><body>"
        "<h1>nginx says InternalServerError</h1></body></html>",
        "\n  <!DOCTYPE html><html><body>Sorry</body></html>",
    ],
)
async def test_html_error_page_is_a_server_error_without_html(
    session: ClientSession, scripted_server: StartServer, page: str
) -> None:
    server = await scripted_server(reply(502, page, content_type="text/html"))
    client = make_client(session, server)

    with pytest.raises(ThorServerError) as err:
        await client.list_chargeboxes()

    assert err.value.status == 502
    assert err.value.code is None
    assert "<" not in str(err.value)
    assert "Sorry" not in str(err.value)
    assert "nginx" not in str(err.value)


async def test_error_body_that_is_not_utf8(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(
        reply(404, b"\xff\xfeChargeboxNotFound\xff", content_type="text/plain")
    )
    client = make_client(session, server)

    with pytest.raises(ThorChargeboxNotFoundError) as err:
        await client.get_chargebox("EaJ7")

    assert err.value.code == "ChargeboxNotFound"


# --- Retry-After -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param({"Retry-After": "30"}, 30.0, id="seconds"),
        pytest.param({"Retry-After": " 2.5 "}, 2.5, id="fraction"),
        pytest.param({"Retry-After": "-4"}, 0.0, id="negative"),
        pytest.param({"Retry-After": "0"}, 0.0, id="zero"),
        pytest.param({"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0.0, id="past"),
        pytest.param({"Retry-After": "soon"}, None, id="junk"),
        pytest.param({"Retry-After": "inf"}, None, id="infinite"),
        pytest.param({"Retry-After": "nan"}, None, id="nan"),
        pytest.param({"Retry-After": ""}, None, id="empty"),
        pytest.param({}, None, id="absent"),
    ],
)
async def test_rate_limit_retry_after(
    session: ClientSession,
    scripted_server: StartServer,
    header: dict[str, str],
    expected: float | None,
) -> None:
    server = await scripted_server(
        reply(
            429,
            '{"message": "TooManyRequests"}',
            content_type="application/json",
            headers=header,
        )
    )
    client = make_client(session, server)

    with pytest.raises(ThorRateLimitError) as err:
        await client.start_charge("EaJ7", 1)

    assert err.value.status == 429
    assert err.value.code == "TooManyRequests"
    assert err.value.retry_after == expected


@pytest.mark.freeze_time("2026-03-01 12:00:00+00:00")
def test_retry_after_http_date() -> None:
    """An HTTP date is turned into the seconds left until then."""
    when = datetime(2026, 3, 1, 12, 2, 30, tzinfo=UTC)

    assert _retry_after(format_datetime(when, usegmt=True)) == 150.0
    # A date without a zone is taken as UTC.
    assert _retry_after("Sun, 01 Mar 2026 12:01:00 -0000") == 60.0
    assert _retry_after(format_datetime(when - timedelta(hours=1), usegmt=True)) == 0.0


# --- successful answers that cannot be used --------------------------------------


@pytest.mark.parametrize(
    ("handler", "call"),
    [
        pytest.param(
            reply(200, "not json", content_type="text/plain"), "get", id="get-not-json"
        ),
        pytest.param(
            reply(200, "", content_type="application/json"), "get", id="get-empty"
        ),
        pytest.param(reply(200, json_body={"id": "cb"}), "get", id="get-no-connectors"),
        pytest.param(reply(200, json_body={"connectors": []}), "get", id="get-no-id"),
        pytest.param(reply(200, json_body={"items": []}), "list", id="list-not-array"),
        pytest.param(
            reply(200, json_body=[{"alias": "x"}]), "list", id="list-item-no-id"
        ),
        pytest.param(
            reply(200, "[", content_type="application/json"),
            "list",
            id="list-truncated",
        ),
        pytest.param(
            reply(200, json_body={"charges": []}), "running", id="running-no-items"
        ),
        pytest.param(reply(200, json_body={"ok": True}), "start", id="start-no-id-tag"),
        pytest.param(
            reply(200, json_body={"id_tag": ""}), "start", id="start-empty-id-tag"
        ),
        pytest.param(
            reply(200, json_body={"id_tag": 123}), "start", id="start-numeric-id-tag"
        ),
        pytest.param(reply(200, json_body=["abc"]), "start", id="start-array"),
        pytest.param(
            reply(200, "", content_type="application/json"), "start", id="start-empty"
        ),
    ],
)
async def test_unusable_success_answers_are_response_errors(
    session: ClientSession, scripted_server: StartServer, handler: Handler, call: str
) -> None:
    server = await scripted_server(handler)
    client = make_client(session, server)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "get": lambda: client.get_chargebox("cb"),
        "list": client.list_chargeboxes,
        "running": client.running_charges,
        "start": lambda: client.start_charge("cb", 1),
    }

    with pytest.raises(ThorResponseError) as err:
        await calls[call]()

    assert err.value.status in (200, None)


async def test_stop_ignores_the_body_of_a_success(
    session: ClientSession, scripted_server: StartServer
) -> None:
    """Stop answers with an empty body; anything else on a 200 is still a success."""
    server = await scripted_server(reply(200, "OK", content_type="text/plain"))
    client = make_client(session, server)

    await client.stop_charge("cb", 1, "tag")

    assert server.received[0].path == f"{PREFIX}/charges/stop"


async def test_list_404_means_no_chargeboxes(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(
        reply(404, '{"message": "ChargeboxNotFound"}', content_type="application/json")
    )
    client = make_client(session, server)

    assert await client.list_chargeboxes() == []


async def test_redirect_is_not_followed_and_the_key_stays_home(
    session: ClientSession, scripted_server: StartServer
) -> None:
    """A redirect to another host must not carry the X-Api-Key header there."""
    elsewhere = await scripted_server(reply(200, json_body=[]))

    async def redirect(_request: web.Request) -> web.StreamResponse:
        # A JSON body, so that only the status tells the answer is not the data.
        raise web.HTTPFound(
            f"{elsewhere.base_url}/chargeboxes",
            text="[]",
            content_type="application/json",
        )

    server = await scripted_server(redirect)
    client = make_client(session, server)

    with pytest.raises(ThorResponseError) as err:
        await client.list_chargeboxes()

    assert err.value.status == 302
    assert len(server.received) == 1
    assert elsewhere.received == []


# --- what goes on the wire -------------------------------------------------------


async def test_requests_carry_key_and_json(
    session: ClientSession, scripted_server: StartServer
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/charges/start"):
            return web.json_response({"id_tag": "172osiu83hys82shy28j"})
        if request.path.endswith("/charges/stop"):
            return web.Response()
        if request.path.endswith("/charges/running"):
            return web.json_response({"count": 0, "items": []})
        return web.json_response([])

    server = await scripted_server(handler)
    client = make_client(session, server)

    assert await client.list_chargeboxes(only_active=False) == []
    assert await client.list_chargeboxes() == []
    assert await client.running_charges() == []
    assert await client.start_charge("EaJ7", 2) == "172osiu83hys82shy28j"
    await client.stop_charge("EaJ7", 2, "172osiu83hys82shy28j")
    await client.stop_charge("EaJ7", 2, "172osiu83hys82shy28j", transaction=0)

    assert [(r.method, r.path, r.query, r.body) for r in server.received] == [
        ("GET", f"{PREFIX}/chargeboxes", {"onlyactive": "false"}, None),
        ("GET", f"{PREFIX}/chargeboxes", {"onlyactive": "true"}, None),
        ("GET", f"{PREFIX}/charges/running", {}, None),
        ("POST", f"{PREFIX}/charges/start", {}, {"chargebox": "EaJ7", "connector": 2}),
        (
            "POST",
            f"{PREFIX}/charges/stop",
            {},
            {"chargebox": "EaJ7", "connector": 2, "id_tag": "172osiu83hys82shy28j"},
        ),
        (
            "POST",
            f"{PREFIX}/charges/stop",
            {},
            {
                "chargebox": "EaJ7",
                "connector": 2,
                "id_tag": "172osiu83hys82shy28j",
                "transaction": 0,
            },
        ),
    ]
    for received in server.received:
        assert received.headers["X-Api-Key"] == API_KEY
    for received in server.received[3:]:
        assert received.headers["Content-Type"].startswith("application/json")


async def test_base_url_with_trailing_slash(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(reply(200, json_body=[]))
    client = ThorClient(
        session=session, api_key=API_KEY, base_url=server.base_url + "/"
    )

    await client.list_chargeboxes()

    assert server.received[0].raw_path == f"{PREFIX}/chargeboxes"


@pytest.mark.parametrize(
    "chargebox_id",
    ["../x", "..", ".", "a/b?c#d", "../../charges/start", "%2E%2E", "a b", "ü/€", "?"],
)
async def test_chargebox_id_is_one_literal_path_segment(
    session: ClientSession, scripted_server: StartServer, chargebox_id: str
) -> None:
    """No id can climb out of /chargeboxes/, add a query or a fragment."""
    server = await scripted_server(
        reply(200, json_body={"id": chargebox_id, "connectors": []})
    )
    client = make_client(session, server)

    box = await client.get_chargebox(chargebox_id)

    assert box.id == chargebox_id
    (received,) = server.received
    prefix = f"{PREFIX}/chargeboxes/"
    assert received.raw_path.startswith(prefix)
    segment = received.raw_path.removeprefix(prefix)
    # A proxy in front of Thor would collapse a raw "." or ".." segment.
    assert segment not in {".", ".."}
    assert "/" not in segment
    assert "?" not in segment
    assert "#" not in segment
    assert received.path == prefix + chargebox_id
    assert received.query == {}


async def test_chargebox_filter_of_running_charges_is_escaped(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(reply(200, json_body={"count": 0, "items": []}))
    client = make_client(session, server)

    await client.running_charges("a&b=c#d ?/")

    (received,) = server.received
    assert received.path == f"{PREFIX}/charges/running"
    assert received.query == {"chargebox": "a&b=c#d ?/"}


@pytest.mark.parametrize("chargebox_id", ["", " ", "\t\n", 17])
async def test_invalid_chargebox_id_sends_nothing(
    session: ClientSession, scripted_server: StartServer, chargebox_id: Any
) -> None:
    server = await scripted_server(reply(200, json_body={}))
    client = make_client(session, server)

    with pytest.raises(ValueError, match="chargebox id"):
        await client.get_chargebox(chargebox_id)
    with pytest.raises(ValueError, match="chargebox id"):
        await client.running_charges(chargebox_id)
    with pytest.raises(ValueError, match="chargebox id"):
        await client.start_charge(chargebox_id, 1)
    with pytest.raises(ValueError, match="chargebox id"):
        await client.stop_charge(chargebox_id, 1, "tag")

    assert server.received == []


@pytest.mark.parametrize("connector", [0, -1, True, False, 1.0, "1", None])
async def test_invalid_connector_sends_nothing(
    session: ClientSession, scripted_server: StartServer, connector: Any
) -> None:
    server = await scripted_server(reply(200, json_body={}))
    client = make_client(session, server)

    with pytest.raises(ValueError, match="connector"):
        await client.start_charge("cb", connector)
    with pytest.raises(ValueError, match="connector"):
        await client.stop_charge("cb", connector, "tag")

    assert server.received == []


@pytest.mark.parametrize(
    ("id_tag", "transaction", "match"),
    [
        ("", None, "id_tag"),
        (None, None, "id_tag"),
        (1234, None, "id_tag"),
        ("tag", "7", "transaction"),
        ("tag", 7.0, "transaction"),
        ("tag", True, "transaction"),
    ],
)
async def test_invalid_stop_arguments_send_nothing(
    session: ClientSession,
    scripted_server: StartServer,
    id_tag: Any,
    transaction: Any,
    match: str,
) -> None:
    server = await scripted_server(reply(200))
    client = make_client(session, server)

    with pytest.raises(ValueError, match=match):
        await client.stop_charge("cb", 1, id_tag, transaction)

    assert server.received == []


# --- transport failures ----------------------------------------------------------


async def test_dropped_connection_is_a_connection_error(
    session: ClientSession, scripted_server: StartServer
) -> None:
    async def drop(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    server = await scripted_server(drop)
    client = make_client(session, server)

    with pytest.raises(ThorConnectionError) as err:
        await client.list_chargeboxes()

    assert not isinstance(err.value, ThorTimeoutError)
    assert err.value.status is None
    assert err.value.code is None


async def test_refused_connection_is_a_connection_error(session: ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ThorClient(
        session=session, api_key=API_KEY, base_url=f"http://127.0.0.1:{port}{PREFIX}"
    )

    with pytest.raises(ThorConnectionError):
        await client.list_chargeboxes()


async def test_hanging_server_is_a_timeout_and_start_is_sent_once(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server: ScriptedServer

    async def hang(_request: web.Request) -> web.StreamResponse:
        await server.release.wait()
        return web.Response()

    server = await scripted_server(hang)
    client = make_client(session, server, request_timeout=0.2)

    with pytest.raises(ThorTimeoutError) as err:
        await client.start_charge("cb", 1)

    assert isinstance(err.value, ThorConnectionError)
    assert err.value.status is None
    assert "0.2 s" in str(err.value)
    assert [(r.method, r.path) for r in server.received] == [
        ("POST", f"{PREFIX}/charges/start")
    ]


# --- secrets ---------------------------------------------------------------------


def assert_no_key(text: str) -> None:
    """Fail if the API key (or a recognisable part of it) is in `text`."""
    assert API_KEY not in text
    assert API_KEY[-12:] not in text


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(
            403,
            f'{{"message": "APIKeyNotFound", "key": "{API_KEY}"}}',
            id="json-extra-field",
        ),
        pytest.param(
            403, f'{{"message": "APIKeyNotFound: {API_KEY}"}}', id="json-in-message"
        ),
        pytest.param(500, f"No tenant for key {API_KEY}", id="text-500"),
        pytest.param(400, f'{{"error": "bad key {API_KEY}"}}', id="json-400-no-code"),
        pytest.param(503, f"<html>{API_KEY}</html>", id="html"),
    ],
)
async def test_key_echoed_by_the_server_is_never_exposed(
    session: ClientSession,
    scripted_server: StartServer,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await scripted_server(reply(status, body, content_type="text/plain"))
    client = make_client(session, server)

    with pytest.raises(ThorError) as err:
        await client.get_chargebox("cb")

    assert err.value.status == status
    assert_no_key(str(err.value))
    assert_no_key(repr(err.value))
    assert_no_key(repr(err.value.args))
    assert_no_key(repr(client))
    assert_no_key(str(client))
    assert caplog.records  # the client did log at DEBUG
    for record in caplog.records:
        assert_no_key(record.getMessage())
        assert_no_key(repr(record.args))


async def test_key_is_redacted_in_an_echoed_detail(
    session: ClientSession, scripted_server: StartServer
) -> None:
    """The rest of an echoed message stays readable."""
    server = await scripted_server(
        reply(500, f"No tenant for key {API_KEY}", content_type="text/plain")
    )
    client = make_client(session, server)

    with pytest.raises(ThorServerError) as err:
        await client.list_chargeboxes()

    assert "No tenant for key **REDACTED**" in str(err.value)


async def test_key_not_logged_on_success_or_transport_failure(
    session: ClientSession,
    scripted_server: StartServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await scripted_server(reply(200, json_body={"id_tag": API_KEY}))
    client = make_client(session, server)
    await client.start_charge("cb", 1)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = ThorClient(
        session=session, api_key=API_KEY, base_url=f"http://127.0.0.1:{port}{PREFIX}"
    )
    with pytest.raises(ThorConnectionError) as err:
        await closed.list_chargeboxes()

    assert_no_key(str(err.value))
    assert len(caplog.records) >= 2
    for record in caplog.records:
        assert_no_key(record.getMessage())


# --- configuration and session ---------------------------------------------------


class RecordingResolver(AbstractResolver):
    """A resolver that records host names and resolves none (no network is used)."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.hosts.append(host)
        raise OSError("resolution disabled in tests")

    async def close(self) -> None:
        """Nothing to release."""


@pytest.mark.parametrize(
    ("base_url", "host"),
    [
        (PRODUCTION_BASE_URL, "api.thor.tools"),
        (DEVELOPMENT_BASE_URL, "dev.api.thor.tools"),
    ],
)
async def test_base_url_selects_the_host(base_url: str, host: str) -> None:
    """Both documented hosts can be used; the client goes to the one configured."""
    urls: list[str] = []

    async def on_request_start(
        _session: ClientSession, _context: Any, params: TraceRequestStartParams
    ) -> None:
        urls.append(str(params.url))

    trace = TraceConfig()
    trace.on_request_start.append(on_request_start)
    resolver = RecordingResolver()

    async with ClientSession(
        connector=TCPConnector(resolver=resolver), trace_configs=[trace]
    ) as session:
        client = ThorClient(session=session, api_key=API_KEY, base_url=base_url)
        with pytest.raises(ThorConnectionError):
            await client.list_chargeboxes()

    assert urls == [f"https://{host}/latest/integration/chargeboxes?onlyactive=true"]
    assert resolver.hosts == [host]


async def test_defaults(session: ClientSession) -> None:
    assert PRODUCTION_BASE_URL == "https://api.thor.tools/latest/integration"
    assert DEVELOPMENT_BASE_URL == "https://dev.api.thor.tools/latest/integration"
    client = ThorClient(session=session, api_key=API_KEY)
    assert client.base_url == PRODUCTION_BASE_URL
    assert client.request_timeout == DEFAULT_REQUEST_TIMEOUT


async def test_injected_session_is_not_closed(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(reply(200, json_body=[]))

    async with make_client(session, server) as client:
        assert await client.list_chargeboxes() == []

    assert not session.closed
    async with make_client(session, server) as client:
        assert await client.list_chargeboxes() == []
    assert len(server.received) == 2
