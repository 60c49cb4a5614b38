"""The reference in docs/reference is the code's own: regenerated, it is unchanged; every field of every kind
says what it is; and every link in the repository's Markdown leads to a file (and heading) inside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from sre_operator.cli import reference_pages
from sre_operator.models.schema import KINDS, crd
from sre_operator.reference import fields

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


@pytest.mark.unit
def test_the_committed_reference_is_the_generated_one() -> None:
    for name, text in reference_pages().items():
        committed = REFERENCE / name
        assert committed.exists(), f"run: sre-operator reference -o docs/reference ({name} missing)"
        assert committed.read_text(encoding="utf-8") == text, f"run: sre-operator reference -o docs/reference ({name})"


@pytest.mark.unit
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_field_of_every_kind_is_described(kind: str) -> None:
    schema = crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    every = [*fields(schema["properties"]["spec"], "spec"), *fields(schema["properties"]["status"], "status")]
    silent = [path for path, sub, _ in every if not str(sub.get("description", "")).strip()]
    assert silent == [], f"{kind}: fields without a description (kubectl explain shows nothing): {silent}"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def markdown_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [ROOT / line for line in listed.stdout.splitlines() if (ROOT / line).exists()]


def links_and_anchors(path: Path) -> tuple[list[str], set[str]]:
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    links, anchors = [], set()
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            anchors.add(slug(tokens[index + 1].content.replace("`", "")))
        for child in token.children or ():
            if child.type == "link_open":
                links.append(str(child.attrGet("href")))
            elif child.type == "image":
                links.append(str(child.attrGet("src")))
    return links, anchors


@pytest.mark.unit
def test_every_link_stays_inside_the_repository_and_resolves() -> None:
    files = markdown_files()
    assert ROOT / "README.md" in files and REFERENCE / "README.md" in files
    anchors = {path: links_and_anchors(path)[1] for path in files}
    broken = []
    for path in files:
        for link in links_and_anchors(path)[0]:
            target, _, anchor = link.partition("#")
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
                broken.append(f"{path.relative_to(ROOT)}: {link} points outside the repository")
                continue
            resolved = (path.parent / target).resolve() if target else path
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{path.relative_to(ROOT)}: {link} is not a file of the repository")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors.get(resolved, set()):
                broken.append(f"{path.relative_to(ROOT)}: {link} names no heading of {resolved.name}")
    assert broken == []
