"""The generated promtool tests: they pass for every example, and they fail when the alerts are wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from sre_operator.generate.alert_tests import plan_test_suites
from tests.conftest import EXAMPLES, example_plans


def run_test_rules(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sre_operator.cli", "test-rules", *args], capture_output=True, text=True, check=False
    )


def test_generated_alert_tests_pass_for_every_example(promtool: str, tmp_path: Path) -> None:
    result = run_test_rules("-o", str(tmp_path), "--promtool", promtool, *map(str, EXAMPLES))
    assert result.returncode == 0, result.stdout + result.stderr
    verdicts = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")]
    assert "FAIL" not in verdicts
    assert verdicts.count("ok") >= 20
    # Each claim of the issue is proven for the complete example.
    checkout = result.stdout.split("shop/checkout SLO availability\n")[1].split("\n", 6)[:6]
    assert checkout == [
        "  ok   a total outage pages within 1 minute (the Workbook's time plus one evaluation) and resolves once"
        " errors stop",
        "  ok   a 20x burn pages within the hour",
        "  ok   errors inside the budget (0.9x burn) alert nobody",
        "  ok   a 5x burn never pages but opens a ticket within a day",
        "  ok   the no-data alert fires once the SLI has been silent for 15m",
        "  ok   the low-traffic guard keeps a total outage on thin traffic from paging",
    ]


def test_scenarios_that_cannot_apply_say_why() -> None:
    search = next(p for p in example_plans() if p.metadata.name == "search")
    success = next(s for s in plan_test_suites(search) if s.slo == "success")
    skipped = {s.name: s.not_applicable for s in success.scenarios if s.not_applicable}
    assert skipped == {
        "a 4.67x burn never pages but opens a ticket within a day": "tickets are off for this SLO",
        "the no-data alert fires when the SLI stops reporting": "alerting.noDataFor is not set",
        "the low-traffic guard keeps a total outage on thin traffic from paging": "alerting.minRequestRate is not set",
    }


def test_expression_slis_are_tested_on_a_synthetic_twin_and_say_so() -> None:
    batch = next(p for p in example_plans() if p.metadata.name == "nightly-export")
    (suite,) = plan_test_suites(batch)
    assert suite.synthetic_reason == (
        "alert logic tested on a synthetic indicator: an expression SLI cannot be fed synthetic traffic"
    )


@pytest.mark.parametrize(
    ("breakage", "failing"),
    [
        # The fast page tier ten times too high: a 20x burn would wait for the slow page tier.
        ({"> 14.4 ": "> 144 "}, "a 20x burn pages within the hour"),
        # Both ticket tiers ten times too high (either alone still tickets a 5x burn in time).
        ({"> 3 ": "> 30 ", "> 1 ": "> 10 "}, "a 5x burn never pages but opens a ticket within a day"),
        # Page tiers at ticket speed: a slow burn would page.
        ({"> 6 ": "> 0.6 ", "> 6)": "> 0.6)"}, "a 5x burn never pages but opens a ticket within a day"),
    ],
)
def test_generated_tests_catch_wrong_alerts(
    promtool: str, tmp_path: Path, breakage: dict[str, str], failing: str
) -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    suite = next(s for s in plan_test_suites(checkout) if s.slo == "availability")
    rules = yaml.safe_dump(suite.rules, width=10_000)
    for broken, replacement in breakage.items():
        assert broken in rules
        rules = rules.replace(broken, replacement)
    (tmp_path / "availability.rules.yaml").write_text(rules, encoding="utf-8")
    for speed, tests in (("fast", suite.fast_tests), ("slow", suite.slow_tests)):
        (tmp_path / f"{speed}.test.yaml").write_text(yaml.safe_dump(tests, width=10_000), encoding="utf-8")
    result = subprocess.run(
        [promtool, "test", "rules", "fast.test.yaml", "slow.test.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert f"name: {failing}," in result.stdout + result.stderr


def test_test_rules_without_promtool_writes_the_files(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    result = subprocess.run(
        [sys.executable, "-m", "sre_operator.cli", "test-rules", "-o", str(tmp_path), str(EXAMPLES[0])],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/nonexistent", "PYTHONPATH": ":".join(sys.path)},
    )
    assert result.returncode == 0, result.stderr
    assert "promtool not found" in result.stderr
    assert list(tmp_path.rglob("*.fast.test.yaml"))
