"""The web view at /ui/ over a real HTTP server: every number from the objects' status, filters and sorting in
the URL, relative links (it works under any path prefix), a strict Content-Security-Policy, and user text that
stays text."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient

from sre_operator.gates.book import GateBook
from sre_operator.http import Health, Metrics, http_app
from sre_operator.kubectl import views
from sre_operator.timestamps import rfc3339
from sre_operator.ui import Coverage, SloHistory, SloKey, UiObjects, slo_list
from sre_operator.ui.charts import month_bounds
from tests.http.test_endpoints import call


def hours_ago(hours: float) -> str:
    """A moment inside every chart's window, however long after this was written the test runs."""
    return rfc3339(datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=hours))


HOSTILE = """<script>alert(1)</script> "quoted" 'single' {{ 7*191 }} javascript:alert(1) <a href="javascript:x">x</a>"""


def plan(namespace: str, name: str, slos: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"service": {"name": name}},
            "status": {"slos": slos, "reports": [{"name": "weekly", "period": "2026-W48", "configMap": f"{name}-reports",
                                                  "writtenAt": "2026-11-30T00:00:00Z"}]}}  # fmt: skip


OBJECTS = UiObjects(
    plans=[
        plan("shop", "checkout", {
            "availability": {"objective": 99.9, "window": "30d", "budgetRemaining": -0.12,
                             "burnRates": {"1h": 14.5, "5m": 20.0}, "rules": [HOSTILE]},
            "latency": {"objective": 99.0, "window": "30d", "budgetRemaining": 0.5, "burnRates": {"1h": 0.5}},
        }),
        plan("search", "search", {"availability": {"objective": 99.5, "window": "28d", "unknown": HOSTILE}}),
    ],
    gates=[{
        "metadata": {"namespace": "shop", "name": "checkout"},
        "spec": {"planRef": {"name": "checkout"}, "slos": ["availability"],
                 "overrides": [{"reason": HOSTILE, "by": "alice", "expires": hours_ago(-2)}]},
        "status": {"state": "Frozen", "allowed": False, "reason": HOSTILE, "budgetRemaining": -0.12,
                   "lastDecisions": [{"at": hours_ago(3), "outcome": "denied", "message": HOSTILE,
                                      "user": "bob"}],
                   "history": [{"at": hours_ago(1), "event": "override-started", "message": f"override by alice: {HOSTILE}"},
                               {"at": hours_ago(50), "event": "Frozen", "message": HOSTILE},
                               {"at": hours_ago(400), "event": "Open", "message": "budget 80% left"}]},
    }],
    incidents=[{
        "metadata": {"namespace": "shop", "name": "checkout-20261201-1000-availability"},
        "spec": {"planRef": {"name": "checkout"}, "severity": "SEV2", "postmortem": {"state": "Draft"}},
        "status": {"state": "Open", "budgetSpent": "23%", "startedAt": hours_ago(50)},
    }],
)  # fmt: skip


class Source:
    def objects(self) -> UiObjects:
        return OBJECTS

    def explain(self, namespace: str, plan: str, slo: str) -> list[str]:
        return [f"record x:\n  sum(rate(http_requests_total{{job={HOSTILE!r}}}[5m]))"]

    async def history(self, namespace: str, plan: str, slo: str, now: float) -> SloHistory:
        # A budget spent steadily over the window, from 100% down to -12%, one point a day; the calendar month
        # at 90% every hour; an SLI at 99.95% every 3 hours but one bad step at 99.5%.
        start = now - 30 * 86400
        budget = [(start + i * 86400, 1.0 - 1.12 * i / 30) for i in range(31)]
        month_start = month_bounds(now)[0]
        calendar = [(month_start + 3600 * (i + 0.5), 0.9) for i in range(int((now - month_start) // 3600))]
        sli = [(start + 10800 * (i + 1), 0.995 if i == 100 else 0.9995) for i in range(240)]
        return SloHistory(now, budget, calendar, sli, 10800.0)

    async def coverage(self, objects: UiObjects) -> dict[SloKey, Coverage]:
        # latency: 10 days of a 30-day window recorded, with 5,000 requests (50 errors allowed at 99%).
        return {("shop", "checkout", "latency"): Coverage(hours=240.0, requests=5000.0),
                ("shop", "checkout", "availability"): Coverage(hours=720.0, requests=2.6e7)}  # fmt: skip

    def tiers(self, namespace: str, plan: str, slo: str, burn_rates: dict[str, float]) -> list[views.TierState]:
        state = "firing" if burn_rates.get("1h", 0) > 14.4 and burn_rates.get("5m", 0) > 14.4 else "ok"
        return [views.TierState("page", "1h", "5m", 14.4, state)]


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        self.urls += [value or "" for name, value in attrs if name in ("href", "src", "action")]


def app() -> Any:
    return http_app(GateBook(), Metrics(), Health(), ui=Source())


PAGES = ["/ui/", "/ui/gates", "/ui/incidents", "/ui/reports", "/ui/slos/shop/checkout/availability"]


def test_every_page_is_html_with_a_strict_policy_relative_links_and_no_script() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        for path in PAGES:
            answer = await client.get(path)
            assert answer.status == 200, path
            assert answer.content_type == "text/html"
            policy = answer.headers["Content-Security-Policy"]
            assert policy.startswith("default-src 'none'") and "script-src" not in policy
            text = await answer.text()
            links = Links()
            links.feed(text)
            assert links.scripts == 0
            # Relative links only: the pages work under any path prefix, and nothing leaves the origin.
            assert all(not re.match(r"^(/|[a-z]+:)", url) for url in links.urls), (path, links.urls)
            assert "<script>alert" not in text and 'href="javascript' not in text
            assert "{{ 7*191 }}" in text.replace("&#34;", '"') or path in ("/ui/incidents", "/ui/reports")
        css = await client.get("/ui/static/ui.css")
        assert css.status == 200 and css.content_type == "text/css"
        assert "prefers-color-scheme: dark" in await css.text()
        moved = await client.get("/ui", allow_redirects=False)
        assert moved.status == 302 and moved.headers["Location"] == "ui/"

    call(app(), check)


def test_the_slo_page_shows_each_number_of_the_status() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        text = await (await client.get("/ui/")).text()
        assert re.search(r'data-testid="budget-shop-checkout-availability">.*?-12\.0%', text, re.S)
        assert re.search(r'data-testid="budget-shop-checkout-latency">.*?50\.0%', text, re.S)
        # 50% of a 99% budget over 30 days: 0.5 * 0.01 * 30 days = 3.6 hours of full outage.
        assert "3.6 h of full outage left" in text
        # At 0.5x, half of the budget lasts 0.5 * 30 days / 0.5 = 30 days.
        assert "30.0 days" in text
        assert "checkout=Frozen" in text
        detail = await (await client.get("/ui/slos/shop/checkout/availability")).text()
        assert 'data-testid="budget">-12.0%' in detail
        assert 'data-testid="burn">14.50x' in detail
        assert 'data-testid="tier-1h-5m">firing<' in detail  # 14.5x over 1h and 20x over 5m: above 14.4x
        assert "exhausted" in detail
        assert 'href="../../../../runbooks/shop/checkout/availability"' in detail
        chart = re.search(r'<svg data-testid="budget-chart" data-points="(\d+)"', detail)
        assert chart is not None and int(chart.group(1)) == 31  # 30 days, one point a day
        calendar = re.search(r'<svg data-testid="calendar-chart" data-points="(\d+)"', detail)
        assert calendar is not None and int(calendar.group(1)) >= 0
        # The admission decision is a marker, its hostile message escaped inside the SVG's <title>; so are each
        # change of the gate's state and the override's start, from the gate's history.
        assert "<title>gate checkout: denied: &lt;script&gt;" in detail
        rolling = detail[detail.index('data-testid="budget-chart"') : detail.index("</svg>")]
        # In time order; the override's end, two hours from now, is past the chart's end.
        assert re.findall(r'data-kind="(\w+)"', rolling) == ["gate", "gate", "admission", "override"]
        assert "<title>gate checkout: Frozen: &lt;script&gt;" in rolling
        assert "<title>gate checkout: override-started: override by alice: &lt;script&gt;" in rolling
        # The SLI: over the last hour from the 1h burn rate (14.5 x 0.1% of errors), over the window from the
        # budget (112% of 0.1% spent); its chart has the objective and a point every 3 hours.
        assert 'data-testid="sli">98.550%' in detail and "99.888% over 30d" in detail
        sli = re.search(r'<svg data-testid="sli-chart" data-points="(\d+)"', detail)
        assert sli is not None and int(sli.group(1)) == 240 and "objective: 99.9%" in detail
        # Data quality from what Prometheus holds: the latency SLO's window is a third recorded, and at 99% its
        # 5,000 requests allow 50 errors: one error spends 2% of the budget.
        assert re.search(r'data-testid="sli-shop-checkout-latency">99.500%<', text)
        latency = re.search(r'data-testid="quality-shop-checkout-latency">([^<]*)<', text)
        assert latency is not None and latency.group(1) == (
            "window not yet covered: 10.0 days of 30d recorded; "
            "too few requests: 5000 in the window, one error spends 2% of the budget"
        )
        assert re.search(r'data-testid="quality-shop-checkout-availability">ok<', text)
        missing = await client.get("/ui/slos/shop/checkout/nope")
        assert missing.status == 404 and (await missing.json())["error"]

    call(app(), check)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["shop/checkout/availability", "shop/checkout/latency", "search/search/availability"]),  # budget, unknown last
        ({"sort": "budget", "dir": "desc"}, ["shop/checkout/latency", "shop/checkout/availability", "search/search/availability"]),
        ({"namespace": "search"}, ["search/search/availability"]),
        ({"gate": "Frozen"}, ["shop/checkout/availability"]),
        ({"q": "LATE"}, ["shop/checkout/latency"]),
        ({"sort": "objective"}, ["shop/checkout/latency", "search/search/availability", "shop/checkout/availability"]),
        ({"sort": "nonsense"}, ["shop/checkout/availability", "shop/checkout/latency", "search/search/availability"]),
    ],
)  # fmt: skip
def test_filters_search_and_sort_come_from_the_url(query: dict[str, str], expected: list[str]) -> None:
    lines = slo_list(OBJECTS, query)["lines"]
    assert [f"{line.namespace}/{line.plan}/{line.slo}" for line in lines] == expected


def test_sort_links_keep_the_filters_so_they_survive_a_reload() -> None:
    links = slo_list(OBJECTS, {"namespace": "shop", "q": "check", "sort": "budget"})["sort_links"]
    assert links["budget"] == "?namespace=shop&q=check&sort=budget&dir=desc"
    assert links["slo"] == "?namespace=shop&q=check&sort=slo&dir=asc"


def test_a_replica_that_is_not_ready_shows_no_page() -> None:
    class NotReady(Health):
        def ready(self) -> tuple[bool, str]:
            return False, "standby"

    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.get("/ui/")
        assert answer.status == 503
        assert "standby" in (await answer.json())["error"]

    call(http_app(GateBook(), Metrics(), NotReady(), ui=Source()), check)


def test_a_thousand_slos_render_as_a_thousand_rows() -> None:
    many = UiObjects(
        plans=[plan("ns", f"p{i}", {f"s{j}": {"objective": 99.9, "window": "30d", "budgetRemaining": 0.5,
                                               "burnRates": {"1h": 1.0}} for j in range(2)}) for i in range(500)]
    )  # fmt: skip
    from sre_operator.ui import render

    page = render("slos.html", slo_list(many, {}), root="")
    assert page.count("<tr>") == 1001  # header and 1,000 SLOs; how fast is bench/ui_bench.py's to say


def test_the_budget_chart_maps_time_and_budget_into_the_plot() -> None:
    from sre_operator.ui.charts import HEIGHT, LEFT, RIGHT, WIDTH, budget_chart

    chart = budget_chart([(0.0, 1.0), (50.0, 0.0), (100.0, -0.5), (200.0, 0.3)], 0.0, 100.0, [(25.0, "frozen", "gate")])
    points = [tuple(float(n) for n in p.split(",")) for p in chart.line.split()]
    assert len(points) == 3 and chart.points == 3  # the point after the end is left out
    assert points[0][0] == LEFT and points[-1][0] == WIDTH - RIGHT
    top, zero, bottom = chart.guides
    assert (top.label, zero.label, bottom.label) == ("100%", "0%", "-50%")
    assert points[0][1] == top.y and points[1][1] == zero.y and points[2][1] == bottom.y < HEIGHT
    assert chart.reference == f"{LEFT},{top.y} {WIDTH - RIGHT},{zero.y}"  # the ideal burn-down
    (marker,) = chart.markers
    assert marker.x == LEFT + (WIDTH - LEFT - RIGHT) / 4 and marker.kind == "gate"
    assert budget_chart([], 0.0, 100.0).points == 0


def test_the_sli_chart_draws_the_objective_and_reaches_down_to_the_worst_point() -> None:
    from sre_operator.ui.charts import sli_chart, sli_points

    steady = sli_chart([(0.0, 0.9995), (50.0, 0.9999)], 0.999, 0.0, 100.0)
    assert [guide.label for guide in steady.guides] == ["100%", "99.9%", "99.7%"]  # twice the budget below
    objective_y = steady.guides[1].y
    assert steady.reference.split()[0].endswith(f",{objective_y}") and steady.reference_title == "objective: 99.9%"
    bad = sli_chart([(0.0, 0.9995), (50.0, 0.95)], 0.999, 0.0, 100.0)
    assert bad.guides[-1].label == "95%"  # the worst hour stays on the plot
    assert bad.line.split()[1].endswith(f",{bad.guides[-1].y}")
    # Each step's SLI is its errors over its requests; a step without requests has none.
    assert sli_points([(1.0, 0.5)], [(1.0, 1000.0), (2.0, 0.0)]) == [(1.0, 0.9995)]


def test_the_calendar_budget_is_weighted_by_traffic_hour_by_hour() -> None:
    from sre_operator.ui.charts import calendar_budget, month_bounds

    # Hour 1: 100 requests/s, 0.05 errors/s; hour 2: 300 requests/s, 0.6 errors/s (0.05% then 0.2%).
    errors = [(3600.0, 0.05), (7200.0, 0.6)]
    requests = [(3600.0, 100.0), (7200.0, 300.0)]
    assert calendar_budget(errors, requests, 0.001) == [
        (3600.0, pytest.approx(0.5)),  # 0.05% of a 0.1% budget spent
        (7200.0, pytest.approx(1 - (0.65 / 400) / 0.001)),  # weighted: 0.1625%, not the mean 0.125%
    ]
    assert calendar_budget([], [(3600.0, 10.0)], 0.001) == [(3600.0, 1.0)]  # no errors recorded: none spent
    start, end = month_bounds(1_772_400_000.0)  # 2026-03-01T21:20:00Z
    assert (start, end) == (1_772_323_200.0, 1_775_001_600.0)  # 1 March to 1 April, UTC


# Times, windows and numbers the operator writes, and object names, which the API server refuses unless they are
# DNS names; every other string gets markup.
STRUCTURED = {"window", "at", "since", "expires", "startedAt", "writtenAt", "namespace", "name"}
INJECTED = (
    "\"'><script>alert(1)</script>{{ 7*191 }}{% if true %}t{% endif %}"
    '<a href="javascript:alert(3)">x</a><img src=x onerror=alert(1)><svg onload=alert(2)>'
)


def hostile(value: Any, key: str = "") -> Any:
    """Every piece of text of an object with markup appended, as a plan or a status could carry it."""
    if isinstance(value, dict):
        return {k: hostile(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [hostile(v, key) for v in value]
    if isinstance(value, str) and key not in STRUCTURED:
        return value + INJECTED
    return value


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self.urls += [value or "" for name, value in attrs if name in ("href", "src", "action")]


def test_markup_in_every_text_field_stays_text_on_every_page() -> None:
    objects = hostile(
        {"plans": list(OBJECTS.plans), "gates": list(OBJECTS.gates), "incidents": list(OBJECTS.incidents)}
    )
    incident = objects["incidents"][0]
    incident["status"]["postmortemDraft"] = "draft" + INJECTED

    class HostileSource(Source):
        def objects(self) -> UiObjects:
            return UiObjects(**objects)

    async def check(client: TestClient[Any, Any]) -> None:
        namespace, plan = objects["plans"][0]["metadata"]["namespace"], objects["plans"][0]["metadata"]["name"]
        slo = next(iter(objects["plans"][0]["status"]["slos"]))
        detail = f"/ui/slos/{quote(namespace, safe='')}/{quote(plan, safe='')}/{quote(slo, safe='')}"
        for path in ["/ui/", "/ui/gates", "/ui/incidents", "/ui/reports", detail]:
            answer = await client.get(path)
            assert answer.status == 200, path
            text = await answer.text()
            tags = Tags()
            tags.feed(text)
            assert not tags.handlers and not {"img", "script"} & tags.tags, path
            assert not [url for url in tags.urls if "javascript" in url], path
            assert "&lt;img src=x onerror=alert(1)&gt;" in text, path  # shown, as text
            assert "{{ 7*191 }}" in text and "1337" not in text, path  # template syntax stays text

    call(http_app(GateBook(), Metrics(), Health(), ui=HostileSource()), check)
