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
    ThorAlreadyInTransactionError,
    ThorAuthenticationError,
    ThorBadRequestError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorConnectionError,
    ThorError,
    ThorInvalidConnectorError,
    ThorNotInTransactionError,
    ThorPaymentRequiredError,
    ThorRateLimitError,
    ThorResponseError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorTimeoutError,
    ThorWrongTransactionError,
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
        pytest.param("  ChargeboxNotFound\r\n", "text/plain", id="text-padded"),
        pytest.param('{"message": " ChargeboxNotFound "}', JSON, id="json-padded"),
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
    """Undecodable bytes are no identifier; the status still decides."""
    server = await scripted_server(
        reply(404, b"\xff\xfeChargeboxNotFound\xff", content_type="text/plain")
    )
    client = make_client(session, server)

    with pytest.raises(ThorChargeboxNotFoundError) as err:
        await client.get_chargebox("EaJ7")

    assert err.value.status == 404
    assert err.value.code is None


# --- Retry-After -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "requested", "wait"),
    [
        pytest.param({"Retry-After": "30"}, 30.0, 30.0, id="seconds"),
        pytest.param({"Retry-After": "120"}, 120.0, 120.0, id="minutes"),
        pytest.param({"Retry-After": " 2.5 "}, 2.5, 30.0, id="fraction"),
        pytest.param({"Retry-After": "-4"}, 0.0, 30.0, id="negative"),
        pytest.param({"Retry-After": "0"}, 0.0, 30.0, id="zero"),
        pytest.param({"Retry-After": "1e308"}, 1e308, 300.0, id="huge"),
        pytest.param(
            {"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"}, 0.0, 30.0, id="past"
        ),
        pytest.param({"Retry-After": "soon"}, None, 60.0, id="junk"),
        pytest.param({"Retry-After": "inf"}, None, 60.0, id="infinite"),
        pytest.param({"Retry-After": "nan"}, None, 60.0, id="nan"),
        pytest.param({"Retry-After": ""}, None, 60.0, id="empty"),
        pytest.param({}, None, 60.0, id="absent"),
    ],
)
async def test_rate_limit_retry_after(
    session: ClientSession,
    scripted_server: StartServer,
    header: dict[str, str],
    requested: float | None,
    wait: float,
) -> None:
    """The error carries a bounded wait; Thor's own value is kept for diagnostics."""
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
    assert err.value.retry_after == wait
    assert err.value.requested_retry_after == requested


async def test_retry_after_date_is_read_against_thors_clock(
    session: ClientSession, scripted_server: StartServer
) -> None:
    """A local clock ahead of Thor's must not turn a future date into no wait."""
    thor_now = datetime(2001, 1, 1, 12, 0, tzinfo=UTC)
    server = await scripted_server(
        reply(
            429,
            '{"message": "TooManyRequests"}',
            content_type=JSON,
            headers={
                "Date": format_datetime(thor_now, usegmt=True),
                "Retry-After": format_datetime(
                    thor_now + timedelta(seconds=120), usegmt=True
                ),
            },
        )
    )
    client = make_client(session, server)

    with pytest.raises(ThorRateLimitError) as err:
        await client.list_chargeboxes()

    assert err.value.requested_retry_after == 120.0
    assert err.value.retry_after == 120.0


@pytest.mark.freeze_time("2026-03-01 12:00:00+00:00")
def test_retry_after_http_date() -> None:
    """An HTTP date is turned into the seconds left until then."""
    when = datetime(2026, 3, 1, 12, 2, 30, tzinfo=UTC)

    assert _retry_after(format_datetime(when, usegmt=True)) == 150.0
    # A date without a zone is taken as UTC.
    assert _retry_after("Sun, 01 Mar 2026 12:01:00 -0000") == 60.0
    assert _retry_after(format_datetime(when - timedelta(hours=1), usegmt=True)) == 0.0


@pytest.mark.freeze_time("2026-03-01 12:00:00+00:00")
@pytest.mark.parametrize(
    ("date", "expected"),
    [
        pytest.param("Sun, 01 Mar 2026 11:00:00 GMT", 3750.0, id="thor-behind"),
        pytest.param("Sun, 01 Mar 2026 13:00:00 GMT", 0.0, id="thor-ahead"),
        pytest.param("Sun, 01 Mar 2026 12:02:00 -0000", 30.0, id="naive"),
        pytest.param("yesterday", 150.0, id="unparseable-uses-local-clock"),
        pytest.param("", 150.0, id="empty-uses-local-clock"),
        pytest.param(None, 150.0, id="absent-uses-local-clock"),
    ],
)
def test_retry_after_http_date_relative_to_the_date_header(
    date: str | None, expected: float
) -> None:
    when = format_datetime(datetime(2026, 3, 1, 12, 2, 30, tzinfo=UTC), usegmt=True)

    assert _retry_after(when, date) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("45", 45.0),
        ("1e308", 1e308),
        ("-3", 0.0),
        ("inf", None),
        ("-inf", None),
        pytest.param("1" * 400, None, id="overflows-to-inf"),
        ("Sun, 32 Mar 2026 12:00:00 GMT", None),
        ("Sun, 01 Mar 99999 12:00:00 GMT", None),
        ("\x00", None),
    ],
)
def test_retry_after_seconds_and_junk(value: str, expected: float | None) -> None:
    assert _retry_after(value, None) == expected


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


# --- which identifiers are trusted -----------------------------------------------

# Thor's documented (status, identifier) pairs, written out here independently of the
# client's own table.
DOCUMENTED = [
    (403, "APIKeyNotFound", ThorAuthenticationError),
    (403, "RestAPINotEnabled", ThorRestApiDisabledError),
    (403, "InvalidSourceIPAddr", ThorSourceIPError),
    (403, "ChargeboxNotActive", ThorChargeboxNotActiveError),
    (404, "ChargeboxNotFound", ThorChargeboxNotFoundError),
    (402, "ChargeboxNotFree", ThorPaymentRequiredError),
    (400, "ConnectorNotValid", ThorInvalidConnectorError),
    (400, "AlreadyInTransaction", ThorAlreadyInTransactionError),
    (400, "NotInTransaction", ThorNotInTransactionError),
    (400, "WrongTransaction", ThorWrongTransactionError),
    (400, "BoundsTooBig", ThorBadRequestError),
    (429, "TooManyRequests", ThorRateLimitError),
    (500, "InternalServerError", ThorServerError),
]


@pytest.mark.parametrize(
    ("status", "code", "cls"), DOCUMENTED, ids=[code for _, code, _ in DOCUMENTED]
)
@pytest.mark.parametrize(
    "shape",
    [
        '{{"message": "{}"}}',
        '{{"errorMessage": " {} "}}',
        '{{"error": {{"status": 1, "message": "{}"}}}}',
        '"{}"',
        "{}",
    ],
    ids=["json", "json-padded", "json-nested", "json-string", "text"],
)
async def test_documented_identifier_with_its_status(
    session: ClientSession,
    scripted_server: StartServer,
    *,
    status: int,
    code: str,
    cls: type[ThorError],
    shape: str,
) -> None:
    server = await scripted_server(
        reply(status, shape.format(code.upper()), content_type="text/plain")
    )
    client = make_client(session, server)

    with pytest.raises(ThorError) as err:
        await client.get_chargebox("cb")

    assert type(err.value) is cls
    assert (err.value.status, err.value.code) == (status, code)
    assert str(err.value) == f"Thor answered HTTP {status} {code}"


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        pytest.param(
            500, '{"message": "APIKeyNotFound"}', ThorServerError, id="500-auth-code"
        ),
        pytest.param(502, "RestAPINotEnabled", ThorServerError, id="502-dashboard"),
        pytest.param(
            503, '{"error": "InvalidSourceIPAddr"}', ThorServerError, id="503-ip"
        ),
        pytest.param(
            404,
            '{"message": "APIKeyNotFound"}',
            ThorChargeboxNotFoundError,
            id="404-auth-code",
        ),
        pytest.param(
            403,
            '{"message": "ChargeboxNotFound"}',
            ThorAccessDeniedError,
            id="403-not-found-code",
        ),
        pytest.param(
            400,
            '{"message": "TooManyRequests"}',
            ThorBadRequestError,
            id="400-rate-code",
        ),
        pytest.param(
            429,
            '{"message": "InternalServerError"}',
            ThorRateLimitError,
            id="429-server-code",
        ),
        pytest.param(
            401, '{"message": "APIKeyNotFound"}', ThorAuthenticationError, id="401"
        ),
        pytest.param(418, '"ChargeboxNotFree"', ThorError, id="418-json-string"),
    ],
)
async def test_identifier_with_another_status_is_not_trusted(
    session: ClientSession,
    scripted_server: StartServer,
    *,
    status: int,
    body: str,
    cls: type[ThorError],
) -> None:
    """A proxy's error page quoting an identifier must not pass for Thor's answer."""
    server = await scripted_server(reply(status, body, content_type=JSON))
    client = make_client(session, server)

    with pytest.raises(ThorError) as err:
        await client.get_chargebox("cb")

    assert type(err.value) is cls
    assert (err.value.status, err.value.code) == (status, None)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"message": "Invalid key: APIKeyNotFound"}', id="json-sentence"),
        pytest.param('{"message": "APIKeyNotFoundX"}', id="json-longer-word"),
        pytest.param('{"detail": "APIKeyNotFound"}', id="json-other-field"),
        pytest.param(
            '{"error": {"inner": {"message": "APIKeyNotFound"}}}', id="json-too-deep"
        ),
        pytest.param('{"message": ["APIKeyNotFound"]}', id="json-list"),
        pytest.param('["APIKeyNotFound"]', id="json-array"),
        pytest.param("Error: APIKeyNotFound (see logs)", id="text-sentence"),
        pytest.param("<p>APIKeyNotFound</p>", id="html"),
    ],
)
async def test_identifier_inside_other_text_is_not_trusted(
    session: ClientSession, scripted_server: StartServer, body: str
) -> None:
    """Only a field that IS an identifier counts; a 403 stays a plain refusal."""
    server = await scripted_server(reply(403, body, content_type="text/plain"))
    client = make_client(session, server)

    with pytest.raises(ThorError) as err:
        await client.list_chargeboxes()

    assert type(err.value) is ThorAccessDeniedError
    assert (err.value.status, err.value.code) == (403, None)


async def test_untrusted_identifier_is_still_shown_as_detail(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(
        reply(500, '{"message": "APIKeyNotFound"}', content_type=JSON)
    )
    client = make_client(session, server)

    with pytest.raises(ThorServerError) as err:
        await client.list_chargeboxes()

    assert str(err.value) == "Thor answered HTTP 500: APIKeyNotFound"


# --- deeply nested JSON ----------------------------------------------------------

DEEP = "[" * 100_000


@pytest.mark.parametrize(
    "body",
    [DEEP, '{"message": ' + DEEP, '{"a": ' * 100_000],
    ids=["array", "in-message", "object"],
)
async def test_deep_json_in_a_success_is_a_response_error(
    session: ClientSession, scripted_server: StartServer, body: str
) -> None:
    server = await scripted_server(reply(200, body, content_type=JSON))
    client = make_client(session, server)

    with pytest.raises(ThorResponseError) as err:
        await client.get_chargebox("cb")

    assert err.value.status == 200


@pytest.mark.parametrize(
    "body", [DEEP, '{"message": ' + DEEP], ids=["array", "in-message"]
)
async def test_deep_json_in_an_error_has_no_identifier(
    session: ClientSession, scripted_server: StartServer, body: str
) -> None:
    server = await scripted_server(reply(403, body, content_type=JSON))
    client = make_client(session, server)

    with pytest.raises(ThorError) as err:
        await client.list_chargeboxes()

    assert type(err.value) is ThorAccessDeniedError
    assert (err.value.status, err.value.code) == (403, None)
    assert len(str(err.value)) < 300


# --- redaction after decoding ----------------------------------------------------

SLASH_KEY = "tk/live/9f8e7d6c5b4a39281706"


def json_escaped(text: str) -> str:
    """Return `text` with every character as a \\uXXXX JSON escape."""
    return "".join(f"\\u{ord(char):04x}" for char in text)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(
            403, '{"message": "bad key tk\\/live\\/9f8e7d6c5b4a39281706"}', id="slash"
        ),
        pytest.param(
            403, f'{{"message": "bad key {json_escaped(SLASH_KEY)}"}}', id="unicode"
        ),
        pytest.param(
            500,
            f'{{"error": {{"detail": "key {json_escaped(SLASH_KEY[:6])}{SLASH_KEY[6:]}"}}}}',
            id="nested-partly-escaped",
        ),
        pytest.param(
            400, '"no tenant for tk\\/live\\/9f8e7d6c5b4a39281706"', id="json-string"
        ),
        pytest.param(503, f"plain {SLASH_KEY} text", id="text"),
    ],
)
async def test_escaped_key_is_redacted_after_decoding(
    session: ClientSession,
    scripted_server: StartServer,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await scripted_server(reply(status, body, content_type=JSON))
    client = ThorClient(session=session, api_key=SLASH_KEY, base_url=server.base_url)

    with pytest.raises(ThorError) as err:
        await client.list_chargeboxes()

    assert "**REDACTED**" in str(err.value)
    for text in (str(err.value), repr(err.value), repr(err.value.args), caplog.text):
        assert SLASH_KEY not in text
        assert SLASH_KEY[-12:] not in text


async def test_redaction_is_case_sensitive_and_exact(
    session: ClientSession, scripted_server: StartServer
) -> None:
    """Only the exact key is replaced; the rest of the detail stays readable."""
    server = await scripted_server(
        reply(
            500,
            '{"message": "Secret-Key secret-key Secret-Ke\\u0079 SECRET-KEY"}',
            content_type=JSON,
        )
    )
    client = ThorClient(session=session, api_key="Secret-Key", base_url=server.base_url)

    with pytest.raises(ThorServerError) as err:
        await client.list_chargeboxes()

    assert str(err.value) == (
        "Thor answered HTTP 500: **REDACTED** secret-key **REDACTED** SECRET-KEY"
    )


ID_TAG = "172osiu83hys82shy28j"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f'{{"message": "WrongTransaction for {ID_TAG}"}}', id="json"),
        pytest.param(
            f'{{"message": "no charge for {json_escaped(ID_TAG)}"}}', id="escaped"
        ),
        pytest.param(f"id_tag {ID_TAG} is not running", id="text"),
    ],
)
async def test_id_tag_echoed_in_a_stop_error_is_redacted(
    session: ClientSession,
    scripted_server: StartServer,
    caplog: pytest.LogCaptureFixture,
    body: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = await scripted_server(reply(400, body, content_type=JSON))
    client = make_client(session, server)

    with pytest.raises(ThorBadRequestError) as err:
        await client.stop_charge("cb", 1, ID_TAG)

    assert server.received[0].body["id_tag"] == ID_TAG
    assert "**REDACTED**" in str(err.value)
    for text in (str(err.value), repr(err.value), repr(err.value.args), caplog.text):
        assert ID_TAG not in text


# --- an answer about another chargebox -------------------------------------------


@pytest.mark.parametrize("answered", ["other", "CB", "cb ", 17])
async def test_chargebox_answer_for_another_id_is_a_response_error(
    session: ClientSession, scripted_server: StartServer, answered: object
) -> None:
    server = await scripted_server(
        reply(200, json_body={"id": answered, "connectors": []})
    )
    client = make_client(session, server)

    with pytest.raises(ThorResponseError) as err:
        await client.get_chargebox("cb")

    assert err.value.status == 200


async def test_numeric_chargebox_id_matches_its_string(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(reply(200, json_body={"id": 17, "connectors": []}))
    client = make_client(session, server)

    assert (await client.get_chargebox("17")).id == "17"
