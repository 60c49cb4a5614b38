"""``promtool test rules`` on generated rules: the unit-test runner of Prometheus' own rule engine."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml


def failed_rule_tests(
    promtool: str, folder: Path, rules: dict[str, Any], tests: list[dict[str, Any]], evaluation_interval: str = "1m"
) -> str:
    """Run ``tests`` against ``rules`` (a PrometheusRule's spec) in ``folder``: "" when all pass, else
    promtool's report of what failed."""
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    document = {"rule_files": ["rules.yaml"], "evaluation_interval": evaluation_interval, "tests": tests}
    (folder / "test.yaml").write_text(yaml.safe_dump(document, width=10_000), encoding="utf-8")
    result = subprocess.run(
        [promtool, "test", "rules", "test.yaml"], cwd=folder, capture_output=True, text=True, check=False
    )
    return "" if result.returncode == 0 else result.stdout + result.stderr
