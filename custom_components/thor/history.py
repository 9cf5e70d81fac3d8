"""Charge history: the charges that ended on local dates, as Thor lists them.

One place for how Home Assistant reads Thor's finished charges (the
`get_charge_history` action, and the questions about past charges asked by voice or
by an AI assistant). Thor reads `from`/`to` in a time zone it does not document, so
a day more is asked for on each side (`FINISHED_DATE_MARGIN`), and the charges are
kept by the date they ended on in Home Assistant's time zone.
"""

from collections.abc import Collection
from datetime import date, datetime

from homeassistant.util import dt as dt_util

from .thor_api import (
    FINISHED_DATE_MARGIN,
    FinishedCharge,
    FinishedChargePayment,
    ThorClient,
)


def local_time(when: datetime) -> datetime:
    """Return an aware time in Home Assistant's time zone.

    Hours from year 1 or 9999 that this zone cannot hold (refused input) stay in
    their own.
    """
    try:
        return dt_util.as_local(when)
    except OverflowError:
        return when


def ended_at(charge: FinishedCharge) -> datetime | None:
    """Return when a charge ended (its start when Thor gave no end), None if neither."""
    return charge.date_finished or charge.date_started


def read_range(start: date, end: date) -> tuple[date, date]:
    """Return the dates asked of Thor for the charges that ended from start to end."""
    return start - FINISHED_DATE_MARGIN, end + FINISHED_DATE_MARGIN


def currency_of(payment: FinishedChargePayment | None) -> str | None:
    """Return the currency of a payment as shown (Thor writes `eur`: EUR)."""
    if payment is None or payment.currency is None:
        return None
    return payment.currency.upper()


async def async_charges_ended(
    client: ThorClient,
    start: date,
    end: date,
    chargebox_ids: Collection[str],
    only: str | None = None,
) -> list[FinishedCharge]:
    """Return the charges of the chargeboxes that ended from start to end, newest first.

    `start` and `end` are dates in Home Assistant's time zone, both included. `only`
    asks Thor for one chargebox; None reads the whole account at once. Thor's errors
    (`ThorError`) are raised as they are.
    """
    first, last = read_range(start, end)
    # The client's one range reader: a long range is read in pieces, each charge once.
    read = await client.finished_charges_between(first, last, only)
    dated = [
        (when, charge)
        for charge in read
        if charge.chargebox in chargebox_ids
        and (when := ended_at(charge)) is not None
        and start <= local_time(when).date() <= end
    ]
    return [charge for _, charge in sorted(dated, key=lambda kv: kv[0], reverse=True)]
