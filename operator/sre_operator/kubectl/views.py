"""What ``kubectl sre`` prints, from the objects as the API server holds them: pure functions, no I/O."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sre_operator.durations import seconds
from sre_operator.generate import names, prometheus_rule
from sre_operator.models import ServiceReliabilityPlan
from sre_operator.models.assumptions import alerted_tiers, slo_window
from sre_operator.promql import escape_string
from sre_operator.timestamps import parse_rfc3339, rfc3339

SPARK_LEVELS = "▁▂▃▄▅▆▇█"
UNKNOWN = "<unknown>"
NONE = "<none>"


@dataclass(frozen=True)
class SloRow:
    namespace: str
    plan: str
    slo: str
    objective: str
    window: str
    budget: str
    burn_1h: str
    gate: str
    why_unknown: str


@dataclass(frozen=True)
class GateRow:
    namespace: str
    name: str
    state: str
    allowed: str
    budget: str
    slo: str
    since: str
    reason: str


@dataclass(frozen=True)
class IncidentRow:
    namespace: str
    name: str
    plan: str
    severity: str
    state: str
    budget_spent: str
    postmortem: str
    started: str


def _meta(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace", "")), str(meta.get("name", ""))


def percent(ratio: float | None) -> str:
    return UNKNOWN if ratio is None else f"{ratio * 100:.1f}%"


def _gates_of(gates: Iterable[Mapping[str, Any]], namespace: str, plan: str, slo: str) -> list[Mapping[str, Any]]:
    found = []
    for gate in gates:
        spec = gate.get("spec") or {}
        same_plan = _meta(gate)[0] == namespace and (spec.get("planRef") or {}).get("name") == plan
        if same_plan and (not spec.get("slos") or slo in spec["slos"]):
            found.append(gate)
    return found


def _gate_state(gates: Sequence[Mapping[str, Any]]) -> str:
    """The gates an SLO holds, worst first: Frozen before Evaluating before Open."""
    if not gates:
        return NONE
    order = {"Frozen": 0, "Invalid": 1, "Evaluating": 2, "Open": 3}
    states = sorted(((gate.get("status") or {}).get("state") or "Evaluating", _meta(gate)[1]) for gate in gates)
    states.sort(key=lambda pair: order.get(pair[0], 2))
    return ",".join(f"{name}={state}" for state, name in states)


def gates_by_plan(gates: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[Mapping[str, Any]]]:
    """Gates grouped by the (namespace, plan) they hold, so a listing looks each plan's up once."""
    found: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for gate in gates:
        plan = str(((gate.get("spec") or {}).get("planRef") or {}).get("name", ""))
        found.setdefault((_meta(gate)[0], plan), []).append(gate)
    return found


def gate_state_of(gates: Iterable[Mapping[str, Any]], namespace: str, plan: str, slo: str) -> str:
    """The state of each gate that holds ``slo`` of ``plan``, worst first (``<none>`` when none does)."""
    return _gate_state(_gates_of(gates, namespace, plan, slo))


def slo_rows(plans: Iterable[Mapping[str, Any]], gates: Sequence[Mapping[str, Any]]) -> list[SloRow]:
    """One row per SLO of every plan, as the plans' status says, with the state of the gates it holds."""
    rows = []
    held = gates_by_plan(gates)
    for plan in plans:
        namespace, name = _meta(plan)
        slos: Mapping[str, Any] = (plan.get("status") or {}).get("slos") or {}
        for slo, state in sorted(slos.items()):
            burn = (state.get("burnRates") or {}).get("1h")
            rows.append(
                SloRow(
                    namespace=namespace,
                    plan=name,
                    slo=slo,
                    objective=f"{state.get('objective', 0):g}%",
                    window=str(state.get("window") or UNKNOWN),
                    budget=percent(state.get("budgetRemaining")),
                    burn_1h=UNKNOWN if burn is None else f"{burn:.2f}x",
                    gate=gate_state_of(held.get((namespace, name), ()), namespace, name, slo),
                    why_unknown=str(state.get("unknown") or ""),
                )
            )
    return rows


def gate_rows(gates: Iterable[Mapping[str, Any]]) -> list[GateRow]:
    rows = []
    for gate in gates:
        namespace, name = _meta(gate)
        status = gate.get("status") or {}
        rows.append(
            GateRow(
                namespace=namespace,
                name=name,
                state=str(status.get("state") or "Evaluating"),
                allowed=str(bool(status.get("allowed", True))).lower(),
                budget=percent(status.get("budgetRemaining")),
                slo=str(status.get("slo") or NONE),
                since=str(status.get("since") or UNKNOWN),
                reason=str(status.get("reason") or ""),
            )
        )
    return rows


def incident_rows(incidents: Iterable[Mapping[str, Any]]) -> list[IncidentRow]:
    rows = []
    for incident in incidents:
        namespace, name = _meta(incident)
        spec, status = incident.get("spec") or {}, incident.get("status") or {}
        rows.append(
            IncidentRow(
                namespace=namespace,
                name=name,
                plan=str((spec.get("planRef") or {}).get("name", "")),
                severity=str(spec.get("severity") or UNKNOWN),
                state=str(status.get("state") or "Open"),
                budget_spent=str(status.get("budgetSpent") or UNKNOWN),
                postmortem=str((spec.get("postmortem") or {}).get("state") or NONE),
                started=str(status.get("startedAt") or UNKNOWN),
            )
        )
    return rows


# The columns of each table: (header, field); "wide" adds the rest.
SLO_COLUMNS = (("NAMESPACE", "namespace"), ("PLAN", "plan"), ("SLO", "slo"), ("OBJECTIVE", "objective"),
               ("BUDGET", "budget"), ("BURN 1H", "burn_1h"), ("GATE", "gate"))  # fmt: skip
SLO_WIDE = (("WINDOW", "window"), ("UNKNOWN BECAUSE", "why_unknown"))
GATE_COLUMNS = (("NAMESPACE", "namespace"), ("NAME", "name"), ("STATE", "state"), ("BUDGET", "budget"),
                ("SLO", "slo"), ("REASON", "reason"))  # fmt: skip
GATE_WIDE = (("ALLOWED", "allowed"), ("SINCE", "since"))
INCIDENT_COLUMNS = (("NAMESPACE", "namespace"), ("NAME", "name"), ("PLAN", "plan"), ("SEVERITY", "severity"),
                    ("STATE", "state"), ("BUDGET SPENT", "budget_spent"), ("POSTMORTEM", "postmortem"))  # fmt: skip
INCIDENT_WIDE = (("STARTED", "started"),)


def table(rows: Sequence[Any], columns: Sequence[tuple[str, str]], *, namespaces: bool = True) -> str:
    """Rows as kubectl prints them: upper-case headers, columns three spaces apart, no trailing blanks.
    Without ``namespaces`` (one namespace asked for) the NAMESPACE column is left out, as kubectl does."""
    shown = [c for c in columns if namespaces or c[1] != "namespace"]
    cells = [[header for header, _ in shown]]
    cells += [[_cell(getattr(row, field)) for _, field in shown] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(shown))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells)


def _cell(value: object) -> str:
    # One line per row, whatever a status holds: a newline or a tab in user text must not forge rows.
    return " ".join(str(value).split())


def as_dicts(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]


def selector(metric: str, matching: Mapping[str, str] | None = None, **labels: str) -> str:
    """``metric{label="value",...,label=~"pattern"}`` with every value escaped for PromQL."""
    matchers = [f"{k}={escape_string(v)}" for k, v in labels.items()]
    matchers += [f"{k}=~{escape_string(v)}" for k, v in (matching or {}).items()]
    return metric + "{" + ", ".join(matchers) + "}"


def budget_selector(namespace: str, service: str, slo: str) -> str:
    """The SLO's recorded remaining budget, as the generated rules record it."""
    return selector(names.BUDGET_REMAINING, namespace=namespace, service=service, slo=slo)


def sparkline(values: Sequence[float], resolution: float = 0.001) -> str:
    """Values as block characters between their least and greatest; a flat line when they differ by less
    than ``resolution`` (a tenth of a percent of a budget), so noise never draws a cliff."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    top = len(SPARK_LEVELS) - 1
    return "".join(SPARK_LEVELS[0 if span < resolution else round((v - low) / span * top)] for v in values)


def reopens_at(status: Mapping[str, Any], hold_for: str | None) -> datetime.datetime | None:
    """When a freeze lifts if every gated SLO stays above the threshold: ``recoveringSince`` plus the hold."""
    since = status.get("recoveringSince")
    if not since or not hold_for:
        return None
    try:
        start = parse_rfc3339(str(since))
    except ValueError:
        return None
    return start + datetime.timedelta(seconds=seconds(hold_for))


def why(gate: Mapping[str, Any], policy: Mapping[str, Any] | None) -> list[str]:
    """Why a gate is in its state: the rule, the SLO, the numbers, when it would reopen, how to override."""
    namespace, name = _meta(gate)
    status = gate.get("status") or {}
    state = status.get("state") or "Evaluating"
    lines = [f"ReleaseGate {namespace}/{name}: {state} ({'allowed' if status.get('allowed', True) else 'denied'})"]
    lines.append(f"  reason:    {_cell(status.get('reason') or NONE)}")
    lines.append(f"  since:     {status.get('since') or UNKNOWN}")
    if status.get("slo"):
        lines.append(f"  SLO:       {status['slo']}")
    if status.get("rule"):
        lines.append(f"  rule:      {status['rule']} of ErrorBudgetPolicy {_policy_name(gate, policy)}")
    lines.append(f"  budget:    {percent(status.get('budgetRemaining'))} left (lowest of the gated SLOs)")
    rates = status.get("burnRates") or {}
    if rates:
        shown = ", ".join(f"{w} {r:.2f}x" for w, r in sorted(rates.items(), key=lambda item: seconds(item[0])))
        lines.append(f"  burn:      {shown}")
    if status.get("override"):
        lines.append(f"  override:  {_cell(status['override'])}")
    if state == "Frozen":
        unfreeze = ((policy or {}).get("spec") or {}).get("unfreeze") or {}
        threshold = unfreeze.get("budgetRemainingAbove", 0)
        hold = unfreeze.get("holdFor")
        at = reopens_at(status, hold)
        if at is not None:
            lines.append(f"  reopens:   at {rfc3339(at)} if every gated SLO stays above {threshold:g}% of its budget")
        elif status.get("frozenBy") == "unknown":
            lines.append("  reopens:   once the budgets can be read again (the policy blocks while they cannot)")
        else:
            held = f" for {hold}" if hold else ""
            lines.append(f"  reopens:   once every gated SLO has more than {threshold:g}% of its budget left{held}")
        lines.append(
            f'  override:  kubectl sre override {name} -n {namespace} --reason "INC-123 fix" --for 2h'
            " (audited, expires by itself)"
        )
    return lines


def _policy_name(gate: Mapping[str, Any], policy: Mapping[str, Any] | None) -> str:
    if policy is not None:
        return _meta(policy)[1]
    return str(((gate.get("spec") or {}).get("policyRef") or {}).get("name") or "(the plan's)")


def override_operations(
    gate: Mapping[str, Any], *, reason: str, by: str, expires: datetime.datetime
) -> list[dict[str, Any]]:
    """A JSON patch adding one override, refused by the server if the gate changed since it was read."""
    entry = {"reason": reason, "by": by, "expires": rfc3339(expires)}
    version = str((gate.get("metadata") or {}).get("resourceVersion", ""))
    operations: list[dict[str, Any]] = [{"op": "test", "path": "/metadata/resourceVersion", "value": version}]
    if (gate.get("spec") or {}).get("overrides"):
        operations.append({"op": "add", "path": "/spec/overrides/-", "value": entry})
    else:
        operations.append({"op": "add", "path": "/spec/overrides", "value": [entry]})
    return operations


ARGO_CD_ANNOTATION = "argocd.argoproj.io/tracking-id"
ARGO_CD_LABEL = "argocd.argoproj.io/instance"


def managed_by_argo_cd(obj: Mapping[str, Any]) -> bool:
    """Whether Argo CD tracks the object (its tracking annotation, or its instance label when so configured)."""
    meta = obj.get("metadata") or {}
    return ARGO_CD_ANNOTATION in (meta.get("annotations") or {}) or ARGO_CD_LABEL in (meta.get("labels") or {})


@dataclass(frozen=True)
class TierState:
    severity: str
    long: str
    short: str
    threshold: float
    state: str


def tier_states(plan: ServiceReliabilityPlan, slo: str, burn_rates: Mapping[str, float]) -> list[TierState]:
    """Each multiwindow burn-rate tier the SLO alerts on, with its threshold and whether both of its windows
    burn above it now (as the operator last read them): what the generated alerts evaluate."""
    found = next((s for s in plan.spec.slos if s.name == slo), None)
    if found is None:
        return []
    window = slo_window(found)
    states = []
    for tier in alerted_tiers(found):
        threshold = tier.factor(window)
        long_rate, short_rate = burn_rates.get(tier.long), burn_rates.get(tier.short)
        if long_rate is None or short_rate is None:
            state = "unknown"
        elif long_rate > threshold and short_rate > threshold:
            state = "firing"
        else:
            state = "ok"
        states.append(TierState("page" if tier.severity == "critical" else "ticket", tier.long, tier.short,
                                threshold, state))  # fmt: skip
    return states


def explain(plan: ServiceReliabilityPlan, slo: str) -> list[str]:
    """The PromQL behind each number of one SLO: every recording and alert of its rule group."""
    groups = [
        group
        for group in prometheus_rule(plan)["spec"]["groups"]
        if any(rule.get("labels", {}).get("slo") == slo for rule in group["rules"])
    ]
    lines = []
    for group in groups:
        lines.append(f"# rule group {group['name']}, evaluated every {group.get('interval', 'global interval')}")
        for rule in group["rules"]:
            if rule.get("labels", {}).get("slo") != slo:
                continue
            title = f"record {rule['record']}" if "record" in rule else f"alert {rule['alert']}"
            lines.append(f"{title}:")
            lines.append(f"  {rule['expr']}")
    return lines


def expires_after(now: datetime.datetime, duration: str) -> datetime.datetime:
    return now + datetime.timedelta(seconds=seconds(duration))
