"""Releases: `scripts/release X.Y.Z` prepares one, `scripts/build-release vX.Y.Z` builds it.

A version is stated in two places that must agree: custom_components/thor/manifest.json
(`version`, what Home Assistant, HACS and the Marketplace show) and the top entry of
CHANGELOG.md (`## [X.Y.Z] - YYYY-MM-DD`, the release notes). New entries are written
under `## [Unreleased]`, which `scripts/release X.Y.Z` turns into the version's heading
while it bumps the manifest; it commits both and tags `vX.Y.Z` (pushing is left to you).

`scripts/build-release vX.Y.Z` is what .github/workflows/release.yml runs on that tag:
it refuses a tag that does not match the manifest and the top CHANGELOG entry, then
writes dist/<hacs.json's filename> (the files of custom_components/thor at the zip's
root: HACS and the Marketplace extract a zip release into custom_components/<domain>/)
and dist/notes.md (the entry's text, the release notes). Only the standard library
is used, so any Python 3.11+ runs it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import datetime as dt
import json
from pathlib import Path
import re
import subprocess
import sys
from typing import Final
import zipfile

ROOT: Final = Path(__file__).resolve().parent.parent
INTEGRATION: Final = "custom_components/thor"
MANIFEST: Final = f"{INTEGRATION}/manifest.json"
CHANGELOG: Final = "CHANGELOG.md"
HACS: Final = "hacs.json"
NOTES: Final = "notes.md"
UNRELEASED: Final = "Unreleased"

VERSION: Final = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
"""A release version: MAJOR.MINOR.PATCH, no leading zeros, nothing after."""
HEADING: Final = re.compile(
    r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?[ \t]*$", re.MULTILINE
)
ZIP_TIME: Final = (1980, 1, 1, 0, 0, 0)
"""Every file's time in the zip: the same tree gives the same bytes."""


class ReleaseError(Exception):
    """A release cannot be made; the message says why."""


@dataclass(frozen=True)
class Entry:
    """A `## [name] - date` entry of the CHANGELOG."""

    name: str
    date: str | None
    heading: re.Match[str]
    body: str


def parse_version(text: str) -> tuple[int, int, int]:
    """Return the numbers of a MAJOR.MINOR.PATCH version."""
    if not (match := VERSION.fullmatch(text)):
        raise ReleaseError(f"{text!r} is not a version like 1.2.3")
    return int(match[1]), int(match[2]), int(match[3])


def entries(changelog: str) -> list[Entry]:
    """Return the entries of the CHANGELOG, the newest first."""
    headings = list(HEADING.finditer(changelog))
    ends = [heading.start() for heading in headings[1:]] + [len(changelog)]
    return [
        Entry(
            name=heading["name"],
            date=heading["date"],
            heading=heading,
            body=changelog[heading.end() : end].strip(),
        )
        for heading, end in zip(headings, ends, strict=True)
    ]


def _read(root: Path, path: str) -> str:
    return (root / path).read_text(encoding="utf-8")


def manifest_version(root: Path) -> str:
    """Return the version of the integration's manifest.json."""
    return str(json.loads(_read(root, MANIFEST))["version"])


def release_notes(root: Path, version: str) -> str:
    """Return the notes of `version`; refuse unless manifest and CHANGELOG agree on it."""
    parse_version(version)
    if (found := manifest_version(root)) != version:
        raise ReleaseError(f"{MANIFEST} says version {found}, not {version}")
    top = next(iter(entries(_read(root, CHANGELOG))), None)
    if top is None or top.name != version:
        raise ReleaseError(
            f"the top entry of {CHANGELOG} is {top.name if top else 'missing'}, "
            f"not {version}"
        )
    if top.date is None:
        raise ReleaseError(f"the {version} entry of {CHANGELOG} has no date")
    if not top.body:
        raise ReleaseError(f"the {version} entry of {CHANGELOG} is empty")
    return top.body + "\n"


def zip_name(root: Path) -> str:
    """Return the name of the release's zip: hacs.json's `filename`.

    A tag from before zip releases has none: then the name these tools' own hacs.json
    gives (HACS may read the newest hacs.json and look for that asset on every release).
    """
    for hacs in (root / HACS, ROOT / HACS):
        name = json.loads(hacs.read_text(encoding="utf-8")).get("filename")
        if isinstance(name, str) and name.endswith(".zip"):
            return name
    raise ReleaseError(f"{HACS} names no .zip `filename`")


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise ReleaseError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def integration_files(root: Path) -> list[str]:
    """Return the integration's files as git tracks them, relative to its folder."""
    listed = _git(root, "ls-files", "-z", "--", INTEGRATION).split("\0")
    return sorted(path.removeprefix(f"{INTEGRATION}/") for path in listed if path)


def build(
    root: Path, tag: str, dist: Path, repository: str | None = None
) -> tuple[Path, Path]:
    """Check the tag against manifest and CHANGELOG, then write the zip and the notes."""
    if not tag.startswith("v"):
        raise ReleaseError(f"{tag!r} is not a release tag like v1.2.3")
    if repository is not None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import repository as address  # noqa: PLC0415 - only when asked to compare

        if repository != address.FULL_NAME:
            raise ReleaseError(
                f"this is {repository}, but scripts/repository.py says "
                f"{address.FULL_NAME}: edit it and run it (manifest, README, blueprints)"
            )
    notes = release_notes(root, tag[1:])
    files = integration_files(root)
    if "manifest.json" not in files:
        raise ReleaseError(f"git tracks no {MANIFEST}")
    dist.mkdir(parents=True, exist_ok=True)
    archive = dist / zip_name(root)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name in files:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            bundle.writestr(info, (root / INTEGRATION / name).read_bytes())
    (dist / NOTES).write_text(notes, encoding="utf-8")
    return archive, dist / NOTES


def release(root: Path, version: str, date: dt.date) -> str:
    """Bump manifest and CHANGELOG to `version`, commit and tag; return the tag."""
    new = parse_version(version)
    tag = f"v{version}"
    if _git(root, "status", "--porcelain"):
        raise ReleaseError("the working tree has changes: commit or stash them first")
    current = manifest_version(root)
    if new <= parse_version(current):
        raise ReleaseError(f"{version} is not newer than {current} ({MANIFEST})")
    tags = _git(root, "tag", "--list", "v*").split()
    if tag in tags:
        raise ReleaseError(f"the tag {tag} exists already")
    released = [parse_version(t[1:]) for t in tags if VERSION.fullmatch(t[1:])]
    if released and new <= max(released):
        newest = ".".join(map(str, max(released)))
        raise ReleaseError(f"{version} is not newer than the tag v{newest}")
    changelog = _read(root, CHANGELOG)
    top = next(iter(entries(changelog)), None)
    if top is None or top.name != UNRELEASED:
        raise ReleaseError(f"{CHANGELOG} has no '## [{UNRELEASED}]' entry on top")
    if not top.body:
        raise ReleaseError(f"the {UNRELEASED} entry of {CHANGELOG} is empty")

    manifest = json.loads(_read(root, MANIFEST))
    manifest["version"] = version
    heading = f"## [{version}] - {date.isoformat()}"
    texts = {
        MANIFEST: json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
        CHANGELOG: changelog[: top.heading.start()]
        + heading
        + changelog[top.heading.end() :],
    }
    for path, text in texts.items():
        (root / path).write_text(text, encoding="utf-8")
    try:
        release_notes(root, version)
        _git(root, "commit", "--quiet", "-m", f"Release {version}", "--", *texts)
    except ReleaseError:
        _git(root, "checkout", "--", *texts)
        raise
    _git(root, "tag", "--annotate", tag, "--message", f"Thor {version}")
    return tag


def main(argv: list[str], root: Path = ROOT) -> int:
    """Run `release X.Y.Z` or `build vX.Y.Z`; print why when it refuses."""
    parser = argparse.ArgumentParser(prog="release_tools.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    bump = commands.add_parser("release", help="bump, commit and tag a version")
    bump.add_argument("version", help="the new version, like 1.2.3")
    bump.add_argument("--date", type=dt.date.fromisoformat, help="default: today")
    make = commands.add_parser("build", help="build the zip and notes of a tag")
    make.add_argument("tag", help="the release tag, like v1.2.3")
    make.add_argument("--root", type=Path, default=root, help="the tagged checkout")
    make.add_argument("--dist", type=Path, help="default: ROOT/dist")
    make.add_argument(
        "--repository", help="owner/name GitHub gives: must be scripts/repository.py's"
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            tag = release(root, args.version, args.date or dt.date.today())  # noqa: DTZ011
            print(f"Committed and tagged {tag}. Publish it: git push origin HEAD {tag}")
        else:
            archive, notes = build(
                args.root, args.tag, args.dist or args.root / "dist", args.repository
            )
            print(f"Wrote {archive} and {notes}")
    except ReleaseError as err:
        print(f"{args.command}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
