"""The operator against a live Prometheus: budgets into plan status and metrics, gates that open and freeze on
them, a freeze that lifts only after holdFor, and a Prometheus that stops."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sre_operator.ui.charts import month_bounds
from tests.budgets.conftest import NAMESPACE, OBJECTIVE, TRAFFIC, plan_document
from tests.support.controlplane import ControlPlane
from tests.support.operator import RunningOperator, operator_in_process, wait_for
from tests.support.prometheus import LivePrometheus

pytestmark = pytest.mark.controlplane
OPERATOR_USER = "sre-operator-budgets"


def policy(name: str, freeze_below: float, hold_for: str = "1h") -> dict[str, Any]:
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "rules": [
                {"name": "warn", "when": {"budgetRemainingBelow": 60}, "actions": ["notify"]},
                {
                    "name": "freeze",
                    "when": {"budgetRemainingBelow": freeze_below},
                    "actions": ["freezeReleases", "requirePostmortem"],
                },
            ],
            "unfreeze": {"budgetRemainingAbove": 0, "holdFor": hold_for},
            "onUnknown": "allow",
        },
    }


def gate(service: str, policy_name: str = "budget-policy") -> dict[str, Any]:
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ReleaseGate",
        "metadata": {"name": service, "namespace": NAMESPACE},
        "spec": {
            "planRef": {"name": service},
            "policyRef": {"name": policy_name},
            "targets": [{"kind": "Deployment", "name": service}],
        },
    }


@pytest.fixture(scope="module")
def operator(control_plane: ControlPlane, live_prometheus: LivePrometheus) -> Iterator[RunningOperator]:
    control_plane.kubectl("create", "namespace", NAMESPACE)
    documents = [plan_document(service) for service in TRAFFIC]
    documents += [policy("budget-policy", 0), policy("recovery-policy", 10)]
    documents += [gate("healthy"), gate("spent"), gate("recovering", "recovery-policy")]
    assert control_plane.apply(documents).returncode == 0
    with operator_in_process(
        control_plane.user_kubeconfig(OPERATOR_USER),
        PROMETHEUS_URL=live_prometheus.url,
        EVALUATION_INTERVAL="1",
        BUDGET_STALE_AFTER="3600",
    ) as running:
        yield running


def status_of(plane: ControlPlane, resource: str, name: str) -> dict[str, Any]:
    result = plane.kubectl("-n", NAMESPACE, "get", resource, name, "-o", "json")
    return dict(json.loads(result.stdout).get("status") or {}) if result.returncode == 0 else {}


def settled(plane: ControlPlane, name: str, state: str) -> dict[str, Any]:
    found = wait_for(
        lambda: (lambda s: s if s.get("state") == state else None)(status_of(plane, "rgate", name)),
        timeout=30,
        what=f"gate {name} {state}",
    )
    assert isinstance(found, dict)
    return found


def test_budgets_decide_the_gates(control_plane: ControlPlane, operator: RunningOperator) -> None:
    healthy = settled(control_plane, "healthy", "Open")
    assert healthy["reason"] == "Open: availability has 50% of its 30d budget left (rule warn: notify)"
    assert healthy["budgetRemaining"] == pytest.approx(0.5, abs=0.01)
    assert healthy["burnRates"]["1h"] == pytest.approx(0.5, abs=0.01)
    spent = settled(control_plane, "spent", "Frozen")
    assert spent["reason"] == (
        "Frozen: availability has -100% of its 30d budget left (rule freeze); reopens above 0% held for 1h"
    )
    assert (spent["allowed"], spent["slo"], spent["rule"], spent["frozenBy"]) == (
        False,
        "availability",
        "freeze",
        "budget",
    )
    code, answer = operator.get(f"/v1/gates/{NAMESPACE}/spent")
    assert code == 200 and answer["budgetRemaining"] == pytest.approx(-1.0, abs=0.01)
    assert answer["decisionId"] == spent["decisionId"]


def test_plans_show_their_budgets_and_the_policy_acts(control_plane: ControlPlane, operator: RunningOperator) -> None:
    def plan_budget() -> dict[str, Any] | None:
        slos = status_of(control_plane, "srp", "spent").get("slos") or {}
        return slos.get("availability") if "budgetRemaining" in slos.get("availability", {}) else None

    slo = wait_for(plan_budget, what="status.slos of plan spent")
    assert isinstance(slo, dict)
    assert slo["budgetRemaining"] == pytest.approx(-1.0, abs=0.01) and slo["unknown"] == ""
    assert slo["rules"] == ["warn", "freeze"] and slo["burnRates"]["30d"] == pytest.approx(2.0, rel=0.01)
    required = status_of(control_plane, "srp", "spent")["postmortemsRequired"]
    assert [(r["slo"], r["rule"], r["url"]) for r in required] == [("availability", "freeze", "")]
    listed = control_plane.kubectl("-n", NAMESPACE, "get", "srp").stdout
    rows = {line.split()[0]: line.split()[3] for line in listed.splitlines()[1:]}
    assert rows == {"healthy": "50%", "spent": "-100%", "recovering": "5%"}
    events = json.loads(
        control_plane.kubectl(
            "-n", NAMESPACE, "get", "events", "--field-selector", "reason=BudgetPolicy", "-o", "json"
        ).stdout
    )["items"]
    notified = {(e["involvedObject"]["name"], e["message"].split(" (")[0]) for e in events}
    assert ("healthy", "rule warn") in notified and ("spent", "rule freeze") in notified
    _, metrics = operator.get("/metrics")
    healthy_metric = (
        'sre_operator_slo_error_budget_remaining_ratio{namespace="budgets",service="healthy",slo="availability"} '
    )
    (exported,) = [
        line.removeprefix(healthy_metric) for line in metrics.splitlines() if line.startswith(healthy_metric)
    ]
    assert float(exported) == pytest.approx(0.5, abs=0.01)
    assert 'sre_operator_gate_state{gate="spent",namespace="budgets",state="Frozen"} 1.0' in metrics
    assert "sre_operator_evaluation_duration_seconds_count" in metrics


def test_a_quiet_cycle_writes_nothing(control_plane: ControlPlane, operator: RunningOperator) -> None:
    settled(control_plane, "spent", "Frozen")
    time.sleep(2)
    mark = control_plane.audit_mark()
    time.sleep(5)  # five evaluation cycles
    writes = control_plane.writes_since(mark, OPERATOR_USER)
    assert [(w["verb"], w["objectRef"].get("name")) for w in writes] == []


def test_a_freeze_lifts_only_after_hold_for(control_plane: ControlPlane, operator: RunningOperator) -> None:
    frozen = settled(control_plane, "recovering", "Frozen")
    assert "5% of its 30d budget left (rule freeze)" in frozen["reason"]
    # The policy now freezes only below 0%: the budget (5%) is above the unfreeze line, which must hold 6s.
    assert control_plane.apply([policy("recovery-policy", 0, hold_for="6s")]).returncode == 0
    seen: list[tuple[float, str, str]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = status_of(control_plane, "rgate", "recovering")
        seen.append((time.monotonic(), status["state"], status["reason"]))
        if status["state"] == "Open":
            break
        time.sleep(0.25)
    recovering = [t for t, state, reason in seen if state == "Frozen" and reason.startswith("Frozen: recovering")]
    opened = [t for t, state, _ in seen if state == "Open"]
    assert recovering and opened, seen
    assert opened[0] - recovering[0] >= 4.5, "the freeze lifted before holdFor"
    assert {state for t, state, _ in seen if t < opened[0]} == {"Frozen"}
    assert seen[-1][2] == "Open: availability has 5% of its 30d budget left; above 0% for 6s"


# The web view in a real browser (before the tests below stop Prometheus and delete plans): Debian's Chromium, headless, driven by Selenium through Debian's chromedriver.
HOSTILE = """<script>alert(1)</script> "quoted" 'single' {{ 7*191 }} javascript:alert(1)"""
ARTEFACTS = Path(os.environ.get("SRE_OPERATOR_ARTEFACTS", Path(__file__).resolve().parents[2] / "test-artefacts"))
AXE = Path(__file__).resolve().parents[1] / "data" / "axe" / "axe.min.js"
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000")  # fmt: skip


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: bash scripts/test.sh installs Debian's chromium and chromium-driver")
        pytest.skip("Chromium is missing: bash scripts/test.sh installs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def accessibility_violations(driver: Any) -> list[str]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found: list[str] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => `${v.id}: ${v.help} (${v.nodes.length})`)))"
        ".catch(e => done([`axe failed: ${e}`]));"
    )
    return found


def budget_read(plane: ControlPlane, service: str) -> dict[str, Any]:
    def read() -> dict[str, Any] | None:
        status = status_of(plane, "srp", service)
        return status if status.get("slos", {}).get("availability", {}).get("budgetRemaining") is not None else None

    found: dict[str, Any] = wait_for(read, timeout=60, what=f"the budget of {service}")  # type: ignore[assignment]
    return found


def test_the_web_view_in_a_real_browser(control_plane: ControlPlane, operator: RunningOperator, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    expires = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    hostile = gate("healthy")
    hostile["metadata"]["name"] = "hostile"
    hostile["spec"]["overrides"] = [{"reason": HOSTILE, "by": 'mallory"<b>', "expires": expires}]
    assert control_plane.apply([hostile]).returncode == 0
    wait_for(
        lambda: status_of(control_plane, "rgate", "hostile").get("state") == "Open", timeout=30, what="hostile gate"
    )
    statuses = {service: budget_read(control_plane, service) for service in TRAFFIC}
    folder = ARTEFACTS / "web-view"
    folder.mkdir(parents=True, exist_ok=True)
    origin = operator.http
    pages = {"slos": "/ui/?sort=budget", "slo": f"/ui/slos/{NAMESPACE}/spent/availability", "gates": "/ui/gates",
             "incidents": "/ui/incidents", "reports": "/ui/reports"}  # fmt: skip
    browser.get_log("performance")  # forget what came before
    for name, path in pages.items():
        browser.get(origin + path)
        assert browser.title.endswith("sre-operator"), (name, browser.title)
        browser.save_screenshot(str(folder / f"{name}.png"))
        source = browser.page_source
        assert "<script>alert" not in source and not browser.find_elements(By.CSS_SELECTOR, "main script")
        violations = accessibility_violations(browser)
        assert violations == [], (name, violations)
    # Every request the pages made went to the operator itself: nothing from a CDN, nothing elsewhere.
    urls = requested_urls(browser)
    assert urls and all(url.startswith(origin + "/") for url in urls), [u for u in urls if not u.startswith(origin)]

    # Every budget shown equals the plan's status, which the operator read from Prometheus.
    browser.get(origin + "/ui/")
    for service, status in statuses.items():
        shown = browser.find_element(By.CSS_SELECTOR, f'[data-testid="budget-{NAMESPACE}-{service}-availability"]')
        expected = f"{status['slos']['availability']['budgetRemaining'] * 100:.1f}%"
        assert expected in shown.text, (service, shown.text)
    browser.get(origin + f"/ui/slos/{NAMESPACE}/spent/availability")
    detail = browser.find_element(By.CSS_SELECTOR, '[data-testid="budget"]').text
    assert detail == f"{statuses['spent']['slos']['availability']['budgetRemaining'] * 100:.1f}%"
    # This calendar month, hour by hour, from the hourly means: one point per whole hour since the 1st.
    hours = (time.time() - month_bounds(time.time())[0]) // 3600
    if hours >= 3:
        calendar = browser.find_element(By.CSS_SELECTOR, '[data-testid="calendar-chart"]')
        assert abs(int(calendar.get_attribute("data-points")) - hours) <= 2, (
            calendar.get_attribute("data-points"),
            hours,
        )
    # The SLI over the last hour follows from the status' 1h burn rate: errors at 0.2% against 99.9%, 2x.
    spent = statuses["spent"]["slos"]["availability"]
    sli = browser.find_element(By.CSS_SELECTOR, '[data-testid="sli"]').text
    assert sli == f"{(1 - spent['burnRates']['1h'] * (1 - OBJECTIVE / 100)) * 100:.3f}%" == "99.800%"
    # The budget over the rolling window, and the SLI against the objective: a point every 3 hours of the 30
    # backfilled days.
    budget_points = browser.find_element(By.CSS_SELECTOR, '[data-testid="budget-chart"]').get_attribute("data-points")
    assert 230 <= int(budget_points) <= 240, budget_points
    points = int(browser.find_element(By.CSS_SELECTOR, '[data-testid="sli-chart"]').get_attribute("data-points"))
    assert 230 <= points <= 240, points
    # 30 days of steady traffic recorded: the window is covered and 10 requests a second are plenty.
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="quality"]').text == "ok"
    # The spent gate froze during this module: its history puts a marker on the rolling window's chart.
    froze = browser.find_elements(By.CSS_SELECTOR, '[data-testid="budget-chart"] line[data-kind="gate"] title')
    assert any(": Frozen: " in marker.get_attribute("textContent") for marker in froze), froze
    # Twice the budget's rate everywhere: above the 3d/6h ticket tier's 1x, below every page tier.
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="tier-3d-6h"]').text == "firing"
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="tier-1h-5m"]').text == "ok"

    # The hostile override is shown as text.
    browser.get(origin + "/ui/gates")
    assert HOSTILE in browser.find_element(By.TAG_NAME, "main").text
    assert 'mallory"<b>' in browser.find_element(By.TAG_NAME, "main").text
    assert not browser.find_elements(By.CSS_SELECTOR, "main b")

    # Filters live in the URL: set them in the form, submit, reload: the same rows.
    browser.get(origin + "/ui/")
    search = browser.find_element(By.NAME, "q")
    search.send_keys("spent")
    search.submit()
    wait_for(lambda: "q=spent" in browser.current_url, timeout=10, what="the search in the URL")
    before = browser.find_element(By.CSS_SELECTOR, '[data-testid="slo-count"]').text
    browser.refresh()
    assert browser.find_element(By.CSS_SELECTOR, '[data-testid="slo-count"]').text == before
    assert before.startswith("1 of ")
    browser.save_screenshot(str(folder / "slos-filtered.png"))


def test_a_stopped_prometheus_follows_on_unknown_without_flapping(
    control_plane: ControlPlane, operator: RunningOperator, live_prometheus: LivePrometheus
) -> None:
    settled(control_plane, "spent", "Frozen")
    settled(control_plane, "healthy", "Open")
    live_prometheus.stop()
    try:
        healthy = wait_for(
            lambda: (lambda s: s if "cannot be read" in s.get("reason", "") else None)(
                status_of(control_plane, "rgate", "healthy")
            ),
            what="the healthy gate saying Prometheus cannot be read",
        )
        assert isinstance(healthy, dict)
        assert healthy["state"] == "Open" and healthy["allowed"] is True
        assert healthy["reason"].startswith("Open: budget of availability unknown (Prometheus cannot be read: ")
        assert healthy["reason"].endswith("; policy onUnknown allows releases")
        spent = status_of(control_plane, "rgate", "spent")
        assert spent["state"] == "Frozen" and "unknown budgets do not lift a budget freeze" in spent["reason"]
        first = {name: status_of(control_plane, "rgate", name)["decisionId"] for name in ("healthy", "spent")}
        time.sleep(5)  # five cycles without Prometheus: the same decisions, no flapping
        after = {name: status_of(control_plane, "rgate", name) for name in ("healthy", "spent")}
        assert {name: s["decisionId"] for name, s in after.items()} == first
        assert after["healthy"]["reason"] == healthy["reason"]
        slo = status_of(control_plane, "srp", "healthy")["slos"]["availability"]
        assert slo["unknown"].startswith("Prometheus cannot be read")
    finally:
        live_prometheus.start()


def series(operator: RunningOperator, *fragments: str) -> list[str]:
    """The lines of /metrics (one scrape) that hold every fragment."""
    _, text = operator.get("/metrics")
    return [line for line in text.splitlines() if not line.startswith("#") and all(f in line for f in fragments)]


def test_what_is_deleted_leaves_the_metrics_at_the_next_scrape(
    control_plane: ControlPlane, operator: RunningOperator
) -> None:
    spent = ('namespace="budgets"', 'service="spent"')
    recovering = ('service="recovering"', 'slo="availability"')
    wait_for(lambda: series(operator, "sre_operator_slo_error_budget_remaining_ratio", *spent), what="spent's budget")
    wait_for(lambda: series(operator, "sre_operator_slo_", *recovering), what="recovering's budget")
    assert series(operator, "sre_operator_gate_state", 'gate="healthy"')

    renamed = plan_document("recovering")
    renamed["spec"]["slos"][0]["name"] = "availability-renamed"
    assert control_plane.apply([renamed]).returncode == 0
    assert control_plane.kubectl("-n", NAMESPACE, "delete", "rgate", "healthy").returncode == 0
    assert control_plane.kubectl("-n", NAMESPACE, "delete", "srp", "spent", "--wait=false").returncode == 0

    # Gone as soon as the operator has seen each change: at the next scrape, not the next cycle.
    wait_for(lambda: not series(operator, "sre_operator_slo_", *recovering), timeout=5, what="the removed SLO gone")
    wait_for(lambda: not series(operator, 'gate="healthy"'), timeout=5, what="the deleted gate gone")
    wait_for(lambda: not series(operator, "sre_operator_slo_", *spent), timeout=5, what="the deleted plan gone")
    time.sleep(3)  # three more evaluation cycles bring none of them back
    assert series(operator, "sre_operator_slo_", *recovering) == []
    assert series(operator, 'gate="healthy"') == []
    assert series(operator, "sre_operator_slo_", *spent) == []
    assert series(operator, "sre_operator_gate_state", 'gate="spent"'), "what still exists stays"
