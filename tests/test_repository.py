"""The repository's address is stated once (scripts/repository.py); the rest derives."""

import json
from pathlib import Path
import shutil
import subprocess
import sys

from homeassistant.util.yaml import load_yaml_dict

from scripts import repository

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "custom_components/thor/blueprints/automation"

# What scripts/repository.py reads and rewrites, copied to move the repository.
COPIED = (
    "README.md",
    "custom_components/thor/manifest.json",
    "custom_components/thor/blueprints",
    "scripts/repository.py",
    "scripts/make_blueprints.py",
    "scripts/blueprints",
)


def test_derived_places_name_the_repository() -> None:
    """manifest.json, the README and the blueprints agree with the address."""
    assert repository.main(["--check"]) == 0

    manifest = json.loads((ROOT / repository.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["documentation"] == repository.URL
    assert manifest["issue_tracker"] == f"{repository.URL}/issues"
    assert manifest["codeowners"] == [f"@{repository.OWNER}"]
    for path in BLUEPRINTS.glob("*.yaml"):
        source_url = load_yaml_dict(path)["blueprint"]["source_url"]
        assert source_url == repository.file_url(
            f"custom_components/thor/blueprints/automation/{path.name}"
        )


def _run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(copy / "scripts/repository.py"), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def test_moving_the_repository_is_one_edit_and_the_script(tmp_path: Path) -> None:
    """After editing the address, --check names every stale file; a run fixes them."""
    for name in COPIED:
        source, target = ROOT / name, tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    script = tmp_path / "scripts/repository.py"
    text = script.read_text(encoding="utf-8")
    assert f'OWNER: Final = "{repository.OWNER}"' in text
    script.write_text(
        text.replace(
            f'OWNER: Final = "{repository.OWNER}"', 'OWNER: Final = "new-owner"'
        ).replace(f'NAME: Final = "{repository.NAME}"', 'NAME: Final = "thor-ha2"'),
        encoding="utf-8",
    )

    stale = _run(tmp_path, "--check")
    assert stale.returncode == 1
    assert "custom_components/thor/manifest.json" in stale.stdout
    assert "README.md" in stale.stdout
    assert "solar_surplus.yaml" in stale.stdout
    assert "solar_surplus_it.yaml" in stale.stdout

    assert _run(tmp_path).returncode == 0
    assert _run(tmp_path, "--check").returncode == 0
    manifest = json.loads(
        (tmp_path / "custom_components/thor/manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["documentation"] == "https://github.com/new-owner/thor-ha2"
    assert manifest["issue_tracker"] == "https://github.com/new-owner/thor-ha2/issues"
    assert manifest["codeowners"] == ["@new-owner"]
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert repository.FULL_NAME not in readme
    assert f"owner={repository.OWNER}&" not in readme
    assert "owner=new-owner&repository=thor-ha2" in readme
    assert "https%3A%2F%2Fgithub.com%2Fnew-owner%2Fthor-ha2%2Fblob" in readme
    blueprint = load_yaml_dict(
        tmp_path / "custom_components/thor/blueprints/automation/solar_surplus.yaml"
    )
    assert blueprint["blueprint"]["source_url"].startswith(
        "https://github.com/new-owner/thor-ha2/blob/main/"
    )


def test_readme_links_to_another_repository_are_rewritten() -> None:
    """Every form of a stray address is rewritten; a missing install badge is caught."""
    text = (
        "[a](https://github.com/someone/fork/releases) "
        "hacs_repository/?owner=someone&repository=fork&category=integration "
        "![r](https://img.shields.io/github/v/release/someone/fork.io) "
        "https%3A%2F%2Fgithub.com%2Fsomeone%2Ffork%2Fblob"
    )
    ours = repository.readme_text(text)
    assert ours == (
        f"[a]({repository.URL}/releases) "
        f"hacs_repository/?owner={repository.OWNER}&repository={repository.NAME}"
        "&category=integration "
        f"![r](https://img.shields.io/github/v/release/{repository.FULL_NAME}) "
        f"https%3A%2F%2Fgithub.com%2F{repository.OWNER}%2F{repository.NAME}%2Fblob"
    )
    assert repository.readme_problems(text) == [
        f"no install badge for {repository.FULL_NAME}"
    ]
    assert repository.readme_problems(ours) == []
