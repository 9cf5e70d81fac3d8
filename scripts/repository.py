"""The project's GitHub repository, stated once: OWNER, NAME and BRANCH below.

Everything else that names the repository derives from them: manifest.json's
`documentation`, `issue_tracker` and `codeowners`, the README's badges and links, and
the blueprints' `source_url` (scripts/make_blueprints.py imports this module). The
release workflow passes GitHub's own name of the repository to scripts/build-release,
which refuses a release when the two disagree.

Moving the repository: edit OWNER/NAME here, then run
`.venv/bin/python scripts/repository.py`, which rewrites manifest.json, README.md and
the blueprints. `--check` only reports the files that disagree (exit 1);
tests/test_repository.py runs it. Only the standard library is needed, except for the
blueprints (Home Assistant's YAML loader, in .venv).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys
from typing import Final

OWNER: Final = "thor-ha"
NAME: Final = "thor-home-assistant"
BRANCH: Final = "main"
"""The default branch: the blueprints' `source_url` points at their file there."""

FULL_NAME: Final = f"{OWNER}/{NAME}"
URL: Final = f"https://github.com/{FULL_NAME}"
CODEOWNERS: Final = (f"@{OWNER}",)
"""manifest.json's code owners: the owner of the repository."""

ROOT: Final = Path(__file__).resolve().parent.parent
MANIFEST: Final = Path("custom_components/thor/manifest.json")
README: Final = Path("README.md")

FOREIGN: Final[frozenset[str]] = frozenset()
"""Other GitHub repositories the README may link to (owner/name), left as they are."""

# How the README names a repository (owner, separator, name): a link, the query of the
# my.home-assistant badge that opens it in HACS or the Marketplace, a link inside an
# encoded URL (the blueprint import badge), a shields.io badge of its releases.
_FORMS: Final = tuple(
    re.compile(rf"{before}(?P<owner>[A-Za-z0-9-]+){between}(?P<name>[\w.-]*[\w-])")
    for before, between in (
        (r"https://github\.com/", "/"),
        (r"\bowner=", "&repository="),
        (r"https%3A%2F%2Fgithub\.com%2F", "%2F"),
        (r"https://img\.shields\.io/github/v/release/", "/"),
    )
)


def file_url(path: str) -> str:
    """Return the address of a file of the repository on its default branch."""
    return f"{URL}/blob/{BRANCH}/{path}"


def manifest_text(text: str) -> str:
    """Return manifest.json's text with the fields derived from the repository."""
    manifest = json.loads(text)
    manifest["codeowners"] = list(CODEOWNERS)
    manifest["documentation"] = URL
    manifest["issue_tracker"] = f"{URL}/issues"
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def readme_text(text: str) -> str:
    """Return the README with every link to a GitHub repository pointing at this one."""

    def ours(match: re.Match[str]) -> str:
        if f"{match['owner']}/{match['name']}" in FOREIGN:
            return match[0]
        start = match.start()
        return (
            match[0][: match.start("owner") - start]
            + OWNER
            + match[0][match.end("owner") - start : match.start("name") - start]
            + NAME
        )

    for pattern in _FORMS:
        text = pattern.sub(ours, text)
    return text


def readme_problems(text: str) -> list[str]:
    """Return what is missing from the README besides the links readme_text fixes."""
    badge = f"hacs_repository/?owner={OWNER}&repository={NAME}"
    return [] if badge in text else [f"no install badge for {FULL_NAME}"]


def derived() -> dict[Path, str]:
    """Return manifest.json's and the README's text as they derive from the address."""
    return {
        ROOT / MANIFEST: manifest_text((ROOT / MANIFEST).read_text(encoding="utf-8")),
        ROOT / README: readme_text((ROOT / README).read_text(encoding="utf-8")),
    }


def main(argv: list[str]) -> int:
    """Rewrite the places that name the repository, or with --check report them."""
    # Imported here: the blueprints need Home Assistant's YAML loader, the rest of
    # this module only the standard library (scripts/build-release imports it).
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_blueprints  # noqa: PLC0415

    check = "--check" in argv
    texts = derived()
    stale = [
        path for path, text in texts.items() if path.read_text(encoding="utf-8") != text
    ]
    # What rewriting cannot fix: the README must keep its install badge.
    problems = readme_problems(texts[ROOT / README])
    if check:
        for path in stale:
            print(
                f"Names another repository than {FULL_NAME}: {path.relative_to(ROOT)}"
            )
        for problem in problems:
            print(f"README.md: {problem}")
        blueprints = make_blueprints.main(["--check"])
        return 1 if stale or problems or blueprints else 0
    for path in stale:
        path.write_text(texts[path], encoding="utf-8")
        print(f"Wrote {path.relative_to(ROOT)}")
    for problem in problems:
        print(f"README.md: {problem} (add it by hand)")
    return make_blueprints.main([]) or (1 if problems else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
