"""A simulator of the Thor cloud (thor.tools) integration API, for tests and demos.

Run it with `python -m thor_simulator --help`, or in tests::

    sim = ThorSimulator(api_key="key", start_delay=0, stop_delay=0)
    box = sim.add_chargebox(alias="Garage", connectors=2)
    base_url = await sim.start()  # http://127.0.0.1:PORT/latest/integration
    ...
    await sim.stop()

Choices made where Thor's documentation is silent (see /work/shared/thor-api.md §6):

- Order of checks for every API request: injected faults (like a proxy in front of
  Thor), then `APIKeyNotFound`, `RestAPINotEnabled`, `InvalidSourceIPAddr`.
- `charges/start`: 404 ChargeboxNotFound, 403 ChargeboxNotActive, 402
  ChargeboxNotFree, 400 ConnectorNotValid, 429 TooManyRequests, 400
  AlreadyInTransaction, in that order. The throttle is checked before the
  transaction, so a second start within the window gets 429 even while the first
  is pending. Only accepted (200) starts open a throttle window.
- A start on a disconnected chargebox or one with `reject_starts` answers 200 with an
  id_tag, but no charge ever appears. A start on a reserved connector is allowed.
- `charges/stop` on a start still pending cancels it (its charge never appears). A
  stop of a charge already stopping is accepted and changes nothing. A connector
  above the count gives `NotInTransaction` (the docs list ConnectorNotValid for <= 0
  only). Energy keeps counting until the charge actually ends.
- Undocumented 400s (bad JSON, missing fields, bad query values) use the message
  `BadRequest`; unknown API paths `NotFound`, wrong methods `MethodNotAllowed`.
- Running/finished charge `type` is the charge mode: `api`, `local` (RFID), `remote`
  (Thor app); `user` is null. `payment` is null on a free chargebox; on a paid one
  (`payment_free` false: RFID and app charges, API starts get 402) running charges
  have `{start, method, amount, transaction}` and finished ones `{currency, start,
  method, price, success: true, transaction, nayaxID: null}`, the amount being
  `start_fee + price_per_kwh * kWh` (settable per chargebox, like `currency` and
  `payment_method`). `charges/finished` needs `from` and `to` (`YYYYMMDD`, else 400
  BadRequest, also when `to` is before `from`), filters on `date_finished` by UTC
  calendar day, both dates inclusive, and refuses more than 366 days with 400
  `RangeTooLarge` (Thor documents no limit).
- `charges/reservenow` (answer and errors undocumented): 404 ChargeboxNotFound, 403
  ChargeboxNotActive, 400 ConnectorNotValid, 400 BadRequest (expiry_date not an
  integer or not in the future), 400 `ChargeboxNotReservable`, 400
  AlreadyInTransaction (a charge or pending start), 400 `AlreadyReserved`; a success
  answers 200 with the reservation as `GET reservations` lists it. It lasts until
  its expiry (there is no cancel).
- `POST /_simulator/chargeboxes/{id}/finished_charge {connector, started, finished,
  energy?, mode?, id_tag?}` (epoch ms, Wh) or `add_finished_charge()` puts a charge
  that happened while nobody polled into the history.
- `requests` logs `(method, request.path)` with the full, percent-decoded path, e.g.
  `("POST", "/latest/integration/charges/start")`; admin requests are not logged.
  `request_counts` counts the same requests and the answers sent (per status):
  `GET /_simulator/requests`, also in `GET /_simulator/state`;
  `POST /_simulator/requests/reset` (or `reset_requests()`) clears log and counts.
  Requests are counted three ways: `by_path` (path without the query string, so the
  list `/latest/integration/chargeboxes` apart from each `.../chargeboxes/ID`),
  `by_target` (path and query string as sent, e.g.
  `/latest/integration/charges/running?chargebox=ID`) and `by_endpoint` (method,
  route and query parameter names, ids not spelled out: `GET /chargeboxes`,
  `GET /chargeboxes/{chargebox_id}`, `GET /charges/running`,
  `GET /charges/running?chargebox`), e.g. for a benchmark of the polls::

      {"total": 4, "by_path": {...}, "by_target": {...},
       "by_endpoint": {"GET /chargeboxes": 1, "GET /chargeboxes/{chargebox_id}": 2,
                       "GET /charges/running?chargebox": 1},
       "by_status": {"200": 4}}

Push notifications (thor-api.md §3): with a notification URL (`notification_url=`
constructor argument or attribute, `--notification-url` on the command line, or
`POST /_simulator/notifications {"url": ...}`), the simulator POSTs Thor's JSON bodies:

- start (§3.1) when a charge begins (an API start at its due time, an RFID or app
  start at once): `{"type": "start", "accepted": true, "chargebox", "connector",
  "id": <id_tag: the API's, the RFID card or the app's hidden tag>,
  "transaction_id", "mode": "api"|"local"|"remote"}`; a start the box refuses
  (`reject_starts`, connected) is notified `start_delay` after the request with
  `"accepted": false, "transaction_id": 0` (polling still never shows it; a
  disconnected box notifies nothing). `duplicate_type_key` renders the mode as a
  second `"type"` key, Thor's documented bug.
- stop (§3.2) when a charge ends (an API stop at its due time, `end_charge` at once):
  `{"type": "stop_transaction", "accepted": true, "unlocked": false, "chargebox",
  "connector", "idTag", "transaction_id", "kwh": <Wh>, "time": <seconds>}`.
- meters (§3.4) for each running charge every `meter_interval` simulated seconds
  (at most one per interval, however far the clock jumps): `{"type": "meters",
  "chargebox", "connector", "idTag", "time": "HH:MM:SS", "kwh": <Wh>, "meters": [
  Energy.Active.Import.Register (Wh, phase null), Power.Active.Import (W) and
  Current.Import (A, power / 230 V) per phase: L1 for AC_1_PHASE, L1-L3 for
  AC_3_PHASE, one row with phase null (400 V) for DC]}`.
- Charges of a paid chargebox add `"payment": {"type": "consume-based", "options":
  {"theshold_hour": 0, "unit": "kwh", "currency", "amount": price_per_kwh,
  "start_charge": start_fee, "minimum_threshold": 0}}` (§3.5). Charges put in the
  history with `add_finished_charge()` are not notified; rejected stops, unlocks and
  RFID authorization requests (§3.3) are not simulated.

Only http(s) URLs on loopback hosts (127.0.0.0/8, ::1, localhost) are accepted. Events
are queued once, when the state changes (`_settle()` and the test controls), with their
simulated time; a background task (started with the app, also under another runner
such as aiohttp's TestServer; every `notification_loop_interval` = 0.2 real seconds, 0
disables it) and `await sim.async_send_notifications()` (for tests on a frozen clock:
returns the bodies POSTed) send what is due, in time order, with one aiohttp session
(5 s timeout), counting errors instead of raising. Notification faults, set with the
URL: `drop` (probability, seeded RNG), `drop_next` (N), `duplicate`, `delay`
(simulated seconds), `reorder` (pairs swap), `enabled` false (nothing queued nor sent).
`GET /_simulator/notifications` (also under `notifications` in `GET /_simulator/state`)
shows the settings, `counters` (sent, failed, dropped, duplicated, last_status,
last_error) and the `queued` count.

Faults (`Faults`, `sim.faults`) make API answers misbehave: latency, hangs, dropped
connections, proxy HTML, any status with a chosen body (`error_body`, or the exact
text of `error_raw_body` with `{api_key}`/`{id_tag}` filled in), the `Retry-After` of
429s (`retry_after`, `retry_after_seconds`, or the exact `retry_after_header` such as
"0", "1e9" or an HTTP date, also on the real start throttle), truncated JSON, and
running charges left out while the chargebox still shows them occupied
(`omit_running`), a chargebox list without `occupied_connectors` and
`reserved_connectors` (`omit_list_connectors`: Thor's docs of the list are truncated, so
a client must fall back to `GET /chargeboxes/{id}`, which keeps them); `count` and `path`
limit them. Set them with
`POST /_simulator/faults {"status": 429, "retry_after_header": "0"}`, clear them with
`DELETE /_simulator/faults`, or on the command line with `--fault NAME=VALUE`.
"""

from .errors import ApiError, SimulatorError, UnknownChargeboxError
from .faults import Faults
from .models import SimulatedChargebox, SimulatedConnector
from .simulator import ThorSimulator

__all__ = [
    "ApiError",
    "Faults",
    "SimulatedChargebox",
    "SimulatedConnector",
    "SimulatorError",
    "ThorSimulator",
    "UnknownChargeboxError",
]
