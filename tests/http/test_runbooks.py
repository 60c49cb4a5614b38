"""Every alert's runbook_url answers from the operator's HTTP server, with all five sections, numbers in Impact,
and nothing a plan says running as template, markup or script."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from sre_operator.gates.book import GateBook
from sre_operator.generate import RenderOptions, prometheus_rule
from sre_operator.generate.documents import runbooks
from sre_operator.http import Health, Metrics, http_app
from sre_operator.models import ServiceReliabilityPlan
from tests.conftest import example_plans, plan_from_yaml
from tests.http.test_endpoints import call

BASE = "http://sre-operator.sre-operator.svc:8080/runbooks"
SECTIONS = ["Meaning", "Impact", "Diagnosis", "Mitigation", "Escalation"]
NASTY = """{{ 7*191 }} {% if true %}x{% endif %} <script>alert("x")</script> "quoted" 'single' ` [link](javascript:x) # hash"""


def app_for(plans: list[ServiceReliabilityPlan]) -> Any:
    documents = {
        (p.metadata.namespace, p.metadata.name): runbooks(p, RenderOptions(runbook_base_url=BASE)) for p in plans
    }

    def source(namespace: str, plan: str, slo: str) -> str | None:
        return documents.get((namespace, plan), {}).get(f"{slo}.md")

    return http_app(GateBook(), Metrics(), Health(), source)


def sections_after(page: str, alert: str) -> list[str]:
    start = page.index(f'<h2 id="{alert}">')
    end = page.find("<h2", start + 1)
    return re.findall(r"<h3>([^<]+)</h3>", page[start : end if end > 0 else None])


def test_every_alerts_runbook_url_resolves_with_five_sections_and_numbers() -> None:
    plans = [p for p in example_plans() if not (p.spec.runbooks and p.spec.runbooks.base_url)]
    assert plans, "the examples include plans that use the operator's own runbook server"
    urls = [
        rule["annotations"]["runbook_url"]
        for plan in plans
        for group in prometheus_rule(plan, RenderOptions(runbook_base_url=BASE))["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]

    async def check(client: TestClient[Any, Any]) -> None:
        for url in urls:
            parsed = urllib.parse.urlsplit(url)
            assert url.startswith(BASE + "/")
            answer = await client.get(parsed.path)
            assert answer.status == 200, url
            assert answer.headers["Content-Security-Policy"].startswith("default-src 'none'")
            page = await answer.text()
            assert sections_after(page, parsed.fragment) == SECTIONS, url
            impact = page[page.index("<h3>Impact</h3>", page.index(f'id="{parsed.fragment}"')) :]
            impact = impact[: impact.index("<h3>Diagnosis</h3>")]
            assert re.search(r"\d", impact), f"Impact without numbers: {impact}"
        markdown = await client.get(urllib.parse.urlsplit(urls[0]).path, headers={"Accept": "text/markdown"})
        assert markdown.content_type == "text/markdown" and (await markdown.text()).startswith("# ")

    call(app_for(plans), check)
    assert len(urls) >= 6


def test_burn_alerts_say_how_long_the_budget_lasts() -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    text = runbooks(checkout)["availability.md"]
    assert "At 14.4x (the 1h/5m tier) 2% of the 30d budget goes every 1h; a full budget is gone in 2 days 2 hours." in (
        text.replace("\\(", "(").replace("\\)", ")")
    )
    assert 'slo:burn_rate:ratio{namespace="shop", service="checkout", slo="availability"}' in text
    assert 'up{job="checkout"}' in text, "the no-data alert asks whether the target is scraped"


def nasty_plan() -> ServiceReliabilityPlan:
    quoted = NASTY.replace("\\", "\\\\").replace('"', '\\"')
    return plan_from_yaml(
        f"""
apiVersion: reliability.dev/v1alpha1
kind: ServiceReliabilityPlan
metadata: {{name: nasty, namespace: shop}}
spec:
  service:
    name: nasty
    owner: {{team: "{quoted}", contact: "{quoted}"}}
  slos:
    - name: availability
      description: "{quoted}"
      objective: 99.9
      indicator: {{ratio: {{errors: 'errors_total{{path="{quoted.replace("'", "''")}"}}', total: 'requests_total'}}}}
      alerting: {{noDataFor: 10m}}
  runbooks:
    entries:
      availability: {{diagnosis: ["{quoted}"], mitigation: ["{quoted}"]}}
  incident:
    escalation: [{{after: 5m, notify: "{quoted}"}}]
"""
    )


def test_plan_text_cannot_inject_templates_markup_or_script() -> None:
    plan = nasty_plan()
    markdown = runbooks(plan)["availability.md"]
    assert "1337" not in markdown and "{{ 7\\*191 }} {% if true %}x" in markdown, "templates stay literal"
    prose = re.sub(r"(?<!\\)`[^`]*`", "", markdown)  # outside code spans, where Markdown renders text literally
    assert "<script>" not in prose and "\\<script\\>" in prose

    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.get("/runbooks/shop/nasty/availability")
        page = await answer.text()
        assert answer.status == 200
        assert "<script" not in page.lower()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        assert "{{ 7*191 }}" in page and "{% if true %}" in page and "1337" not in page
        assert not re.search(r"<a\b", page), "no link can be injected"

    call(app_for([plan]), check)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/runbooks/shop/checkout/availability", 200),
        ("/runbooks/shop/checkout/no-such-slo", 404),
        ("/runbooks/shop/nobody/availability", 404),
        ("/runbooks/Shop/checkout/availability", 400),
    ],
)
def test_runbook_requests(path: str, status: int) -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.get(path)
        assert answer.status == status
        if status != 200:
            assert list(await answer.json()) == ["error"]

    call(app_for(example_plans()), check)
