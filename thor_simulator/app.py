"""HTTP layer: Thor's integration API and the simulator's admin API."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import json
import logging
from typing import TYPE_CHECKING, Any, TypeIs

from aiohttp import web

from .errors import ApiError, SimulatorError, UnknownChargeboxError, code_for_status
from .faults import Faults
from .models import CHARGEBOX_SCALARS, epoch_ms

if TYPE_CHECKING:
    from .simulator import ThorSimulator

API_PREFIX = "/latest/integration"
ADMIN_PREFIX = "/_simulator"
API_KEY_HEADER = "X-Api-Key"
LOGGER = logging.getLogger(__package__)

_LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
_TRUE = ("true", "1")
_FALSE = ("false", "0")
_BBOX = ("cnelat", "cnelng", "cswlat", "cswlng")
_MAX_SPAN = 2.0
# Longest charges/finished range, days from `from` to `to` inclusive. Thor documents
# no limit (its error table is truncated): our assumption.
MAX_HISTORY_DAYS = 366
_MALFORMED_JSON = '{"count": 1, "items": [{"chargebox": "EaJ7cU9NJ3Yk'
_HTML_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The faults taken by an API request, for handlers whose answer they change.
FAULTS_KEY = web.RequestKey("thor_faults", Faults)


def error_response(
    err: ApiError, faults: Faults, raw_body: str | None = None
) -> web.Response:
    """Render an API error in the body shape the faults ask for (or `raw_body`)."""
    headers = dict(err.headers)
    if err.status == 429 and faults.retry_after_header is not None:
        headers["Retry-After"] = faults.retry_after_header
    if not faults.retry_after:
        headers.pop("Retry-After", None)
    if raw_body is not None:
        try:
            json.loads(raw_body)
        except ValueError:
            content_type = "text/plain"
        else:
            content_type = "application/json"
        return web.Response(
            status=err.status,
            text=raw_body,
            content_type=content_type,
            headers=headers,
        )
    shape = faults.error_body
    if shape == "empty":
        return web.Response(status=err.status, headers=headers)
    if shape == "text":
        return web.Response(status=err.status, text=err.code, headers=headers)
    data: dict[str, str]
    if shape == "json_error":
        data = {"error": err.code}
    elif shape == "json_code":
        data = {"code": err.code, "message": err.detail}
    else:
        data = {"message": err.code}
    return web.json_response(data, status=err.status, headers=headers)


def _drop(request: web.Request) -> web.Response:
    """Close the connection without answering."""
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response()


def _target(request: web.Request) -> str:
    """Return the percent-decoded path and query string of a request."""
    query = request.query_string
    return f"{request.path}?{query}" if query else request.path


def _endpoint(request: web.Request) -> str:
    """Return `METHOD /route?names` of a request, for counting requests per endpoint.

    The route is taken under the API prefix with its ids left as `{chargebox_id}`,
    followed by the sorted names of the query parameters sent. E.g. `GET /chargeboxes`, `GET /chargeboxes/{chargebox_id}`, `GET
    /charges/running?chargebox`; a path no route matches is kept as sent (under
    the prefix), e.g. `GET /nope`.
    """
    resource = request.match_info.route.resource
    route = request.path if resource is None else resource.canonical
    route = route.removeprefix(API_PREFIX) or "/"
    names = sorted(set(request.query))
    return f"{request.method} {route}" + (f"?{'&'.join(names)}" if names else "")


def _is_under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


# Extra fields accepted when adding a chargebox through the admin API.
_ADD_FIELDS: dict[str, tuple[type, ...]] = {
    "chargebox_id": (str,),
    "power": (int,),
    "connector_type": (str,),
    "connector_format": (str,),
    "max_amperage": (int,),
    "power_type": (str,),
}


def _has_type(value: Any, types: tuple[type, ...]) -> bool:
    """Return whether a JSON value has one of `types` (booleans only for bool)."""
    return isinstance(value, types) and isinstance(value, bool) == (bool in types)


def _is_int(value: object) -> TypeIs[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeIs[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


async def _read_json_object(request: web.Request) -> dict[str, Any] | None:
    """Return the JSON object of the body, {} when empty, None when not an object."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def build_app(sim: ThorSimulator) -> web.Application:
    """Return the application serving `sim`."""

    # ------------------------------------------------------------ middleware

    async def inject(request: web.Request, faults: Faults) -> web.StreamResponse | None:
        """Apply the injected faults; return the answer they produce, if any."""
        if faults.latency > 0:
            try:
                async with asyncio.timeout(faults.latency):
                    await sim.closing.wait()
            except TimeoutError:
                pass
            else:
                return _drop(request)
        if faults.hang:
            await sim.closing.wait()
            return _drop(request)
        if faults.drop_connection:
            return _drop(request)
        if faults.html_error:
            return web.Response(status=502, text=_HTML_502, content_type="text/html")
        if faults.status is not None:
            headers = {}
            if faults.status == 429:
                headers["Retry-After"] = str(faults.retry_after_seconds)
            code = faults.code or code_for_status(faults.status)
            raw_body = None
            if faults.error_raw_body is not None:
                raw_body = await fill_placeholders(request, faults.error_raw_body)
            return error_response(
                ApiError(faults.status, code, headers=headers), faults, raw_body
            )
        if faults.malformed_json:
            return web.Response(
                status=200, text=_MALFORMED_JSON, content_type="application/json"
            )
        return None

    async def fill_placeholders(request: web.Request, template: str) -> str:
        """Put the API key and the body's id_tag into an error body template."""
        text = template
        if "{api_key}" in text:
            sent = request.headers.get(API_KEY_HEADER)
            keys = sorted(sim.api_keys)
            key = sent if sent in sim.api_keys else (keys[0] if keys else "")
            text = text.replace("{api_key}", key)
        if "{id_tag}" in text:
            id_tag = ((await _read_json_object(request)) or {}).get("id_tag")
            if isinstance(id_tag, str):
                text = text.replace("{id_tag}", id_tag)
        return text

    async def api_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log and count, then answer an API request."""
        sim.requests.append((request.method, request.path))
        sim.request_counts.received(
            request.path,
            target=_target(request),
            endpoint=_endpoint(request),
        )
        response = await answer(request, handler)
        transport = request.transport
        # A dropped connection (drop_connection, hang, stop) sent no answer.
        if transport is not None and not transport.is_closing():
            sim.request_counts.answered(response.status)
        return response

    async def answer(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Inject faults, check access and render errors of an API request."""
        faults = sim.faults.take(request.path)
        request[FAULTS_KEY] = faults
        try:
            injected = await inject(request, faults)
            if injected is not None:
                return injected
            sim.check_access(request.headers.get(API_KEY_HEADER), request.remote)
            return await handler(request)
        except ApiError as err:
            return error_response(err, faults)
        except web.HTTPError as exc:
            return error_response(
                ApiError(exc.status, code_for_status(exc.status)), faults
            )
        except Exception:
            LOGGER.exception("Unexpected error in %s %s", request.method, request.path)
            return error_response(ApiError(500, "InternalServerError"), faults)

    async def admin_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Allow loopback callers only and render admin errors as JSON."""
        if request.remote not in _LOOPBACK:
            return web.json_response(
                {"message": "The admin API answers loopback callers only"}, status=403
            )
        try:
            return await handler(request)
        except UnknownChargeboxError as err:
            return web.json_response({"message": str(err)}, status=404)
        except SimulatorError as err:
            return web.json_response({"message": str(err)}, status=400)
        except web.HTTPError as exc:
            return web.json_response({"message": exc.reason}, status=exc.status)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _is_under(request.path, API_PREFIX):
            return await api_guard(request, handler)
        if _is_under(request.path, ADMIN_PREFIX):
            return await admin_guard(request, handler)
        return await handler(request)

    # ------------------------------------------------------------- API

    async def api_body(request: web.Request) -> dict[str, Any]:
        body = await _read_json_object(request)
        if body is None:
            raise ApiError(400, "BadRequest", detail="The body is not a JSON object")
        return body

    def bounding_box(query: Any) -> tuple[float, float, float, float] | None:
        present = [name for name in _BBOX if name in query]
        if not present:
            return None
        if len(present) != len(_BBOX):
            raise ApiError(400, "BadRequest", detail="Send all four bounds or none")
        try:
            ne_lat, ne_lng, sw_lat, sw_lng = (float(query[name]) for name in _BBOX)
        except ValueError:
            raise ApiError(400, "BadRequest", detail="Bounds must be numbers") from None
        if abs(ne_lat - sw_lat) > _MAX_SPAN or abs(ne_lng - sw_lng) > _MAX_SPAN:
            raise ApiError(400, "BoundsTooBig")
        return (
            min(ne_lat, sw_lat),
            max(ne_lat, sw_lat),
            min(ne_lng, sw_lng),
            max(ne_lng, sw_lng),
        )

    async def list_chargeboxes(request: web.Request) -> web.Response:
        query = request.query
        only_active = query.get("onlyactive", "true").strip().lower()
        if only_active not in _TRUE + _FALSE:
            raise ApiError(400, "BadRequest", detail="onlyactive must be true or false")
        box_bounds = bounding_box(query)
        connector_type = query.get("type")
        items = []
        for box in list(sim.chargeboxes.values()):
            if only_active in _TRUE and not box.active:
                continue
            if connector_type and all(c.type != connector_type for c in box.connectors):
                continue
            if box_bounds is not None:
                lat_min, lat_max, lng_min, lng_max = box_bounds
                if not (
                    lat_min <= box.latitude <= lat_max
                    and lng_min <= box.longitude <= lng_max
                ):
                    continue
            item = sim.chargebox_json(box.id)
            if request[FAULTS_KEY].omit_list_connectors:
                item.pop("occupied_connectors", None)
                item.pop("reserved_connectors", None)
            items.append(item)
        return web.json_response(items)

    async def get_chargebox(request: web.Request) -> web.Response:
        chargebox_id = request.match_info["chargebox_id"]
        if chargebox_id not in sim.chargeboxes:
            raise ApiError(404, "ChargeboxNotFound")
        return web.json_response(sim.chargebox_json(chargebox_id))

    async def start_charge(request: web.Request) -> web.Response:
        id_tag = sim.api_start(await api_body(request))
        return web.json_response({"id_tag": id_tag})

    async def stop_charge(request: web.Request) -> web.Response:
        sim.api_stop(await api_body(request))
        return web.Response(status=200)

    async def running_charges(request: web.Request) -> web.Response:
        items = sim.running(request.query.get("chargebox"))
        if request[FAULTS_KEY].omit_running:
            items = []
        return web.json_response({"count": len(items), "items": items})

    def day(query: Any, name: str) -> datetime:
        value = query.get(name)
        if value is None:
            raise ApiError(400, "BadRequest", detail=f"{name} is required")
        try:
            return datetime.strptime(value, "%Y%m%d").replace(tzinfo=UTC)
        except ValueError:
            raise ApiError(
                400, "BadRequest", detail=f"{name} is not YYYYMMDD"
            ) from None

    async def finished_charges(request: web.Request) -> web.Response:
        query = request.query
        start, end = day(query, "from"), day(query, "to")
        if end < start:
            raise ApiError(400, "BadRequest", detail="to is before from")
        if (end - start).days + 1 > MAX_HISTORY_DAYS:
            raise ApiError(400, "RangeTooLarge")
        first = epoch_ms(start.timestamp())
        after_last = epoch_ms((end + timedelta(days=1)).timestamp())
        chargebox = query.get("chargebox")
        items = [
            item
            for item in sim.finished
            if first <= item["date_finished"] < after_last
            and (chargebox is None or item["chargebox"] == chargebox)
        ]
        return web.json_response({"count": len(items), "items": items})

    async def reservations(request: web.Request) -> web.Response:
        items = sim.reservations(request.query.get("chargebox"))
        return web.json_response({"count": len(items), "items": items})

    async def reserve_now(request: web.Request) -> web.Response:
        # Thor's answer is undocumented: we assume the reservation, as listed.
        return web.json_response(sim.api_reserve(await api_body(request)))

    # ----------------------------------------------------------- admin

    async def admin_body(request: web.Request) -> dict[str, Any]:
        body = await _read_json_object(request)
        if body is None:
            raise SimulatorError("The body is not a JSON object")
        return body

    def admin_box(chargebox_id: str) -> dict[str, Any]:
        data = sim.chargebox_json(chargebox_id)
        box = sim.chargeboxes[chargebox_id]
        data["payment_free"] = box.payment_free
        data["reject_starts"] = box.reject_starts
        data["price_per_kwh"] = box.price_per_kwh
        data["start_fee"] = box.start_fee
        data["currency"] = box.currency
        data["payment_method"] = box.payment_method
        return data

    def account() -> dict[str, Any]:
        return {
            "api_keys": sorted(sim.api_keys),
            "rest_enabled": sim.rest_enabled,
            "allowed_source_ip": sim.allowed_source_ip,
        }

    def settings() -> dict[str, float | bool]:
        return {
            "start_delay": sim.start_delay,
            "stop_delay": sim.stop_delay,
            "start_rate_limit": sim.start_rate_limit,
            "cancel_pending_on_stop": sim.cancel_pending_on_stop,
        }

    def connector_arg(body: dict[str, Any]) -> int:
        connector = body.get("connector")
        if not _is_int(connector):
            raise SimulatorError("connector must be an integer")
        return connector

    def chargebox_arg(request: web.Request) -> str:
        chargebox_id = request.match_info["chargebox_id"]
        if chargebox_id not in sim.chargeboxes:
            raise UnknownChargeboxError(f"No chargebox {chargebox_id!r}")
        return chargebox_id

    async def state(_request: web.Request) -> web.Response:
        return web.json_response(
            {
                "now": epoch_ms(sim.now()),
                "account": account(),
                "settings": settings(),
                "chargeboxes": [admin_box(box_id) for box_id in list(sim.chargeboxes)],
                "pending_starts": sim.pending_starts(),
                "running": sim.running(),
                "finished": sim.finished,
                "reservations": sim.reservations(),
                "faults": sim.faults.to_dict(),
                "requests": [list(entry) for entry in sim.requests],
                "request_counts": sim.request_counts.to_dict(),
                "notifications": sim.notifier.to_dict(),
            }
        )

    async def get_notifications(_request: web.Request) -> web.Response:
        return web.json_response(sim.notifier.to_dict())

    async def set_notifications(request: web.Request) -> web.Response:
        return web.json_response(
            sim.configure_notifications(**(await admin_body(request)))
        )

    async def request_counts(_request: web.Request) -> web.Response:
        return web.json_response(sim.request_counts.to_dict())

    async def reset_requests(_request: web.Request) -> web.Response:
        sim.reset_requests()
        return web.json_response(sim.request_counts.to_dict())

    async def set_faults(request: web.Request) -> web.Response:
        body = await admin_body(request)
        try:
            sim.faults.set(**body)
        except (TypeError, ValueError) as err:
            raise SimulatorError(str(err)) from None
        return web.json_response(sim.faults.to_dict())

    async def clear_faults(_request: web.Request) -> web.Response:
        sim.faults.clear()
        return web.json_response(sim.faults.to_dict())

    async def set_account(request: web.Request) -> web.Response:
        body = await admin_body(request)
        checks: dict[str, Callable[[Any], bool]] = {
            "rest_enabled": lambda v: isinstance(v, bool),
            "allowed_source_ip": lambda v: v is None or isinstance(v, str),
            "revoke_key": lambda v: isinstance(v, str),
            "add_key": lambda v: isinstance(v, str) and bool(v),
        }
        for name, value in body.items():
            if name not in checks or not checks[name](value):
                raise SimulatorError(f"Invalid account field {name!r}")
        if "rest_enabled" in body:
            sim.rest_enabled = body["rest_enabled"]
        if "allowed_source_ip" in body:
            sim.allowed_source_ip = body["allowed_source_ip"]
        if "revoke_key" in body:
            sim.revoke_key(body["revoke_key"])
        if "add_key" in body:
            sim.add_key(body["add_key"])
        return web.json_response(account())

    async def set_settings(request: web.Request) -> web.Response:
        body = await admin_body(request)
        for name, value in body.items():
            current = settings().get(name)
            if isinstance(current, bool):
                valid = isinstance(value, bool)
            else:
                valid = current is not None and _is_number(value) and value >= 0
            if not valid:
                raise SimulatorError(f"Invalid setting {name!r}")
        for name, value in body.items():
            setattr(sim, name, value if isinstance(value, bool) else float(value))
        return web.json_response(settings())

    async def add_chargebox(request: web.Request) -> web.Response:
        body = await admin_body(request)
        alias = body.pop("alias", None)
        connectors = body.pop("connectors", 1)
        if not isinstance(alias, str) or not _is_int(connectors) or connectors < 1:
            raise SimulatorError("alias (string) and connectors (>= 1) are required")
        for name, value in body.items():
            types = _ADD_FIELDS.get(name) or CHARGEBOX_SCALARS.get(name)
            if types is None or not _has_type(value, types):
                raise SimulatorError(f"Invalid chargebox field {name!r}")
        try:
            box = sim.add_chargebox(alias=alias, connectors=connectors, **body)
        except (TypeError, ValueError) as err:
            raise SimulatorError(str(err)) from None
        return web.json_response(admin_box(box.id), status=201)

    async def patch_chargebox(request: web.Request) -> web.Response:
        chargebox_id = chargebox_arg(request)
        body = await admin_body(request)
        for name, value in body.items():
            types = CHARGEBOX_SCALARS.get(name)
            if types is None:
                raise SimulatorError(f"{name!r} cannot be changed")
            if not _has_type(value, types):
                raise SimulatorError(f"Invalid value for {name!r}: {value!r}")
        box = sim.chargeboxes[chargebox_id]
        for name, value in body.items():
            setattr(box, name, value)
        return web.json_response(admin_box(chargebox_id))

    async def rfid_start(request: web.Request) -> web.Response:
        chargebox_id = chargebox_arg(request)
        body = await admin_body(request)
        id_tag = body.get("id_tag")
        if not isinstance(id_tag, str):
            raise SimulatorError("id_tag must be a string")
        transaction = sim.start_rfid_charge(
            chargebox_id, connector_arg(body), id_tag, power=body.get("power")
        )
        return web.json_response({"transaction": transaction})

    async def app_start(request: web.Request) -> web.Response:
        chargebox_id = chargebox_arg(request)
        body = await admin_body(request)
        connector = connector_arg(body)
        transaction = sim.start_app_charge(
            chargebox_id, connector, power=body.get("power")
        )
        id_tag = sim.app_tag(chargebox_id, connector)
        return web.json_response({"transaction": transaction, "id_tag": id_tag})

    async def end_charge(request: web.Request) -> web.Response:
        chargebox_id = chargebox_arg(request)
        sim.end_charge(chargebox_id, connector_arg(await admin_body(request)))
        return web.json_response(admin_box(chargebox_id))

    async def reserve(request: web.Request) -> web.Response:
        chargebox_id = chargebox_arg(request)
        body = await admin_body(request)
        minutes = body.get("minutes", 15)
        sim.reserve(chargebox_id, connector_arg(body), minutes=minutes)
        return web.json_response(admin_box(chargebox_id))

    async def finished_charge(request: web.Request) -> web.Response:
        chargebox_id = chargebox_arg(request)
        body = await admin_body(request)
        allowed = {"connector", "started", "finished", "energy", "mode", "id_tag"}
        if unknown := sorted(set(body) - allowed):
            raise SimulatorError(f"Unknown field(s): {', '.join(unknown)}")
        started, finished = body.get("started"), body.get("finished")
        if not _is_int(started) or not _is_int(finished):
            raise SimulatorError("started and finished must be epoch milliseconds")
        item = sim.add_finished_charge(
            chargebox_id,
            connector_arg(body),
            started=started / 1000,
            finished=finished / 1000,
            energy=body.get("energy"),
            mode=body.get("mode", "local"),
            id_tag=body.get("id_tag"),
        )
        return web.json_response(item, status=201)

    async def advance(request: web.Request) -> web.Response:
        seconds = (await admin_body(request)).get("seconds")
        if not _is_number(seconds) or seconds < 0:
            raise SimulatorError("seconds must be a number >= 0")
        sim.advance(float(seconds))
        return web.json_response({"now": epoch_ms(sim.now())})

    async def on_shutdown(_app: web.Application) -> None:
        sim.closing.set()

    app = web.Application(middlewares=[middleware])
    app.on_shutdown.append(on_shutdown)
    api = API_PREFIX
    app.router.add_get(f"{api}/chargeboxes", list_chargeboxes)
    app.router.add_get(f"{api}/chargeboxes/{{chargebox_id}}", get_chargebox)
    app.router.add_post(f"{api}/charges/start", start_charge)
    app.router.add_post(f"{api}/charges/stop", stop_charge)
    app.router.add_get(f"{api}/charges/running", running_charges)
    app.router.add_get(f"{api}/charges/finished", finished_charges)
    app.router.add_get(f"{api}/reservations", reservations)
    app.router.add_post(f"{api}/charges/reservenow", reserve_now)
    admin = ADMIN_PREFIX
    box = f"{admin}/chargeboxes/{{chargebox_id}}"
    app.router.add_get(f"{admin}/state", state)
    app.router.add_post(f"{admin}/faults", set_faults)
    app.router.add_delete(f"{admin}/faults", clear_faults)
    app.router.add_get(f"{admin}/requests", request_counts)
    app.router.add_post(f"{admin}/requests/reset", reset_requests)
    app.router.add_post(f"{admin}/account", set_account)
    app.router.add_post(f"{admin}/settings", set_settings)
    app.router.add_post(f"{admin}/chargeboxes", add_chargebox)
    app.router.add_patch(box, patch_chargebox)
    app.router.add_post(f"{box}/rfid_start", rfid_start)
    app.router.add_post(f"{box}/app_start", app_start)
    app.router.add_post(f"{box}/end_charge", end_charge)
    app.router.add_post(f"{box}/reserve", reserve)
    app.router.add_post(f"{box}/finished_charge", finished_charge)
    app.router.add_post(f"{admin}/advance", advance)
    app.router.add_get(f"{admin}/notifications", get_notifications)
    app.router.add_post(f"{admin}/notifications", set_notifications)
    return app
