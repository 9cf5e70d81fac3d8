"""Checks of the API key and the base URL, shared by the client and the config flow."""

import ipaddress
import math
import re
from typing import Any, Final
import unicodedata
from urllib.parse import urlsplit

from yarl import URL

from .const import API_PATH
from .exceptions import (
    ThorInsecureBaseUrlError,
    ThorInvalidApiKeyError,
    ThorInvalidBaseUrlError,
)

# Characters an HTTP header value cannot carry: controls (CR, LF, NUL, TAB, DEL, …),
# invisible format characters, line and paragraph separators, and lone surrogates
# (not encodable at all). aiohttp would fail on some only at request time.
_UNSENDABLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_DNS_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_DNS_NAME = 253
_MAX_PORT = 65535


def parse_connector(value: Any) -> int | None:
    """Return a connector number (1, "1", 2.0), None for anything else.

    The one reading of a connector number, whoever sent it (Thor, storage, a user):
    booleans, fractions, non-finite numbers and numbers below 1 are refused.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    number: float | None = None
    if isinstance(value, float):
        number = value
    elif isinstance(value, str) and len(value) <= 32:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    if number is None or not math.isfinite(number) or not number.is_integer():
        return None
    return int(number) if number >= 1 else None


MAX_TRANSACTION_ID: Final = 2**63 - 1
"""Largest transaction number kept: Home Assistant's storage writes 64-bit integers."""


def parse_transaction_id(value: Any) -> int | None:
    """Return a transaction number (1 to `MAX_TRANSACTION_ID`), None for anything else.

    Thor's 0 means "no transaction"; a number storage could not write is refused
    rather than kept, so no later save fails on it.
    """
    if isinstance(value, bool):
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and len(value) <= 32:
        text = value.strip()
        if text.isdigit():
            number = int(text)
        else:
            try:
                parsed = float(text)
            except ValueError:
                return None
            if math.isfinite(parsed) and parsed.is_integer():
                number = int(parsed)
    if number is None or not 1 <= number <= MAX_TRANSACTION_ID:
        return None
    return number


def _has_unsendable(text: str) -> bool:
    """Return whether `text` has a character no header value can carry."""
    return any(unicodedata.category(char) in _UNSENDABLE_CATEGORIES for char in text)


def check_api_key(value: str) -> str:
    """Return the API key without surrounding whitespace.

    Raise `ThorInvalidApiKeyError` when it is empty or cannot be sent as a header value.
    The message never quotes the key.
    """
    if not isinstance(value, str) or not value.strip():
        raise ThorInvalidApiKeyError("The API key is empty")
    key = value.strip()
    if _has_unsendable(key):
        raise ThorInvalidApiKeyError(
            "The API key contains control or invisible characters"
        )
    return key


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address if `host` is an IP literal, else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_dns_name(name: str) -> bool:
    """Return whether an (IDNA-encoded) host name is a valid DNS name.

    An all-numeric last label is refused: resolvers read such names (`127.1`) as
    addresses.
    """
    if len(name) > _MAX_DNS_NAME:
        return False
    labels = name.split(".")
    return all(_DNS_LABEL.fullmatch(label) for label in labels) and not (
        labels[-1].isdigit()
    )


def _is_local_host(host: str) -> bool:
    """Return True for localhost and loopback or private IP literals."""
    if host.lower() == "localhost":
        return True
    address = _ip_address(host)
    return address is not None and (address.is_loopback or address.is_private)


def normalize_base_url(value: str) -> str:
    """Return the base URL without trailing slash, with the API path if it has none.

    https is accepted anywhere, plain http only for localhost and loopback or private
    addresses (a simulator on the local network): `ThorInsecureBaseUrlError` otherwise.
    Anything else that is not a plain absolute URL (credentials, query, fragment, bad
    host or port) raises `ThorInvalidBaseUrlError`. The result normalizes to itself.
    """
    if not isinstance(value, str) or not value.strip():
        raise ThorInvalidBaseUrlError("The base URL is empty")
    text = value.strip()
    if _has_unsendable(text) or any(char.isspace() for char in text):
        raise ThorInvalidBaseUrlError(
            "The base URL contains spaces or control characters"
        )
    # A query or fragment has no place in a base URL, even an empty one.
    if "?" in text or "#" in text:
        raise ThorInvalidBaseUrlError("The base URL must not have a query or fragment")
    try:
        url = URL(text)
        # yarl decodes an IDNA host only when asked: ask now, so that a bad one is
        # refused here rather than failing later with a UnicodeError.
        host = url.host
        raw_host = url.raw_host
        port = url.explicit_port
        # yarl drops an empty userinfo (`https://@host`); urlsplit keeps it.
        has_userinfo = "@" in urlsplit(text).netloc
    except ValueError as err:  # UnicodeError is a ValueError too
        raise ThorInvalidBaseUrlError("The base URL cannot be parsed") from err
    if url.scheme not in ("http", "https") or not host or not raw_host:
        raise ThorInvalidBaseUrlError("The base URL must be an absolute http(s) URL")
    if has_userinfo or url.raw_user is not None or url.raw_password is not None:
        raise ThorInvalidBaseUrlError("The base URL must not contain credentials")
    if port is not None and not 1 <= port <= _MAX_PORT:
        raise ThorInvalidBaseUrlError("The base URL has an invalid port")
    if _ip_address(host) is None and not _is_dns_name(raw_host):
        raise ThorInvalidBaseUrlError("The base URL has an invalid host name")
    if url.scheme == "http" and not _is_local_host(host):
        raise ThorInsecureBaseUrlError(
            "Plain http is only allowed to localhost or a private address"
        )
    path = url.raw_path.rstrip("/")
    return f"{url.origin()}{path or API_PATH}"
