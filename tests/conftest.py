"""Shared fixtures: paths, the example documents, and real external programs."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sre_operator.documents import load_files, parse_all
from sre_operator.models import ServiceReliabilityPlan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "references" / "examples").glob("*.yaml"))
DATA = Path(__file__).resolve().parent / "data"


def require_program(name: str, how: str) -> str:
    """Path of an external program; in CI a missing one fails the test, elsewhere it is skipped with the reason."""
    found = shutil.which(name)
    if found:
        return found
    reason = f"{name} is not installed: {how}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def current_promtool() -> str:
    """promtool of a current Prometheus 3.x, as scripts/prometheus-binaries.sh builds and caches it."""
    folder = os.environ.get("SRE_OPERATOR_PROMETHEUS_BIN") or os.environ.get("PROMETHEUS_BIN")
    if folder and os.access(Path(folder) / "promtool", os.X_OK):
        return str(Path(folder) / "promtool")
    reason = "no Prometheus 3.x promtool: run 'bash scripts/prometheus-binaries.sh' (needs Go) or set PROMETHEUS_BIN"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session", params=["2.42", "3.x"])
def promtool(request: pytest.FixtureRequest) -> str:
    """Every rule check and scenario test runs on Debian's Prometheus 2.42 and on a current 3.x."""
    if request.param == "2.42":
        return require_program("promtool", "bash scripts/test.sh installs Debian's 'prometheus' package")
    return current_promtool()


@pytest.fixture(scope="session")
def check_rules(promtool: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[[dict[str, Any]], str]:
    """Run ``promtool check rules`` on a PrometheusRule's spec; returns promtool's output, fails on rejection."""
    folder = tmp_path_factory.mktemp("check-rules")

    def check(prometheus_rule: dict[str, Any]) -> str:
        path = folder / f"{prometheus_rule['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(prometheus_rule["spec"], sort_keys=False), encoding="utf-8")
        result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    return check


def example_plans() -> list[ServiceReliabilityPlan]:
    documents, problems = load_files(str(p) for p in EXAMPLES)
    assert not problems
    return [p.model for p in parse_all(documents) if isinstance(p.model, ServiceReliabilityPlan)]


def plan_from_yaml(text: str) -> ServiceReliabilityPlan:
    from sre_operator.documents import load_text

    documents, problems = load_text(text, "inline")
    assert not problems
    (parsed,) = parse_all(documents)
    assert not parsed.problems, parsed.problems
    assert isinstance(parsed.model, ServiceReliabilityPlan)
    return parsed.model


@pytest.fixture(scope="session")
def control_plane(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real kube-apiserver + etcd (+ controllers) with our CRDs, the Prometheus Operator's real CRDs and the
    Argo Rollouts test CRD."""
    from tests.support.controlplane import (
        HOW_TO_GET_PROMETHEUS_OPERATOR_CRDS,
        HOW_TO_PROVIDE,
        find_binaries,
        install_crds,
        prometheus_operator_crds,
        read_crds,
        start_control_plane,
    )

    binaries = find_binaries()
    if binaries is None:
        pytest.skip(HOW_TO_PROVIDE)
    monitoring = prometheus_operator_crds()
    if monitoring is None:
        if os.environ.get("CI"):
            pytest.fail(HOW_TO_GET_PROMETHEUS_OPERATOR_CRDS)
        pytest.skip(HOW_TO_GET_PROMETHEUS_OPERATOR_CRDS)
    plane = start_control_plane(tmp_path_factory.mktemp("control-plane"), binaries)
    try:
        install_crds(
            plane,
            read_crds([*sorted((ROOT / "crds").glob("*.yaml")), *monitoring, *sorted((DATA / "crds").glob("*.yaml"))]),
        )
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"control plane: kube-apiserver ready in {plane.started_in:.1f}s from {binaries}")
        yield plane
    finally:
        plane.stop()


TIERS = ("unit", "controlplane", "live", "e2e")
# Folders whose every test needs a server; a module may say otherwise with its own pytestmark.
FOLDER_TIERS = {"controlplane": "controlplane", "handlers": "controlplane", "budgets": "live", "loop": "live"}
# Fixtures that run Prometheus' or Alertmanager's own programs (promtool, amtool): the live tier.
LIVE_FIXTURES = {"promtool", "check_rules", "amtool"}


@pytest.hookimpl(tryfirst=True)
def pytest_itemcollected(item: pytest.Item) -> None:
    """Every test gets exactly one tier (TESTING.md): its module's mark, else its folder's, else ``live`` when
    it runs promtool or amtool, else ``unit`` (before ``-m`` selects). ``scripts/test.sh --fast``: the unit tier."""
    if any(item.get_closest_marker(tier) for tier in TIERS):
        return
    if (folder := item.path.parts[-2]) in FOLDER_TIERS:
        tier = FOLDER_TIERS[folder]
    elif LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
        tier = "live"
    else:
        tier = "unit"
    item.add_marker(getattr(pytest.mark, tier))
