"""API key and base URL checks, shared by the client and the config flow."""

from collections.abc import Awaitable, Callable
import random

from aiohttp import ClientSession
import pytest

from custom_components.thor.thor_api import (
    DEVELOPMENT_BASE_URL,
    PRODUCTION_BASE_URL,
    ThorClient,
    ThorError,
    ThorInsecureBaseUrlError,
    ThorInvalidApiKeyError,
    ThorInvalidBaseUrlError,
    check_api_key,
    normalize_base_url,
)

from .conftest import API_KEY, PREFIX, Handler, ScriptedServer, reply

type StartServer = Callable[[Handler], Awaitable[ScriptedServer]]


def test_errors_are_value_errors_not_thor_errors() -> None:
    """They are refusals of the input, raised before any request."""
    for cls in (ThorInvalidApiKeyError, ThorInvalidBaseUrlError):
        assert issubclass(cls, ValueError)
        assert not issubclass(cls, ThorError)
    assert issubclass(ThorInsecureBaseUrlError, ThorInvalidBaseUrlError)


# --- API key -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (API_KEY, API_KEY),
        (f"  {API_KEY}\n", API_KEY),
        (f"\t{API_KEY}\r\n", API_KEY),
        ("key with inner spaces", "key with inner spaces"),
        ("clé-ü-ключ", "clé-ü-ключ"),
        ("a+b/c==", "a+b/c=="),
    ],
)
def test_valid_api_key_is_stripped(value: str, expected: str) -> None:
    assert check_api_key(value) == expected


@pytest.mark.parametrize(
    "separator",
    [
        pytest.param("\n", id="LF"),
        pytest.param("\r", id="CR"),
        pytest.param("\r\n", id="CRLF"),
        pytest.param("\x00", id="NUL"),
        pytest.param("\t", id="TAB"),
        pytest.param("\x7f", id="DEL"),
        pytest.param("\x85", id="NEL"),
        pytest.param("\x1b", id="ESC"),
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param("\ufeff", id="BOM"),
        pytest.param("\u202e", id="bidi-override"),
        pytest.param("\u2028", id="line-separator"),
        pytest.param("\u2029", id="paragraph-separator"),
        pytest.param("\ud800", id="lone-surrogate"),
    ],
)
def test_api_key_with_unsendable_character_is_refused(separator: str) -> None:
    head, tail = API_KEY[:10], API_KEY[10:]

    with pytest.raises(ThorInvalidApiKeyError) as err:
        check_api_key(f"{head}{separator}{tail}")

    assert head not in str(err.value)
    assert tail not in str(err.value)


@pytest.mark.parametrize("value", ["", " ", "\n\t ", "\u2028"])
def test_empty_api_key_is_refused(value: str) -> None:
    with pytest.raises(ThorInvalidApiKeyError):
        check_api_key(value)


# --- base URL ------------------------------------------------------------------------

LABEL_63 = "a" * 63
HOST_253 = ".".join([LABEL_63, LABEL_63, LABEL_63, "a" * 61])

VALID_URLS = [
    (PRODUCTION_BASE_URL, PRODUCTION_BASE_URL),
    (DEVELOPMENT_BASE_URL, DEVELOPMENT_BASE_URL),
    (
        "http://127.0.0.1:8765/latest/integration",
        "http://127.0.0.1:8765/latest/integration",
    ),
    ("https://thor.example.com", "https://thor.example.com/latest/integration"),
    ("https://thor.example.com/", "https://thor.example.com/latest/integration"),
    ("https://thor.example.com//", "https://thor.example.com/latest/integration"),
    ("  https://thor.example.com/api/  ", "https://thor.example.com/api"),
    ("HTTPS://Thor.Example.COM:8443/x", "https://thor.example.com:8443/x"),
    ("https://thor.example.com:443/x", "https://thor.example.com/x"),
    ("https://203.0.113.5/x", "https://203.0.113.5/x"),
    ("https://8.8.8.8", "https://8.8.8.8/latest/integration"),
    ("http://localhost:8765", "http://localhost:8765/latest/integration"),
    ("http://LOCALHOST", "http://localhost/latest/integration"),
    ("http://192.168.1.20:8765/", "http://192.168.1.20:8765/latest/integration"),
    ("http://10.0.0.1", "http://10.0.0.1/latest/integration"),
    ("http://[::1]:8765", "http://[::1]:8765/latest/integration"),
    ("http://[fd00::5]/thor", "http://[fd00::5]/thor"),
    ("https://пример.рф", "https://xn--e1afmkfd.xn--p1ai/latest/integration"),
    ("https://xn--e1afmkfd.xn--p1ai/x", "https://xn--e1afmkfd.xn--p1ai/x"),
    ("https://a-b.c0.example/a/b/", "https://a-b.c0.example/a/b"),
    (f"https://{LABEL_63}.example", f"https://{LABEL_63}.example/latest/integration"),
    (f"https://{HOST_253}", f"https://{HOST_253}/latest/integration"),
]


@pytest.mark.parametrize(("value", "expected"), VALID_URLS)
def test_valid_base_url_is_normalized(value: str, expected: str) -> None:
    assert normalize_base_url(value) == expected


@pytest.mark.parametrize("value", [value for value, _ in VALID_URLS])
def test_normalizing_is_idempotent(value: str) -> None:
    once = normalize_base_url(value)

    assert normalize_base_url(once) == once


INVALID_URLS = [
    "",
    "   ",
    "api.thor.tools",
    "ftp://api.thor.tools",
    "file:///etc/passwd",
    "https://",
    "https:///latest",
    "https:api.thor.tools",
    "//api.thor.tools/latest",
    # IDNA failures (yarl decodes the host lazily, so these used to escape)
    "https://xn--/",
    "https://xn--abc/",
    "https://xn--a.example/",
    # host names that are not DNS names
    "https://api thor.tools/",
    "https://___/",
    "https://under_score.example/",
    "https://-bad.example/",
    "https://bad-.example/",
    "https://a..b/",
    "https://host.example./",
    f"https://{'a' * 64}.example/",
    f"https://{HOST_253}a/",
    f"https://{'a' * 10_000}.com/",
    "https://127.1/",
    "https://999.999.999.999/",
    "https://api.thor\u200b.tools/",
    "https://h\\x/",
    # userinfo of any kind
    "https://user@api.thor.tools",
    "https://user:pw@api.thor.tools",
    "https://:secret@api.thor.tools",
    "https://@api.thor.tools",
    "http://user@127.0.0.1",
    # query, fragment
    "https://api.thor.tools/latest/integration?a=1",
    "https://api.thor.tools/latest/integration#frag",
    # ports
    "https://api.thor.tools:0/",
    "https://api.thor.tools:99999/",
    "https://api.thor.tools:abc/",
    "https://api.thor.tools:-1/",
    # brackets
    "https://[::1/",
    "https://[zz::1]/",
    "https://::1/",
    # characters that do not belong in a URL
    "https://api.thor.tools/a\nb",
    "https://api.thor.tools/a b",
    "https://api.thor.tools/\x00",
]


@pytest.mark.parametrize("value", INVALID_URLS)
def test_invalid_base_url_is_refused(value: str) -> None:
    with pytest.raises(ThorInvalidBaseUrlError) as err:
        normalize_base_url(value)

    assert not isinstance(err.value, ThorInsecureBaseUrlError)


def test_refusal_does_not_quote_credentials() -> None:
    with pytest.raises(ThorInvalidBaseUrlError) as err:
        normalize_base_url("https://admin:hunter2@api.thor.tools")

    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize(
    "value",
    [
        "http://api.thor.tools/latest/integration",
        "http://8.8.8.8",
        "http://[2606:4700::1111]/",
        "http://example.com:8765/x",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_is_only_for_local_hosts(value: str) -> None:
    with pytest.raises(ThorInsecureBaseUrlError):
        normalize_base_url(value)


def test_garbage_never_raises_anything_else() -> None:
    """Random URL-ish strings either normalize (idempotently) or are refused."""
    pieces = [
        "http", "https", "HTTP", ":", "//", "/", "@", "?", "#", "[", "]", ".", "..",
        "%", "%2F", "%zz", "\\", " ", "\t", "xn--", "-", "_", "a", "Z", "9", "ü", "€",
        "localhost", "127.0.0.1", "::1", "80", "65536", "api.thor.tools", "\x00",
    ]  # fmt: skip
    rng = random.Random(20260301)  # noqa: S311 (test data, not security)
    for _ in range(5000):
        value = "".join(rng.choices(pieces, k=rng.randint(0, 12)))
        try:
            normalized = normalize_base_url(value)
        except ThorInvalidBaseUrlError:
            continue
        assert normalize_base_url(normalized) == normalized


# --- the client applies both checks ---------------------------------------------


async def test_client_strips_the_key_and_sends_it_exactly(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(reply(200, json_body=[]))
    client = ThorClient(
        session=session, api_key=f"  {API_KEY}\n", base_url=server.base_url
    )

    await client.list_chargeboxes()

    assert client.api_key == API_KEY
    assert server.received[0].headers["X-Api-Key"] == API_KEY


@pytest.mark.parametrize("api_key", ["", "   ", f"{API_KEY[:8]}\n{API_KEY[8:]}"])
async def test_client_refuses_an_unsendable_key(
    session: ClientSession, scripted_server: StartServer, api_key: str
) -> None:
    """Refused when built: aiohttp would fail at request time with a bare ValueError."""
    server = await scripted_server(reply(200, json_body=[]))

    with pytest.raises(ThorInvalidApiKeyError) as err:
        ThorClient(session=session, api_key=api_key, base_url=server.base_url)

    assert API_KEY[8:] not in str(err.value)
    assert server.received == []


async def test_client_normalizes_the_base_url(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(reply(200, json_body=[]))
    origin = server.base_url.removesuffix(PREFIX)
    client = ThorClient(session=session, api_key=API_KEY, base_url=f" {origin}/ ")

    await client.list_chargeboxes()

    assert client.base_url == origin + PREFIX
    assert server.received[0].raw_path == f"{PREFIX}/chargeboxes"


@pytest.mark.parametrize(
    ("base_url", "cls"),
    [
        ("http://api.thor.tools/latest/integration", ThorInsecureBaseUrlError),
        ("https://xn--/", ThorInvalidBaseUrlError),
        ("https://user:pw@api.thor.tools", ThorInvalidBaseUrlError),
        ("https://api.thor.tools/latest/integration?x=1", ThorInvalidBaseUrlError),
    ],
)
async def test_client_refuses_an_invalid_base_url(
    session: ClientSession, base_url: str, cls: type[ThorInvalidBaseUrlError]
) -> None:
    with pytest.raises(cls):
        ThorClient(session=session, api_key=API_KEY, base_url=base_url)
