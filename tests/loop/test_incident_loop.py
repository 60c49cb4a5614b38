"""The whole loop with live parts: traffic with an error burst is scraped by a live Prometheus running the rules
the operator wrote to the API server, the page goes through a live Alertmanager running the routing the operator
wrote, and the operator records one Incident from it, measures the budget it spent once it resolves and drafts
the postmortem. Repeats of the page (every few seconds here) create nothing.

It takes about eight minutes: the page resolves only once the burst has left the 5-minute window.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import datetime
import http.server
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
import yaml

from sre_operator.generate import names
from sre_operator.generate.routing import SECRETS_MOUNT
from tests.conftest import require_program
from tests.support.alertmanager import live_alertmanager, webhook_sink
from tests.support.controlplane import ControlPlane, free_port
from tests.support.operator import RunningOperator, operator_in_process, plan_condition, wait_for
from tests.support.prometheus import DAY, HISTORY_DAYS, LivePrometheus, Traffic, history_start

NAMESPACE = "loop"
SERVICE = "burst"
OPERATOR_USER = "sre-operator-loop"
TOKEN = "loop-token"
OBJECTIVE = 99.9
REQUESTS_PER_SECOND = 10.0
BASELINE_ERROR_RATIO = 0.0005
# Ninety seconds of total failure. The burn-rate windows sum one-minute tiles, so a burst weighs in at the
# evaluation after its errors were scraped; 52 seconds of it are past the 1h page threshold (14.4 x 0.1% of
# the hour), and the whole of it short of the 6h tier (6 x 0.1% of 6 hours is 130 s). The page fires a
# minute or two in and resolves once the 5m window is clear of the burst, about six and a half minutes in.
BURST_ERROR_RATIO = 1.0
BURST_SECONDS = 90
OUTAGE_PERCENT = 1.0
# The plan's tile: its series are scraped more often than the default 30s, so a minute.
TILE_SECONDS = 60


@dataclass
class BurstyTraffic:
    """``http_requests_total{job, code}`` as a function of time: the backfilled steady traffic, continued,
    with one burst of errors when the test starts it. Requests stay steady; the burst turns some into errors."""

    start: int
    burst: tuple[float, float] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def errors(self, at: float) -> float:
        counted = REQUESTS_PER_SECOND * BASELINE_ERROR_RATIO * (at - self.start)
        if self.burst is not None:
            begin, end = self.burst
            overlap = max(0.0, min(at, end) - begin)
            counted += REQUESTS_PER_SECOND * (BURST_ERROR_RATIO - BASELINE_ERROR_RATIO) * overlap
        return counted

    def exposition(self, at_ms: int) -> str:
        """The counters at ``at_ms``, stamped with it: on a busy machine the scrape's own timestamp (when it
        started) can be a large part of a second before this handler runs."""
        at = at_ms / 1000
        errors = self.errors(at)
        ok = REQUESTS_PER_SECOND * (at - self.start) - errors
        return (
            "# TYPE http_requests_total counter\n"
            f'http_requests_total{{job="{SERVICE}",code="200"}} {ok!r} {at_ms}\n'
            f'http_requests_total{{job="{SERVICE}",code="500"}} {errors!r} {at_ms}\n'
        )


class Scraped(http.server.BaseHTTPRequestHandler):
    traffic: ClassVar[BurstyTraffic]

    def do_GET(self) -> None:
        body = Scraped.traffic.exposition(int(time.time() * 1000)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> tuple[http.server.ThreadingHTTPServer, str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


def documents() -> list[dict[str, Any]]:
    plan = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": SERVICE, "namespace": NAMESPACE},
        "spec": {
            "service": {
                "name": SERVICE,
                "owner": {"team": "payments"},
                "journeys": [{"name": "checkout", "description": "Pay for the basket"}],
            },
            "slos": [
                {
                    "name": "availability",
                    "objective": OBJECTIVE,
                    "window": "30d",
                    "journey": "checkout",
                    "indicator": {
                        "ratio": {
                            "errors": f'http_requests_total{{job="{SERVICE}",code="500"}}',
                            "total": f'http_requests_total{{job="{SERVICE}"}}',
                        }
                    },
                }
            ],
            "alerting": {
                "routing": {
                    "page": {"slack": {"apiURLSecret": {"name": f"{SERVICE}-hooks", "key": "page"}}},
                    "outputs": ["alertmanagerSecret"],
                }
            },
            "release": {"policyRef": "outages"},
        },
    }
    policy = {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ErrorBudgetPolicy",
        "metadata": {"name": "outages", "namespace": NAMESPACE},
        "spec": {
            "rules": [{"name": "warn", "when": {"budgetRemainingBelow": 10}, "actions": ["notify"]}],
            "outage": {"singleIncidentBudgetPercent": OUTAGE_PERCENT},
        },
    }
    return [plan, policy]


def child(control_plane: ControlPlane, kind: str, name: str) -> dict[str, Any] | None:
    answer = control_plane.kubectl("-n", NAMESPACE, "get", kind, name, "-o", "json")
    return json.loads(answer.stdout) if answer.returncode == 0 else None


@dataclass
class Loop:
    operator: RunningOperator
    prometheus: LivePrometheus
    alertmanager: str
    traffic: BurstyTraffic
    paged: list[tuple[str, dict[str, Any]]]  # what the page receiver (Slack's stand-in) got


@pytest.fixture(scope="module")
def loop(control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    prometheus_binary = require_program("prometheus", "bash scripts/test.sh installs Debian's 'prometheus' package")
    promtool = require_program("promtool", "bash scripts/test.sh installs Debian's 'prometheus' package")
    alertmanager_binary = require_program(
        "prometheus-alertmanager", "bash scripts/test.sh installs 'prometheus-alertmanager'"
    )
    folder = tmp_path_factory.mktemp("loop")
    secrets = folder / "secrets"
    (secrets / "sre-operator-alertmanager").mkdir(parents=True)
    (secrets / "sre-operator-alertmanager" / "token").write_text(TOKEN, encoding="utf-8")
    (secrets / f"{SERVICE}-hooks").mkdir()
    stack = contextlib.ExitStack()
    pager_url, paged = stack.enter_context(webhook_sink())  # stands in for Slack
    (secrets / f"{SERVICE}-hooks" / "page").write_text(f"{pager_url}/page", encoding="utf-8")

    control_plane.kubectl("create", "namespace", NAMESPACE)
    assert control_plane.apply(documents()).returncode == 0
    prometheus = LivePrometheus(prometheus_binary, promtool, folder / "prometheus")
    prometheus.folder.mkdir()
    alertmanager_port, http_address = free_port(), f"127.0.0.1:{free_port()}"
    scraped: http.server.ThreadingHTTPServer | None = None
    with operator_in_process(
        control_plane.user_kubeconfig(OPERATOR_USER),
        HTTP_ADDRESS=http_address,
        PROMETHEUS_URL=prometheus.url,
        ALERTMANAGER_TOKEN_FILE=str(secrets / "sre-operator-alertmanager" / "token"),
        ALERTMANAGER_RECEIVER_URL=f"http://{http_address}/v1/alertmanager",
    ) as operator:
        try:
            wait_for(lambda: plan_condition(control_plane, NAMESPACE, SERVICE) == "True", what="the plan Ready")
            rule = wait_for(
                lambda: child(control_plane, "prometheusrules", f"{SERVICE}-slos"), what="the PrometheusRule"
            )
            secret = wait_for(
                lambda: child(control_plane, "secrets", f"{SERVICE}-alertmanager"), what="the routing Secret"
            )
            assert isinstance(rule, dict) and isinstance(secret, dict)
            groups = rule["spec"]["groups"]
            (prometheus.folder / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}), encoding="utf-8")

            end = int(time.time()) // 60 * 60
            traffic = BurstyTraffic(start=history_start(end))
            Scraped.traffic = traffic
            scraped, scraped_address = serve(Scraped)
            prometheus.live_config = {
                "rule_files": [str(prometheus.folder / "rules.yaml")],
                "scrape_configs": [
                    {
                        "job_name": "traffic",
                        "scrape_interval": "1s",
                        "scrape_timeout": "1s",
                        "honor_labels": True,  # the backfilled series carry no instance: continue them
                        "static_configs": [{"targets": [scraped_address]}],
                        "metric_relabel_configs": [{"action": "labeldrop", "regex": "instance"}],
                    }
                ],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]},
            }
            prometheus.backfill(
                [Traffic(SERVICE, REQUESTS_PER_SECOND, BASELINE_ERROR_RATIO)],
                [g for g in groups if g["name"] != f"{SERVICE}-capacity"],
                end=end,
            )

            routing = base64.b64decode(secret["data"]["alertmanager.yaml"]).decode()
            # Test-only: the mounted Secrets' folder, and waits of seconds instead of minutes, with the page
            # repeated every 5 seconds while it fires.
            routing = routing.replace(SECRETS_MOUNT, str(secrets))
            config = yaml.safe_load(routing)
            config["route"].update(group_wait="1s", group_interval="1s", repeat_interval="5s")
            for route in config["route"].get("routes", []):
                for key, value in (("group_wait", "1s"), ("group_interval", "1s"), ("repeat_interval", "5s")):
                    if key in route:
                        route[key] = value
            (folder / "alertmanager.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
            alertmanager = stack.enter_context(
                live_alertmanager(alertmanager_binary, folder / "alertmanager.yml", folder, alertmanager_port)
            )
            wait_for(
                lambda: f'service="{SERVICE}"' in str(operator.get("/metrics")[1]), what="the operator's budget read"
            )
            yield Loop(operator, prometheus, alertmanager, traffic, paged)
        finally:
            stack.close()
            prometheus.stop()
            if scraped is not None:
                scraped.shutdown()


def incidents(control_plane: ControlPlane) -> list[dict[str, Any]]:
    listed = control_plane.kubectl("-n", NAMESPACE, "get", "incidents", "-o", "json")
    items: list[dict[str, Any]] = json.loads(listed.stdout)["items"]
    return items


def webhook_notifications(alertmanager: str) -> float:
    """How many notifications Alertmanager delivered to webhooks (the operator's receiver) so far."""
    with urllib.request.urlopen(f"{alertmanager}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("alertmanager_notifications_total{") and 'integration="webhook"' in line
    )


def when(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def budget_by_hand(loop: Loop, started_at: str, resolved_at: str) -> float:
    """The share of the 30-day budget the incident spent, from the traffic's own counters: the mean of the
    tiles' error rates while the page fired, times the span, over the errors the window allows (0.1% of 30
    days of steady requests). A tile is the errors between the last scrapes at or before an evaluation and a
    minute earlier: scrapes land up to a second before an evaluation, and at 10 errors a second during the
    burst that second is 2% of the span's errors. Only the evaluation and scrape times come from Prometheus."""
    started, ended = when(started_at), when(resolved_at)
    span = max(60, -(-(ended - started) // 60) * 60)
    recorded = f'{names.SLI_RATE}{{namespace="{NAMESPACE}", service="{SERVICE}", {names.LABEL_SLI}="errors"}}'
    (series,) = loop.prometheus.query(f"{recorded}[{span:.0f}s] @ {ended:.0f}")
    moments = [float(t) for t, _ in series["values"]]
    assert len(moments) >= span // 60, f"evaluations missing in the span: {moments}"
    raw = f'http_requests_total{{job="{SERVICE}", code="500"}}'
    (samples,) = loop.prometheus.query(f"{raw}[{span + 2 * TILE_SECONDS:.0f}s] @ {ended:.0f}")
    scraped = [float(t) for t, _ in samples["values"]]

    def last_scrape(at: float) -> float:
        return scraped[bisect.bisect_right(scraped, at) - 1]

    rates = [
        (loop.traffic.errors(last_scrape(t)) - loop.traffic.errors(last_scrape(t - TILE_SECONDS))) / TILE_SECONDS
        for t in moments
    ]
    errors_in_span = sum(rates) / len(rates) * span
    allowed = (1 - OBJECTIVE / 100) * REQUESTS_PER_SECOND * HISTORY_DAYS * DAY
    return errors_in_span / allowed


def test_an_error_burst_becomes_one_incident_with_its_budget_and_a_postmortem_draft(
    loop: Loop, control_plane: ControlPlane, capsys: pytest.CaptureFixture[str]
) -> None:
    assert incidents(control_plane) == []
    began = time.time()
    loop.traffic.burst = (began, began + BURST_SECONDS)

    def opened() -> dict[str, Any] | None:
        found = incidents(control_plane)
        return found[0] if found else None

    incident = wait_for(opened, timeout=480, interval=1, what="an Incident opened by the page")
    assert isinstance(incident, dict)
    wait_for(lambda: [p for p in loop.paged if "SLOErrorBudgetFastBurn" in json.dumps(p)], what="the pager's page too")
    # Repeats of the firing page reach the operator every few seconds and change nothing.
    repeats_before = webhook_notifications(loop.alertmanager)
    wait_for(lambda: webhook_notifications(loop.alertmanager) >= repeats_before + 3, interval=1, what="repeated pages")
    assert [i["metadata"]["name"] for i in incidents(control_plane)] == [incident["metadata"]["name"]]

    def measured() -> dict[str, Any] | None:
        found = [i for i in incidents(control_plane) if (i.get("status") or {}).get("postmortemDraft")]
        return found[0] if found else None

    done = wait_for(measured, timeout=600, interval=2, what="the incident resolved, measured and drafted")
    assert isinstance(done, dict)
    assert len(incidents(control_plane)) == 1, "one alert group, one Incident"
    status = done["status"]
    assert done["spec"]["severity"] == "SEV2"
    assert status["state"] == "Resolved"
    # The page fired while the burst weighed in and resolved once the 5m window was clear of it.
    assert began < when(status["startedAt"]) < began + 420
    assert began + BURST_SECONDS + 240 < when(status["resolvedAt"]) < began + BURST_SECONDS + 420
    assert [entry["event"] for entry in status["timeline"]] == [
        "SLOErrorBudgetFastBurn firing (slo=availability, severity=critical)",
        "SLOErrorBudgetFastBurn resolved (slo=availability, severity=critical)",
        "every alert resolved: incident resolved",
    ]
    assert [entry["at"] for entry in status["timeline"]] == [
        status["startedAt"],
        status["resolvedAt"],
        status["resolvedAt"],
    ]

    consumed = status["budgetConsumed"]["availability"]
    by_hand = budget_by_hand(loop, status["startedAt"], status["resolvedAt"])
    with capsys.disabled():
        print(
            f"\nincident loop: paged {when(status['startedAt']) - began:.0f}s after the burst began, resolved"
            f" {when(status['resolvedAt']) - began:.0f}s after; budget {consumed:.4%} measured, {by_hand:.4%} by hand"
        )
    assert consumed == pytest.approx(by_hand, rel=0.01)
    # The burst's 900 errors are 3.5% of the 30-day budget (25,920 errors); the span sees most of them.
    assert 0.015 < consumed < 0.05
    assert status["postmortemRequired"] is True
    assert f"policy outage rule: {OUTAGE_PERCENT:g}%" in status["postmortemReason"]

    draft = child(control_plane, "configmaps", status["postmortemDraft"])
    assert draft is not None
    text = draft["data"]["postmortem.md"]
    for section in (
        "## Summary",
        "## Impact",
        "## Detection",
        "## Timeline (UTC)",
        "## Root causes",
        "## Trigger",
        "## Resolution",
        "## Action items",
        "### What went well",
        "### What went wrong",
        "### Where we got lucky",
    ):
        assert section in text, section
    assert f"| Budget spent, SLO availability | {consumed:.2%} of the 30d budget |" in text
    assert "checkout" in text, "the journeys the SLO serves"
    assert "SLOErrorBudgetFastBurn" in text
    assert "at least one P0 action_ | | P0 |" in text

    # A late repeat of the resolved group (Prometheus resends resolved alerts for a while) changes nothing.
    time.sleep(5)
    after = incidents(control_plane)
    assert len(after) == 1
    assert after[0]["status"]["timeline"] == status["timeline"]
