"""The Thor client stays free of Home Assistant, so it can be published on its own."""

import ast
from pathlib import Path
import subprocess
import sys

import pytest

import custom_components.thor.thor_api as thor_api_package

PACKAGE_DIR = Path(thor_api_package.__file__).parent
MODULES = sorted(PACKAGE_DIR.rglob("*.py"))
TESTS_DIR = Path(__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Return every absolute module name a source file imports (at any depth)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def homeassistant_imports(path: Path) -> set[str]:
    """Return the imports of `path` that load Home Assistant."""
    return {
        name
        for name in imported_modules(path)
        if name == "homeassistant" or name.startswith("homeassistant.")
    }


def test_the_package_has_modules() -> None:
    """Guard the checks below against scanning an empty or wrong directory."""
    assert {path.name for path in MODULES} >= {
        "__init__.py",
        "backoff.py",
        "client.py",
        "const.py",
        "exceptions.py",
        "models.py",
        "validation.py",
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_module_does_not_import_homeassistant(path: Path) -> None:
    assert homeassistant_imports(path) == set()


@pytest.mark.parametrize(
    "path", sorted(TESTS_DIR.glob("*.py")), ids=lambda path: path.name
)
def test_client_tests_do_not_import_homeassistant(path: Path) -> None:
    assert homeassistant_imports(path) == set()


def test_the_checker_sees_homeassistant_imports(tmp_path: Path) -> None:
    """The AST check finds plain, dotted, aliased and nested imports."""
    source = tmp_path / "bad.py"
    source.write_text(
        "import os\n"
        "import homeassistant.core as ha_core\n"
        "def later():\n"
        "    from homeassistant.helpers import aiohttp_client\n"
        "from . import sibling\n"
        "import homeassistantish\n",
        encoding="utf-8",
    )

    assert homeassistant_imports(source) == {
        "homeassistant.core",
        "homeassistant.helpers",
    }


def test_importing_the_package_does_not_load_homeassistant() -> None:
    """Import the client as a stand-alone package in a fresh interpreter.

    It is imported as top-level `thor_api` so that the integration's own
    `custom_components/thor/__init__.py` (which may use Home Assistant) is not run.
    """
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(PACKAGE_DIR.parent)!r})\n"
        "import thor_api\n"
        "import thor_api.client, thor_api.models, thor_api.exceptions, thor_api.const\n"
        "import thor_api.backoff, thor_api.validation\n"
        "assert thor_api.ThorClient.__module__ == 'thor_api.client'\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant')\n"
        "print(loaded)\n"
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed code)
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
