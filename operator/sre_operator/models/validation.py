"""Documents in, typed models or field-anchored problems out.

Two passes: pydantic checks shape and ranges (the same rules the CRD schema
holds), then ``semantic_problems`` checks what a schema cannot: PromQL that
parses, references inside the plan, windows the alert tiers fit in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from sre_operator.durations import seconds
from sre_operator.errors import Problem
from sre_operator.models.assumptions import slo_tiling
from sre_operator.models.base import API_GROUP, API_VERSION
from sre_operator.models.gate import ReleaseGate
from sre_operator.models.incident import Incident
from sre_operator.models.plan import ServiceReliabilityPlan
from sre_operator.models.policy import ErrorBudgetPolicy
from sre_operator.promql import check_expression, parse_selector

Resource = ServiceReliabilityPlan | ErrorBudgetPolicy | ReleaseGate | Incident
MODELS: dict[str, type[Resource]] = {
    "ServiceReliabilityPlan": ServiceReliabilityPlan,
    "ErrorBudgetPolicy": ErrorBudgetPolicy,
    "ReleaseGate": ReleaseGate,
    "Incident": Incident,
}
MIN_WINDOW, MAX_WINDOW = "7d", "90d"
# Labels every recorded series and alert carries: an SLO's identity, which groupBy must not override.
IDENTITY_LABELS = ("namespace", "service", "slo", "window", "severity", "sli")


@dataclass(frozen=True)
class Parsed:
    """One document after validation: ``model`` is set exactly when ``problems`` is empty."""

    kind: str
    name: str
    model: Resource | None
    problems: tuple[Problem, ...]


def field_path(loc: Sequence[int | str]) -> str:
    """``('spec', 'slos', 1, 'objective')`` -> ``spec.slos[1].objective``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(document)"


def problem_message(error: Any) -> str:
    """One pydantic error in words a user of the CRD reads (no pydantic jargon, no input echoed)."""
    kind = error["type"]
    ctx = {key: f"{value:g}" if isinstance(value, float) else value for key, value in error.get("ctx", {}).items()}
    simple: dict[str, Callable[[], str]] = {
        "missing": lambda: "is required",
        "extra_forbidden": lambda: "is not a field of this kind (check the spelling)",
        "less_than": lambda: f"must be below {ctx['lt']}",
        "greater_than": lambda: f"must be above {ctx['gt']}",
        "less_than_equal": lambda: f"must be at most {ctx['le']}",
        "greater_than_equal": lambda: f"must be at least {ctx['ge']}",
        "too_short": lambda: f"needs at least {ctx['min_length']} item(s)",
        "too_long": lambda: f"allows at most {ctx['max_length']} item(s)",
        "string_too_short": lambda: "must not be empty",
        "string_too_long": lambda: f"must be at most {ctx['max_length']} characters",
        "literal_error": lambda: f"must be one of {ctx['expected']}",
    }
    if kind in simple:
        return simple[kind]()
    message: str = error["msg"]
    return message[0].lower() + message[1:] if message else kind


def _schema_problems(error: ValidationError, source: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = [part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        problems.append(Problem(field_path(loc), problem_message(item), source))
    return problems


def _plan_problems(plan: ServiceReliabilityPlan) -> list[Problem]:
    problems: list[tuple[str, str]] = []
    journeys = {j.name for j in plan.spec.service.journeys}
    seen_journeys: set[str] = set()
    for i, journey in enumerate(plan.spec.service.journeys):
        if journey.name in seen_journeys:
            problems.append((f"spec.service.journeys[{i}].name", f"duplicate journey name {journey.name!r}"))
        seen_journeys.add(journey.name)
    seen: set[str] = set()
    for i, slo in enumerate(plan.spec.slos):
        at = f"spec.slos[{i}]"
        if slo.name in seen:
            problems.append((f"{at}.name", f"duplicate SLO name {slo.name!r}"))
        seen.add(slo.name)
        if slo.journey is not None and slo.journey not in journeys:
            known = ", ".join(sorted(journeys)) or "none defined"
            problems.append((f"{at}.journey", f"names no journey of spec.service.journeys ({known})"))
        if slo.window is not None and not seconds(MIN_WINDOW) <= seconds(slo.window) <= seconds(MAX_WINDOW):
            problems.append(
                (
                    f"{at}.window",
                    f"must be between {MIN_WINDOW} and {MAX_WINDOW} (the slowest alert tier looks back 3d)",
                )
            )
        tiled = slo_tiling(slo)
        if tiled.tile is None:
            problems.append((f"{at}.indicator.scrapeInterval", tiled.problem))
        indicator = slo.indicator
        selectors: list[tuple[str, str | None]] = []
        if indicator.ratio is not None:
            base = f"{at}.indicator.ratio"
            selectors = [
                (f"{base}.errors", indicator.ratio.errors),
                (f"{base}.good", indicator.ratio.good),
                (f"{base}.total", indicator.ratio.total),
            ]
        elif indicator.latency is not None:
            selectors = [(f"{at}.indicator.latency.histogram", indicator.latency.histogram)]
        elif indicator.expression is not None:
            path = f"{at}.indicator.expression.errorRatio"
            expression = indicator.expression.error_ratio
            if "$window" not in expression:
                problems.append((path, "must contain $window where the range goes, such as rate(x[$window])"))
            try:
                check_expression(expression.replace("$window", "5m"))
            except ValueError as error:
                problems.append((path, str(error)))
            if slo.alerting.min_request_rate is not None:
                problems.append(
                    (
                        f"{at}.alerting.minRequestRate",
                        "needs a ratio or latency indicator: an expression has no request rate",
                    )
                )
        counted = [(f"{at}.indicator.{k}", i) for k, i in (("ratio", indicator.ratio), ("latency", indicator.latency))]
        for base, counted_indicator in counted:
            for j, label in enumerate(counted_indicator.group_by if counted_indicator else []):
                if label not in IDENTITY_LABELS:
                    continue
                problems.append(
                    (
                        f"{base}.groupBy[{j}]",
                        f"{label!r} is set on SLO series by the operator ({', '.join(IDENTITY_LABELS)}); "
                        "group by another label",
                    )
                )
        for path, text in selectors:
            if text is None:
                continue
            try:
                parse_selector(text)
            except ValueError as error:
                problems.append((path, str(error)))
    if plan.spec.runbooks is not None:
        for name in plan.spec.runbooks.entries:
            if name not in seen:
                problems.append((f"spec.runbooks.entries.{name}", "names no SLO of spec.slos"))
    return [Problem(path, message) for path, message in problems]


def _policy_problems(policy: ErrorBudgetPolicy) -> list[Problem]:
    problems = []
    names: set[str] = set()
    for i, rule in enumerate(policy.spec.rules):
        if rule.name in names:
            problems.append(Problem(f"spec.rules[{i}].name", f"duplicate rule name {rule.name!r}"))
        names.add(rule.name)
    return problems


def _gate_problems(gate: ReleaseGate) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for i, slo in enumerate(gate.spec.slos):
        if slo in seen:
            problems.append(Problem(f"spec.slos[{i}]", f"duplicate SLO name {slo!r}"))
        seen.add(slo)
    return problems


def semantic_problems(model: Resource) -> list[Problem]:
    if isinstance(model, ServiceReliabilityPlan):
        return _plan_problems(model)
    if isinstance(model, ErrorBudgetPolicy):
        return _policy_problems(model)
    if isinstance(model, ReleaseGate):
        return _gate_problems(model)
    return []


def parse_document(document: Any, source: str = "") -> Parsed:
    """Validate one custom resource of any of our kinds."""
    if not isinstance(document, dict):
        return Parsed("", "", None, (Problem("(document)", "is not a mapping", source),))
    kind = str(document.get("kind", ""))
    name = str((document.get("metadata") or {}).get("name", "")) if isinstance(document.get("metadata"), dict) else ""
    expected_api = f"{API_GROUP}/{API_VERSION}"
    if kind not in MODELS:
        return Parsed(kind, name, None, (Problem("kind", f"{kind!r} is not one of {', '.join(MODELS)}", source),))
    if document.get("apiVersion") != expected_api:
        return Parsed(kind, name, None, (Problem("apiVersion", f"must be {expected_api}", source),))
    model_class = MODELS[kind]
    try:
        model: BaseModel = model_class.model_validate(document)
    except ValidationError as error:
        return Parsed(kind, name, None, tuple(_schema_problems(error, source)))
    assert isinstance(model, (ServiceReliabilityPlan, ErrorBudgetPolicy, ReleaseGate, Incident))
    problems = [Problem(p.path, p.message, source) for p in semantic_problems(model)]
    return Parsed(kind, name, None if problems else model, tuple(problems))
