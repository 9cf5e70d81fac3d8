"""The English and Italian translations stay complete and consistent."""

import json
from pathlib import Path
import re
import string
from typing import Any

import pytest

TRANSLATIONS = Path(__file__).parents[1] / "custom_components" / "thor" / "translations"
SOURCE = TRANSLATIONS.parent


def _strings(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten a translation file to {"a.b.c": text}."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_strings(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _placeholders(text: str) -> set[str]:
    """Return the {placeholders} of a translation."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


RAW = {
    language: json.loads(
        (TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")
    )
    for language in ("en", "it")
}
EN = _strings(RAW["en"])
IT = _strings(RAW["it"])


def test_italian_has_every_english_string() -> None:
    """Every string exists in both languages, and none is empty."""
    assert set(EN) == set(IT)
    assert all(text.strip() for text in EN.values())
    assert all(text.strip() for text in IT.values())


@pytest.mark.parametrize("key", sorted(EN))
def test_same_placeholders(key: str) -> None:
    """A translation uses the placeholders of the English text, no other."""
    assert _placeholders(IT[key]) == _placeholders(EN[key])


@pytest.mark.parametrize("language", sorted(RAW))
def test_messages_have_the_shape_home_assistant_reads(language: str) -> None:
    """Each exception is {"message": ...}: a bare string is never shown to the user."""
    exceptions = RAW[language]["exceptions"]
    malformed = {
        key
        for key, value in exceptions.items()
        if not isinstance(value, dict) or set(value) != {"message"}
    }
    assert not malformed


def test_every_raised_translation_key_is_translated() -> None:
    """Each translation key named in the code (errors, repairs, entities) exists."""
    code = "\n".join(path.read_text(encoding="utf-8") for path in SOURCE.glob("*.py"))
    keys = set(re.findall(r'translation_key="([a-z_]+)"', code))
    keys |= set(re.findall(r'_(?:error|unable)\(\s*"([a-z_]+)"', code))
    assert keys
    missing = {
        key
        for key in keys
        if f"exceptions.{key}.message" not in EN
        and not any(
            name.startswith((f"issues.{key}.", "entity.")) and f".{key}." in name
            for name in EN
        )
    }
    assert not missing
