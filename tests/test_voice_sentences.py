"""The sentences files: every word, sentence and answer is read as text."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from homeassistant.util.yaml import load_yaml_dict
import pytest

from custom_components.thor.voice import SENTENCES_DIR

SECTIONS = ("words", "sentences", "follow_up", "responses", "history")


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Yield every key and leaf value below `value`, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path} (key)", key
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


@pytest.mark.parametrize(
    "path", sorted(SENTENCES_DIR.glob("*.yaml")), ids=lambda path: path.name
)
def test_sentence_files_hold_only_text(path: Path) -> None:
    """YAML reads an unquoted on, off, yes, no or number as something else than text.

    The connector numbers (`words.numbers`) are the one place where numbers belong.
    """
    data = load_yaml_dict(path)
    numbers = data["words"].pop("numbers")
    assert all(type(number) is int for number in numbers.values())
    not_text = [
        (where, value)
        for section in SECTIONS
        for where, value in _leaves(data[section], section)
        if not isinstance(value, str)
    ] + [(f"words.numbers.{key}", key) for key in numbers if not isinstance(key, str)]
    assert not_text == []
