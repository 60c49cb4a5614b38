"""Reading YAML files of our kinds: every document, with a Problem for YAML that does not parse."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sre_operator.errors import Problem
from sre_operator.models import Parsed, parse_document


@dataclass(frozen=True)
class SourceDocument:
    source: str
    index: int
    body: Any


def _date_as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    # The API server stores dates as strings; read files the same way so both paths see one shape.
    return str(loader.construct_scalar(node))


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_text)


def load_text(text: str, source: str) -> tuple[list[SourceDocument], list[Problem]]:
    try:
        bodies = [b for b in yaml.load_all(text, Loader=_Loader) if b is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(document)"
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        return [], [Problem(where, f"is not valid YAML ({reason})", source)]
    return [SourceDocument(source, i, body) for i, body in enumerate(bodies)], []


def load_files(paths: Iterable[str]) -> tuple[list[SourceDocument], list[Problem]]:
    documents: list[SourceDocument] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            problems.append(Problem("(file)", f"cannot be read ({error.strerror})", path))
            continue
        found, wrong = load_text(text, path)
        documents += found
        problems += wrong
    return documents, problems


def embedded_examples() -> list[tuple[str, str]]:
    """The example plans shipped inside the package, as (name, text), for runs with no files given."""
    folder = resources.files("sre_operator").joinpath("examples")
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir() if entry.name.endswith(".yaml")
    )


def load_embedded_examples() -> tuple[list[SourceDocument], list[Problem]]:
    documents: list[SourceDocument] = []
    problems: list[Problem] = []
    for name, text in embedded_examples():
        found, wrong = load_text(text, f"examples/{name}")
        documents += found
        problems += wrong
    return documents, problems


def parse_all(documents: list[SourceDocument]) -> list[Parsed]:
    return [parse_document(d.body, d.source) for d in documents]
