"""quality_scale.yaml: readable, every rule of the scale, a reason for each exception.

hassfest does not check it for custom integrations, so this does.
"""

from pathlib import Path

import homeassistant.components
import yaml

QUALITY_SCALE = (
    Path(__file__).parent.parent / "custom_components" / "thor" / "quality_scale.yaml"
)
REFERENCE = (
    Path(homeassistant.components.__file__).parent / "peblar" / "quality_scale.yaml"
)
"""A platinum core integration's file, which names every rule of the scale."""


def _rules(path: Path) -> dict[str, str | dict[str, str]]:
    """Return the rules of a quality_scale.yaml."""
    rules: dict[str, str | dict[str, str]] = yaml.safe_load(
        path.read_text(encoding="utf-8")
    )["rules"]
    return rules


def test_every_rule_has_a_status_and_exceptions_a_reason() -> None:
    """Each rule of the scale is there; exempt and todo say why."""
    rules = _rules(QUALITY_SCALE)
    assert rules.keys() == _rules(REFERENCE).keys()
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "exempt", "todo"}, rule
        if status != "done":
            assert isinstance(value, dict), rule
            assert value.get("comment"), rule
