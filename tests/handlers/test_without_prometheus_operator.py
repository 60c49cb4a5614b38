"""A cluster without the Prometheus Operator: the plan says so, and its rules still arrive, as a plain rules file."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, require_program
from tests.support.controlplane import ControlPlane, read_crds
from tests.support.operator import cluster_with_operator, wait_for

pytestmark = pytest.mark.controlplane


@pytest.fixture(scope="module")
def bare_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    with cluster_with_operator(
        tmp_path_factory.mktemp("bare"), read_crds(sorted((ROOT / "crds").glob("*.yaml")))
    ) as plane:
        yield plane


def test_rules_arrive_as_a_config_map_and_a_condition_says_why(bare_cluster: ControlPlane) -> None:
    # One promtool is enough for the file's form (the rules are checked on 2.42 and 3.x elsewhere); the
    # parametrised fixture would recreate this module's cluster per version and lose the log the next test reads.
    promtool = require_program("promtool", "bash scripts/test.sh installs Debian's 'prometheus' package")
    plan = yaml.safe_load((ROOT / "references" / "examples" / "batch.yaml").read_text(encoding="utf-8"))
    bare_cluster.kubectl("create", "namespace", plan["metadata"]["namespace"])
    assert bare_cluster.apply([plan]).returncode == 0

    def ready() -> dict[str, Any] | None:
        result = bare_cluster.kubectl("-n", "data", "get", "srp", "nightly-export", "-o", "json")
        body = json.loads(result.stdout) if result.returncode == 0 else {}
        conditions = {c["type"]: c for c in (body.get("status") or {}).get("conditions", [])}
        return conditions if conditions.get("Ready", {}).get("status") == "True" else None

    conditions = wait_for(ready, timeout=60, what="Ready without the Prometheus Operator")
    assert isinstance(conditions, dict)
    assert conditions["PrometheusOperator"]["status"] == "False"
    assert "ConfigMap" in conditions["PrometheusOperator"]["message"]
    result = bare_cluster.kubectl(
        "-n", "data", "get", "configmap", "nightly-export-prometheus-rules", "-o", "json", check=True
    )
    config_map = json.loads(result.stdout)
    assert config_map["metadata"]["labels"]["reliability.dev/prometheus-rules"] == "true"
    ((filename, text),) = config_map["data"].items()
    assert filename == "data-nightly-export.rules.yaml"
    rules_file = bare_cluster.folder / filename
    rules_file.write_text(text, encoding="utf-8")
    checked = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_operator_logs_no_error_for_the_missing_api(bare_cluster: ControlPlane) -> None:
    log = Path(bare_cluster.folder / "operator.log").read_text(errors="replace")
    assert "Creation is processed: 1 succeeded" in log
    # Handler failures are logged by kopf.objects; list retries while fresh CRDs initialise are not ours.
    failures = [line for line in log.splitlines() if "kopf.objects" in line and "[ERROR" in line]
    assert failures == []
