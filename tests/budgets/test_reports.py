"""Reliability reports read from the live Prometheus' 30 days of history, against hand-computed figures."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.budgets.conftest import OBJECTIVE, TRAFFIC, plan_document
from tests.support.prometheus import LivePrometheus


def report(prometheus: LivePrometheus, tmp_path: Path, period: str) -> tuple[str, dict]:
    plans = tmp_path / "plans.yaml"
    plans.write_text(yaml.safe_dump_all([plan_document("spent")]), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sre_operator.cli", "report", str(plans), "--prometheus-url", prometheus.url, "--period", period],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Reliability report" in result.stdout, result.stdout + result.stderr
    text = result.stdout
    data = json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0])
    return text, data


def test_a_weekly_report_matches_the_hand_figures(live_prometheus: LivePrometheus, tmp_path: Path) -> None:
    end = datetime.datetime.fromtimestamp(live_prometheus.end, datetime.UTC)
    year, week, _ = (end - datetime.timedelta(days=8)).isocalendar()
    text, data = report(live_prometheus, tmp_path, f"{year}-W{week:02d}")
    (slo,) = data["slos"]
    error_ratio, budget = TRAFFIC["spent"].error_ratio, 1 - OBJECTIVE / 100
    assert slo["data"] == "complete" and slo["hours_with_data"] >= 166, text  # the backfill may drop an hour
    assert abs(slo["attainment"] - (1 - error_ratio)) < 1e-6
    assert abs(slo["budgetConsumed"] - error_ratio / budget) / (error_ratio / budget) < 0.01
    assert slo["met"] is False  # 99.8% against 99.9%
    assert "| availability | 99.9% | 99.800% | **no** | 200.0% | -100.0% | complete |" in text


def test_a_calendar_month_report_matches_and_says_how_much_data_it_had(
    live_prometheus: LivePrometheus, tmp_path: Path
) -> None:
    month = datetime.datetime.fromtimestamp(live_prometheus.end, datetime.UTC) - datetime.timedelta(days=1)
    _, data = report(live_prometheus, tmp_path, f"{month.year}-{month.month:02d}")
    (slo,) = data["slos"]
    error_ratio = TRAFFIC["spent"].error_ratio
    assert abs(slo["attainment"] - (1 - error_ratio)) < 1e-6
    assert slo["hours_with_data"] > 0
    assert slo["data"] == "complete" or slo["data"].startswith("partial data (")


def test_a_period_without_data_says_so_instead_of_100_percent(live_prometheus: LivePrometheus, tmp_path: Path) -> None:
    text, data = report(live_prometheus, tmp_path, "2020-01")
    (slo,) = data["slos"]
    assert (slo["data"], slo["attainment"], slo["met"]) == ("no data", None, None)
    assert "| availability | 99.9% | n/a | n/a | n/a | n/a | no data |" in text
    assert "100.000%" not in text
