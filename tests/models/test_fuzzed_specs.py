"""Property-based: 10,000 documents drawn from the CRDs' own schemas (conforming, wrong-typed, and the
examples with arbitrary text in their fields). Validation answers each with a model or one-line problems
naming a field, never a traceback; every plan that validates renders, and what it renders is accepted by
promtool (rules) and amtool (routing), whatever text its fields hold. The seed is fixed: a run is
reproducible, and a failure names the document that caused it."""

from __future__ import annotations

import functools
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sre_operator.generate.children import desired_children
from sre_operator.generate.routing import dump_yaml, standalone_config
from sre_operator.models import ServiceReliabilityPlan, parse_document
from tests.conftest import EXAMPLES, ROOT, require_program
from tests.support.crd_strategies import conforming, document, mutated, spec_schemas

# Live: what the documents render to goes through promtool and amtool (and 10,000 cases take a minute).
pytestmark = pytest.mark.live
CASES = {"conforming": 5_000, "wrong types": 2_000, "examples with arbitrary text": 3_000}
SCHEMAS = spec_schemas(ROOT / "crds")
EXAMPLE_DOCUMENTS = [d for path in EXAMPLES for d in yaml.safe_load_all(path.read_text("utf-8")) if d]


def _drawn(wild: bool) -> st.SearchStrategy[dict[str, Any]]:
    return st.sampled_from(sorted(SCHEMAS)).flatmap(
        lambda kind: conforming(SCHEMAS[kind], wild).map(lambda spec: document(kind, spec))
    )


STRATEGIES: dict[str, Callable[[], st.SearchStrategy[dict[str, Any]]]] = {
    "conforming": lambda: _drawn(wild=False),
    "wrong types": lambda: _drawn(wild=True),
    "examples with arbitrary text": lambda: mutated(EXAMPLE_DOCUMENTS),
}


@dataclass
class Fuzzed:
    cases: int = 0
    valid: dict[str, int] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    routing: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def one_document(found: Fuzzed, drawn: dict[str, Any]) -> None:
    parsed = parse_document(drawn)
    found.cases += 1
    assert (parsed.model is None) == bool(parsed.problems)
    for problem in parsed.problems:
        assert problem.path and problem.message and "\n" not in problem.message, problem
        assert len(problem.message) < 500, problem
    if parsed.model is None:
        return
    found.valid[parsed.kind] = found.valid.get(parsed.kind, 0) + 1
    if isinstance(parsed.model, ServiceReliabilityPlan):
        for child in desired_children(parsed.model):
            if child["kind"] == "PrometheusRule":
                found.rules.append(child["spec"])
        config = standalone_config(parsed.model)
        if config is not None:
            found.routing.append(config)


@functools.cache
def fuzz() -> Fuzzed:
    """Once per run: pytest sets a module fixture up again for each parameter of the session's ``promtool``,
    and the 10,000 cases take minutes."""
    found = Fuzzed()
    started = time.monotonic()
    for name, count in CASES.items():

        @settings(
            max_examples=count, derandomize=True, database=None, deadline=None,
            suppress_health_check=list(HealthCheck), print_blob=True,
        )  # fmt: skip
        @given(STRATEGIES[name]())
        def check(drawn: dict[str, Any]) -> None:
            one_document(found, drawn)

        check()
    found.seconds = time.monotonic() - started
    print(f"fuzzed {found.cases} documents in {found.seconds:.0f} s; valid: {found.valid}; "
          f"{len(found.rules)} rule files, {len(found.routing)} routing configurations")  # fmt: skip
    return found


@pytest.fixture
def fuzzed() -> Fuzzed:
    return fuzz()


def test_ten_thousand_documents_get_a_model_or_one_line_problems(fuzzed: Fuzzed) -> None:
    assert fuzzed.cases >= sum(CASES.values())
    assert fuzzed.valid.get("ServiceReliabilityPlan", 0) > 100, fuzzed.valid  # the renderers were reached


def _in_files(folder: Path, documents: list[dict[str, Any]], dump: Callable[[Any], str]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, content in enumerate(documents):
        path = folder / f"{i}.yaml"
        path.write_text(dump(content), encoding="utf-8")
        paths.append(str(path))
    return paths


def _in_batches(command: list[str], paths: list[str]) -> None:
    for start in range(0, len(paths), 200):
        result = subprocess.run([*command, *paths[start : start + 200]], capture_output=True, text=True, check=False)
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]


def test_promtool_accepts_every_rule_file_rendered(fuzzed: Fuzzed, promtool: str, tmp_path: Path) -> None:
    assert fuzzed.rules
    paths = _in_files(tmp_path, fuzzed.rules, lambda spec: yaml.safe_dump(spec, sort_keys=False))
    _in_batches([promtool, "check", "rules"], paths)


def test_amtool_accepts_every_routing_rendered(fuzzed: Fuzzed, tmp_path: Path) -> None:
    amtool = require_program("amtool", "bash scripts/test.sh installs Debian's 'prometheus-alertmanager' package")
    assert fuzzed.routing
    _in_batches([amtool, "check-config"], _in_files(tmp_path, fuzzed.routing, dump_yaml))
