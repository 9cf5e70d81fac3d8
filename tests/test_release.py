"""scripts/release and scripts/build-release, on scratch git repositories (no network)."""

from collections.abc import Callable
import datetime as dt
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import zipfile

import pytest

from scripts import release_tools

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components/thor"
DATE = dt.date(2026, 12, 8)

CHANGELOG = """# Changelog

Intro.

## [Unreleased]

### Fixed
- Push works through Cloud.

## [0.1.0] - 2026-11-21

The first public release.
"""

SCRIPTS = (
    "scripts/release",
    "scripts/build-release",
    "scripts/release_tools.py",
    "scripts/repository.py",
)
"""Copied into the scratch repository, to run them there as a maintainer would."""

Git = Callable[..., str]


@pytest.fixture(name="git_env", autouse=True)
def git_env_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits and tags without the user's git settings (signing, hooks, identity)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Release Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "release@example.invalid")


@pytest.fixture(name="repo")
def repo_fixture(tmp_path: Path) -> Path:
    """A git repository with the integration's tracked files, at version 0.1.0."""
    repo = tmp_path / "repo"
    for name in filter(
        None, _git(ROOT)("ls-files", "-z", "custom_components/thor").split("\0")
    ):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    (repo / "scripts").mkdir()
    for name in ("hacs.json", *SCRIPTS):
        shutil.copy2(ROOT / name, repo / name)
    manifest = json.loads((repo / release_tools.MANIFEST).read_text(encoding="utf-8"))
    manifest["version"] = "0.1.0"
    (repo / release_tools.MANIFEST).write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    (repo / "CHANGELOG.md").write_text(CHANGELOG, encoding="utf-8")
    git = _git(repo)
    git("init", "--quiet", "--initial-branch=main")
    git("add", "--all")
    git("commit", "--quiet", "--message", "0.1.0")
    return repo


def _git(repo: Path) -> Git:
    def run(*args: str) -> str:
        return subprocess.run(  # noqa: S603 (git, on a scratch repository)
            ["git", "-C", str(repo), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    return run


def _script(repo: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one of the scripts copied into the scratch repository."""
    return subprocess.run(  # noqa: S603 (our scripts, on a scratch repository)
        [str(repo / "scripts" / name), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHON": sys.executable},
    )


def _state(repo: Path) -> tuple[str, str, str]:
    """What a refused release must leave alone: commit, tags, working tree."""
    git = _git(repo)
    return git("rev-parse", "HEAD"), git("tag"), git("status", "--porcelain")


def _release(repo: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run `release`, return its stderr, empty when it succeeded."""
    code = release_tools.main(["release", *args, "--date", DATE.isoformat()], repo)
    err = capsys.readouterr().err
    assert (code == 0) == (not err)
    return err


def test_release_bumps_commits_and_tags(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The new version is in manifest and CHANGELOG, committed and tagged."""
    git = _git(repo)
    run = _script(repo, "release", "0.2.0", "--date", DATE.isoformat())
    assert run.returncode == 0, run.stderr
    assert "tagged v0.2.0" in run.stdout

    assert release_tools.manifest_version(repo) == "0.2.0"
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog == CHANGELOG.replace("## [Unreleased]", "## [0.2.0] - 2026-12-08")
    assert git("status", "--porcelain") == ""
    assert git("log", "-1", "--format=%s").strip() == "Release 0.2.0"
    assert git("rev-parse", "v0.2.0^{commit}") == git("rev-parse", "HEAD")
    assert git("cat-file", "-t", "v0.2.0").strip() == "tag"  # annotated

    # What the release workflow then does on that tag; a stray file is left out.
    (repo / "custom_components/thor/stray.pyc").write_bytes(b"")
    dist = tmp_path / "dist"
    run = _script(repo, "build-release", "v0.2.0", "--dist", str(dist))
    assert run.returncode == 0, run.stderr
    assert (dist / "notes.md").read_text(encoding="utf-8") == (
        "### Fixed\n- Push works through Cloud.\n"
    )
    with zipfile.ZipFile(dist / "thor.zip") as bundle:
        names = set(bundle.namelist())
        manifest = json.loads(bundle.read("manifest.json"))
    tracked = _git(ROOT)("ls-files", "-z", "custom_components/thor").split("\0")
    assert names == {
        name.removeprefix("custom_components/thor/") for name in tracked if name
    }
    assert {
        "__init__.py",
        "manifest.json",
        "brand/icon.png",
        "translations/en.json",
    } <= names
    assert manifest["version"] == "0.2.0"
    # The same tree gives the same zip (in process, from another directory).
    again = tmp_path / "again"
    assert (
        release_tools.main(
            ["build", "v0.2.0", "--root", str(repo), "--dist", str(again)]
        )
        == 0
    )
    assert (again / "thor.zip").read_bytes() == (dist / "thor.zip").read_bytes()

    # A second release needs new entries under a new Unreleased heading.
    (repo / "custom_components/thor/stray.pyc").unlink()
    assert "no '## [Unreleased]' entry" in _release(repo, "0.2.1", capsys=capsys)


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        ("1.2", "is not a version like 1.2.3"),
        ("v1.2.3", "is not a version like 1.2.3"),
        ("01.2.3", "is not a version like 1.2.3"),
        ("1.2.3-beta", "is not a version like 1.2.3"),
        ("0.1.0", "is not newer than 0.1.0"),
        ("0.0.9", "is not newer than 0.1.0"),
    ],
)
def test_release_refuses_a_bad_version(
    repo: Path, capsys: pytest.CaptureFixture[str], version: str, reason: str
) -> None:
    """A version that is not X.Y.Z or not newer changes nothing."""
    before = _state(repo)
    assert reason in _release(repo, version, capsys=capsys)
    assert _state(repo) == before


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda repo: (repo / "new.txt").write_text("x"), "working tree has changes"),
        (
            lambda repo: (repo / "hacs.json").write_text("{}"),
            "working tree has changes",
        ),
    ],
)
def test_release_refuses_a_dirty_tree(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Path], object],
    reason: str,
) -> None:
    """Untracked or modified files: nothing is committed or tagged."""
    change(repo)
    before = _state(repo)
    assert reason in _release(repo, "0.2.0", capsys=capsys)
    assert _state(repo) == before


def test_release_refuses_an_existing_or_older_tag(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A version already tagged, or below the newest tag, is refused."""
    git = _git(repo)
    git("tag", "v0.2.0")
    before = _state(repo)
    assert "the tag v0.2.0 exists already" in _release(repo, "0.2.0", capsys=capsys)
    git("tag", "v0.3.0")
    assert "not newer than the tag v0.3.0" in _release(repo, "0.2.5", capsys=capsys)
    assert _state(repo)[0] == before[0]


@pytest.mark.parametrize(
    ("changelog", "reason"),
    [
        (
            CHANGELOG.replace("## [Unreleased]\n", ""),
            "no '## [Unreleased]' entry on top",
        ),
        (
            CHANGELOG.replace("### Fixed\n- Push works through Cloud.\n", ""),
            "the Unreleased entry of CHANGELOG.md is empty",
        ),
    ],
)
def test_release_needs_unreleased_entries(
    repo: Path, capsys: pytest.CaptureFixture[str], changelog: str, reason: str
) -> None:
    """Without an Unreleased entry with text there are no release notes."""
    (repo / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    _git(repo)("commit", "--quiet", "--all", "--message", "changelog")
    before = _state(repo)
    assert reason in _release(repo, "0.2.0", capsys=capsys)
    assert _state(repo) == before


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("0.1.0", "is not a release tag like v1.2.3"),
        ("v0.1", "is not a version like 1.2.3"),
        ("v0.2.0", "manifest.json says version 0.1.0, not 0.2.0"),
        ("v0.1.0", "the top entry of CHANGELOG.md is Unreleased, not 0.1.0"),
    ],
)
def test_build_refuses_a_mismatch(
    repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tag: str,
    reason: str,
) -> None:
    """A tag that manifest or CHANGELOG contradict builds nothing."""
    dist = tmp_path / "dist"
    args = ["build", tag, "--root", str(repo), "--dist", str(dist)]
    assert release_tools.main(args) == 1
    assert reason in capsys.readouterr().err
    assert not dist.exists()


def test_build_refuses_an_undated_entry_or_another_repository(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The top entry needs its date; GitHub's repository must be the one named."""
    (repo / "CHANGELOG.md").write_text(
        CHANGELOG.replace("## [Unreleased]", "## [0.1.0]"), encoding="utf-8"
    )
    dist = tmp_path / "dist"
    build = ["build", "v0.1.0", "--root", str(repo), "--dist", str(dist)]
    assert release_tools.main(build) == 1
    assert "the 0.1.0 entry of CHANGELOG.md has no date" in capsys.readouterr().err

    (repo / "CHANGELOG.md").write_text(
        CHANGELOG.replace("## [Unreleased]", "## [0.1.0] - 2026-12-08"),
        encoding="utf-8",
    )
    assert release_tools.main([*build, "--repository", "someone/fork"]) == 1
    assert "this is someone/fork, but scripts/repository.py says" in (
        capsys.readouterr().err
    )
    assert not dist.exists()


def test_project_changelog_and_manifest_agree() -> None:
    """The newest released entry of CHANGELOG.md is manifest.json's version."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    released = [
        entry
        for entry in release_tools.entries(changelog)
        if entry.name != "Unreleased"
    ]
    assert released[0].name == release_tools.manifest_version(ROOT)
    assert released[0].date is not None


def test_readme_states_the_minimum_home_assistant() -> None:
    """The README's shield and text say the version hacs.json makes HACS enforce."""
    minimum = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))[
        "homeassistant"
    ]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"badge/Home%20Assistant-{minimum}%2B-" in readme
    assert f"**Requires Home Assistant {minimum} or newer.**" in readme
