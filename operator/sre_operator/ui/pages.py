"""The web view's pages, from the objects as the operator holds them: pure functions, rendered by a sandboxed,
auto-escaping template environment. Links are relative, so the pages work under any path prefix (an Ingress
serving the operator at /sre/ included)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import PackageLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from sre_operator.durations import seconds
from sre_operator.kubectl import views
from sre_operator.timestamps import parse_rfc3339
from sre_operator.ui.charts import budget_chart, month_bounds, sli_chart

SORTABLE = ("namespace", "plan", "slo", "objective", "sli", "budget", "burn")
MAX_QUERY_TEXT = 200
FEW_ERRORS_ALLOWED = 100.0
"""Below this many errors allowed in the window, one error spends more than 1% of the budget: too few
requests for the budget to say much."""


@dataclass(frozen=True)
class Coverage:
    """What Prometheus holds of an SLO's window: hours recorded, and the requests counted in them."""

    hours: float
    requests: float


SloKey = tuple[str, str, str]
"""(namespace, service, slo), as the recorded series are labelled."""


@dataclass(frozen=True)
class UiObjects:
    """What the pages show: plans, gates and incidents as the API server holds them (metadata, spec, status),
    and how much of each SLO's window Prometheus holds."""

    plans: Sequence[Mapping[str, Any]] = ()
    gates: Sequence[Mapping[str, Any]] = ()
    incidents: Sequence[Mapping[str, Any]] = ()
    coverage: Mapping[SloKey, Coverage] = field(default_factory=dict)


@dataclass(frozen=True)
class SloHistory:
    """An SLO's series from Prometheus range queries, (unix time, ratio) pairs, as of ``now``."""

    now: float = 0.0
    budget: Sequence[tuple[float, float]] = ()
    """The remaining budget over the rolling window."""
    calendar: Sequence[tuple[float, float]] = ()
    """The budget left since the calendar month began."""
    sli: Sequence[tuple[float, float]] = ()
    """The SLI over the rolling window, a point per ``sli_step`` seconds (a few hours)."""
    sli_step: float = 3600.0


@dataclass(frozen=True)
class SloLine:
    namespace: str
    plan: str
    service: str
    slo: str
    objective: float
    window: str
    budget: float | None
    burn: float | None
    gate: str
    quality: str
    link: str
    time_left: str = ""
    exhaustion: str = ""
    bar: int = 0
    sli: float | None = None
    """The SLI over the last hour, from the 1h burn rate."""
    sli_window: float | None = None
    """The SLI over the whole window, from the remaining budget."""


def human(total_seconds: float) -> str:
    """A span as people say it: 43 min, 5.2 h, 3.1 days."""
    if total_seconds < 3600:
        return f"{total_seconds / 60:.0f} min"
    if total_seconds < 2 * 86400:
        return f"{total_seconds / 3600:.1f} h"
    return f"{total_seconds / 86400:.1f} days"


def quality(unknown: str, coverage: Coverage | None, window: str, objective: float) -> str:
    """What keeps an SLO's numbers from meaning much: no data or stale data (the status says why), a window
    Prometheus does not hold in full yet, or so few requests that one error spends a visible part of the
    budget. Empty when the data is sound."""
    if unknown:
        return unknown
    if coverage is None:
        return ""
    notes = []
    window_hours = seconds(window) / 3600
    if coverage.hours < window_hours - 1:
        notes.append(f"window not yet covered: {human(coverage.hours * 3600)} of {window} recorded")
    allowed = coverage.requests * (1 - objective / 100)
    if coverage.requests <= 0:
        notes.append("too few requests: none in the window")
    elif allowed < FEW_ERRORS_ALLOWED:
        notes.append(
            f"too few requests: {coverage.requests:.0f} in the window, one error spends {100 / allowed:.2g}% of the budget"
        )
    return "; ".join(notes)


def _slo_line(
    plan: Mapping[str, Any],
    slo: str,
    state: Mapping[str, Any],
    gates: Sequence[Mapping[str, Any]],
    coverage: Mapping[SloKey, Coverage],
) -> SloLine:
    meta = plan.get("metadata") or {}
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    service = str(((plan.get("spec") or {}).get("service") or {}).get("name", name))
    objective = float(state.get("objective") or 0)
    window = str(state.get("window") or "30d")
    budget = state.get("budgetRemaining")
    burn = (state.get("burnRates") or {}).get("1h")
    time_left = exhaustion = ""
    allowed = 1 - objective / 100
    if budget is not None:
        budget_seconds = allowed * seconds(window)
        time_left = "exhausted" if budget <= 0 else f"{human(budget * budget_seconds)} of full outage left"
        if burn is not None and burn > 0 and budget > 0:
            exhaustion = human(budget * seconds(window) / burn)
    return SloLine(
        namespace=namespace,
        plan=name,
        service=service,
        slo=slo,
        objective=objective,
        window=window,
        budget=budget,
        burn=burn,
        gate=views.gate_state_of(gates, namespace, name, slo),
        quality=quality(
            str(state.get("unknown") or ("" if budget is not None else "not read yet")),
            coverage.get((namespace, service, slo)),
            window,
            objective,
        ),
        link=f"slos/{quote(namespace, safe='')}/{quote(name, safe='')}/{quote(slo, safe='')}",
        time_left=time_left,
        exhaustion=exhaustion,
        bar=0 if budget is None else max(0, min(100, math.floor(budget * 100))),
        sli=None if burn is None else 1 - burn * allowed,
        sli_window=None if budget is None else 1 - (1 - budget) * allowed,
    )


def slo_lines(objects: UiObjects) -> list[SloLine]:
    lines = []
    held = views.gates_by_plan(objects.gates)
    for plan in objects.plans:
        meta = plan.get("metadata") or {}
        gates = held.get((str(meta.get("namespace", "")), str(meta.get("name", ""))), [])
        for slo, state in sorted(((plan.get("status") or {}).get("slos") or {}).items()):
            lines.append(_slo_line(plan, slo, state, gates, objects.coverage))
    return lines


def _clean(query: Mapping[str, str], key: str) -> str:
    return str(query.get(key, ""))[:MAX_QUERY_TEXT]


def slo_list(objects: UiObjects, query: Mapping[str, str]) -> dict[str, Any]:
    """The SLOs page: every SLO, filtered, searched and sorted as the URL says."""
    namespace, gate, text = _clean(query, "namespace"), _clean(query, "gate"), _clean(query, "q").lower()
    sort = _clean(query, "sort") if _clean(query, "sort") in SORTABLE else "budget"
    descending = _clean(query, "dir") == "desc"
    every = slo_lines(objects)
    shown = [
        line
        for line in every
        if (not namespace or line.namespace == namespace)
        and (not gate or gate in line.gate)
        and (not text or text in f"{line.namespace}/{line.plan}/{line.service}/{line.slo}".lower())
    ]

    if sort in ("budget", "burn", "sli"):
        field_name = sort
        known = sorted((x for x in shown if getattr(x, field_name) is not None), key=lambda x: getattr(x, field_name),
                       reverse=descending)  # fmt: skip
        shown = known + [x for x in shown if getattr(x, field_name) is None]  # unknown last, either way
    else:
        shown.sort(key=lambda line: getattr(line, sort), reverse=descending)
    links = {}
    for column in SORTABLE:
        direction = "asc" if column != sort or descending else "desc"
        links[column] = "?" + urlencode({**_kept(query), "sort": column, "dir": direction})
    return {
        "title": "SLOs",
        "lines": shown,
        "total": len(every),
        "namespaces": sorted({line.namespace for line in every}),
        "filters": {"namespace": namespace, "gate": gate, "q": _clean(query, "q")},
        "sort": sort,
        "descending": descending,
        "sort_links": links,
    }


def _kept(query: Mapping[str, str]) -> dict[str, str]:
    return {k: _clean(query, k) for k in ("namespace", "gate", "q") if _clean(query, k)}


def slo_detail(
    objects: UiObjects,
    namespace: str,
    plan_name: str,
    slo: str,
    explained: Sequence[str],
    tiers: Callable[[dict[str, float]], Sequence[views.TierState]] = lambda _: (),
    history: SloHistory = SloHistory(),
) -> dict[str, Any] | None:
    for plan in objects.plans:
        meta = plan.get("metadata") or {}
        if meta.get("namespace") != namespace or meta.get("name") != plan_name:
            continue
        state = ((plan.get("status") or {}).get("slos") or {}).get(slo)
        if state is None:
            return None
        line = _slo_line(plan, slo, state, objects.gates, objects.coverage)
        rates = sorted((state.get("burnRates") or {}).items(), key=lambda item: seconds(item[0]))
        now = history.now
        start = now - seconds(line.window)
        markers = markers_of(objects, namespace, plan_name, slo)
        month = month_bounds(now)
        return {"title": f"{plan_name}/{slo}", "line": line, "burn_rates": rates, "explained": explained,
                "chart": budget_chart(history.budget, start, now, markers) if now else None,
                "calendar_chart": budget_chart(history.calendar, month[0], month[1], markers) if now else None,
                "sli_chart": sli_chart(history.sli, line.objective / 100, start, now, markers) if now else None,
                "sli_step": human(history.sli_step),
                "tiers": list(tiers(dict(state.get("burnRates") or {}))),
                "rules": list(state.get("rules") or []), "evaluated_at": str(state.get("evaluatedAt") or "")}  # fmt: skip
    return None


def window_of(objects: UiObjects, namespace: str, plan_name: str, slo: str) -> str | None:
    """The SLO's window as its plan's status says (None when the operator knows no such SLO)."""
    for plan in objects.plans:
        meta = plan.get("metadata") or {}
        if meta.get("namespace") == namespace and meta.get("name") == plan_name:
            state = ((plan.get("status") or {}).get("slos") or {}).get(slo)
            return None if state is None else str(state.get("window") or "30d")
    return None


def _moment(text: object) -> float | None:
    try:
        return parse_rfc3339(str(text)).timestamp()
    except ValueError:
        return None


def markers_of(objects: UiObjects, namespace: str, plan_name: str, slo: str) -> list[tuple[float, str, str]]:
    """Where the gates holding the SLO changed state, where their overrides started and ended, and the
    releases they judged (as far back as their status keeps)."""
    found: list[tuple[float, str, str]] = []
    for gate in objects.gates:
        meta, spec, status = gate.get("metadata") or {}, gate.get("spec") or {}, gate.get("status") or {}
        holds = (spec.get("planRef") or {}).get("name") == plan_name and (not spec.get("slos") or slo in spec["slos"])
        if meta.get("namespace") != namespace or not holds:
            continue
        name = str(meta.get("name", ""))
        history = status.get("history") or []
        for entry in history:
            if (at := _moment(entry.get("at"))) is not None:
                event = str(entry.get("event", ""))
                kind = "override" if event.startswith("override") else "gate"
                found.append((at, f"gate {name}: {event}: {entry.get('message', '')}", kind))
        if not history and (since := _moment(status.get("since"))) is not None:  # a status from before history
            found.append((since, f"gate {name}: {status.get('state', '')} since then", "gate"))
        for decision in status.get("lastDecisions") or []:
            if (at := _moment(decision.get("at"))) is not None:
                found.append(
                    (at, f"gate {name}: {decision.get('outcome', '')}: {decision.get('message', '')}", "admission")
                )
        for override in spec.get("overrides") or []:
            if (expires := _moment(override.get("expires"))) is not None:
                found.append((expires, f"gate {name}: override by {override.get('by', '')} ends", "override"))
    return sorted(found)


def gate_list(objects: UiObjects) -> dict[str, Any]:
    gates = []
    for gate in objects.gates:
        status = gate.get("status") or {}
        gates.append(
            {
                "row": views.gate_rows([gate])[0],
                "why": views.why(gate, None)[1:],
                "decisions": list(status.get("lastDecisions") or [])[-10:],
                "overrides": list((gate.get("spec") or {}).get("overrides") or []),
            }
        )
    return {"title": "Gates", "gates": gates}


def incident_list(objects: UiObjects) -> dict[str, Any]:
    rows = views.incident_rows(objects.incidents)
    overdue = []
    for plan in objects.plans:
        meta = plan.get("metadata") or {}
        actions = (plan.get("status") or {}).get("correctiveActions") or {}
        for priority, count in sorted((actions.get("overdue") or {}).items()):
            overdue.append((str(meta.get("namespace", "")), str(meta.get("name", "")), priority, count))
    return {"title": "Incidents", "rows": sorted(rows, key=lambda r: r.started, reverse=True), "overdue": overdue}


def report_list(objects: UiObjects) -> dict[str, Any]:
    reports = []
    for plan in objects.plans:
        meta = plan.get("metadata") or {}
        for written in (plan.get("status") or {}).get("reports") or []:
            reports.append({"namespace": meta.get("namespace", ""), "plan": meta.get("name", ""), **written})
    reports.sort(key=lambda r: (r["namespace"], r["plan"], str(r.get("period", ""))))
    return {"title": "Reports", "reports": reports}


@cache
def environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        loader=PackageLoader("sre_operator", "templates/ui"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, context: Mapping[str, Any], *, root: str) -> str:
    """A page; ``root`` is the relative way back to /ui/ from it ("" or "../../../")."""
    return (
        environment()
        .get_template(template)
        .render(**context, root=root, percent=views.percent, percent_sli=sli_percent)
    )


def sli_percent(ratio: float | None) -> str:
    """An SLI with the digits an objective like 99.95% needs."""
    return views.UNKNOWN if ratio is None else f"{ratio * 100:.3f}%"
