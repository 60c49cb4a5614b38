"""The questions of ``sre-operator init`` check each answer as it is typed, and the documents its answers make
validate, with every default marked to revisit."""

from __future__ import annotations

from pathlib import Path

import pytest

from sre_operator.authoring import questions
from sre_operator.budgets.discovery import Candidate
from sre_operator.cli import main

pytestmark = pytest.mark.unit
CHECKS = {q.key: q.check for q in questions()}


@pytest.mark.parametrize(
    ("key", "answer", "problem"),
    [
        ("service", "checkout", None),
        ("service", "Checkout_API", "must be a DNS label"),
        ("errors", 'http_requests_total{code=~"5.."}', None),
        ("errors", "sum(rate(x[5m]))", "must be a series selector"),
        ("errors", 'x{code="5', "is not valid PromQL"),
        ("objective", "99.95", None),
        ("objective", "99.9%", None),
        ("objective", "100", "must be above 0 and below 100"),
        ("objective", "high", "must be a percentage"),
        ("window", "4w", None),
        ("window", "1d", "must be between 7d and 90d"),
        ("window", "a month", "must be a duration"),
        ("freeze", "no", None),
        ("freeze", "maybe", "answer yes or no"),
        ("pager_secret", "hooks/url", None),
        ("pager_secret", "hooks", "give SECRET/KEY"),
    ],
)
def test_each_answer_is_checked_as_it_is_typed(key: str, answer: str, problem: str | None) -> None:
    found = CHECKS[key](answer)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def test_what_prometheus_has_becomes_the_default_sli_and_the_objective_shows_the_sli_now() -> None:
    found = Candidate("ratio", 'http_requests_total{job="api"}', errors='http_requests_total{job="api",code=~"5.."}',
                      requests_per_second=12.5, sli=0.99731)  # fmt: skip
    asked = {q.key: q for q in questions("api", [found])}
    assert asked["service"].default == "api"
    assert asked["errors"].default == found.errors and asked["total"].default == found.total
    assert "12.50 requests/s, SLI over the last day 99.731%" in asked["errors"].why
    assert asked["objective"].prompt == "Objective in percent (it is 99.731% over the last day)"
    assert asked["errors"].assumption == ""  # found in Prometheus: not a guess


def test_one_shot_takes_every_default_marks_each_and_validates(tmp_path: Path) -> None:
    assert main(["init", "--one-shot", "-o", str(tmp_path / "plan.yaml")]) == 0
    written = (tmp_path / "plan.yaml").read_text(encoding="utf-8")
    assert written.count("# ASSUMED, revisit:") == 9
    assert main(["validate", str(tmp_path / "plan.yaml")]) == 0
