"""The questions ``sre-operator init`` asks, one at a time, each with a default and a check that names what is
wrong in one line; and the plan, policy and gate the answers make, with every answer left at its default marked
in the file as an assumption to revisit. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from sre_operator.budgets.discovery import Candidate
from sre_operator.durations import is_duration, seconds
from sre_operator.promql import parse_selector

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Question:
    key: str
    prompt: str
    default: str
    check: Callable[[str], str | None]
    """The answer's problem in one line, or None when it is fine."""
    why: str = ""
    """Said once, before the question: why it matters."""
    assumption: str = ""
    """What taking the default means, written into the file as a comment to revisit."""


@dataclass(frozen=True)
class Answer:
    value: str
    assumed: str = ""
    """Set when the default was taken for a question that says what that assumes: marked in the file."""

    @classmethod
    def to(cls, question: Question, value: str, defaulted: bool) -> Answer:
        return cls(value, question.assumption if defaulted else "")


def _name(text: str) -> str | None:
    return None if DNS_LABEL.match(text) else "must be a DNS label: lower-case letters, digits and '-', at most 63"


def _team(text: str) -> str | None:
    return None if 0 < len(text) <= 253 else "must be 1 to 253 characters"


def _selector(text: str) -> str | None:
    try:
        parse_selector(text)
    except ValueError as error:
        return f"{text!r} {error}"
    return None


def _objective(text: str) -> str | None:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        return "must be a percentage such as 99.9"
    return None if 0 < value < 100 else "must be above 0 and below 100"


def _window(text: str) -> str | None:
    if not is_duration(text):
        return "must be a duration such as 30d or 4w"
    return None if 7 * 86400 <= seconds(text) <= 90 * 86400 else "must be between 7d and 90d"


def _yes_no(text: str) -> str | None:
    return None if text.lower() in ("y", "yes", "n", "no") else "answer yes or no"


def _secret_key(text: str) -> str | None:
    if text == "none":
        return None
    name, _, key = text.partition("/")
    return None if name and key and not _name(name) else "give SECRET/KEY (a Secret in the plan's namespace), or none"


def _choice(options: Sequence[str]) -> Callable[[str], str | None]:
    return lambda text: None if text in options else f"one of {', '.join(options)}"


def _proposal(candidates: Sequence[Candidate]) -> str:
    lines = []
    for index, found in enumerate(candidates, 1):
        sli = "no data in the last day" if found.sli is None else f"SLI over the last day {found.sli * 100:.3f}%"
        traffic = f"{found.requests_per_second:.2f} requests/s"
        enough = "" if found.requests_per_second >= 0.1 else " (little traffic: one error weighs a lot)"
        what = f"errors {found.errors} over {found.total}" if found.kind == "ratio" else (
            f"requests slower than {found.threshold:g}s from {found.histogram}"
        )  # fmt: skip
        lines.append(f"  {index}. {what}: {traffic}, {sli}{enough}")
    return "\n".join(lines)


def questions(job: str = "", candidates: Sequence[Candidate] = ()) -> list[Question]:
    """The conversation: what the service is and who owns it, its most important journey, the SLI (proposed
    from Prometheus when it was asked), the objective against what it does now, what happens when the budget
    is spent, and where pages go."""
    service = job if job and not _name(job) else "my-service"
    first = candidates[0] if candidates else None
    errors = first.errors if first and first.kind == "ratio" else f'http_requests_total{{job="{service}",code=~"5.."}}'
    total = first.total if first and first.kind == "ratio" else f'http_requests_total{{job="{service}"}}'
    current = f" (it is {first.sli * 100:.3f}% over the last day)" if first and first.sli is not None else ""
    proposed = "" if not candidates else "Prometheus has these SLIs for the job:\n" + _proposal(candidates)
    return [
        Question(
            "service", "Service name", service, _name, "It names the service's rules and alerts (the service label)."
        ),
        Question(
            "team",
            "Team that owns it",
            "unknown",
            _team,
            "The team gets the pages and decides on its budget.",
            "the owning team is not known yet",
        ),
        Question("namespace", "Namespace of the plan, policy and gate", "default", _name),
        Question(
            "journey",
            "Its most important user journey (a short name)",
            "main",
            _name,
            "SLOs protect journeys: what would users notice first if it broke?",
            "the journey is a placeholder: name what users do",
        ),
        Question(
            "errors",
            "Counter of failed requests (a PromQL selector)",
            errors,
            _selector,
            proposed,
            "" if first else "the SLI is a guess: check the counters exist",
        ),
        Question("total", "Counter of all requests (a PromQL selector)", total, _selector),
        Question(
            "objective",
            f"Objective in percent{current}",
            "99.9",
            _objective,
            "Pick what users need, not what you have: every 0.1% of 30 days is 43 minutes of errors.",
            "99.9% is a common start, not a decision",
        ),
        Question("window", "Rolling window", "30d", _window),
        Question(
            "freeze",
            "Freeze releases while the budget is spent?",
            "yes",
            _yes_no,
            "The policy: at 0% left, releases stop until the budget recovers for an hour; hotfixes, security "
            "fixes and rollbacks still pass.",
            "releases freeze on a spent budget: agree it with the team",
        ),
        Question(
            "decides",
            "Who decides when the team and the policy disagree (a person or a role)",
            "unknown",
            _team,
            "",
            "nobody decides disputes over the budget yet",
        ),
        Question(
            "workload",
            "Deployment to gate (its name)",
            service,
            _name,
            "",
            "the gated Deployment is assumed to carry the service's name",
        ),
        Question(
            "pager",
            "Pages go to (slack, pagerduty or none)",
            "none",
            _choice(("slack", "pagerduty", "none")),
            "Pages need a receiver; its secret is referenced, never copied.",
            "pages go nowhere yet",
        ),
        Question("pager_secret", "Secret holding the pager's URL or key, as SECRET/KEY (or none)", "none", _secret_key),
        Question(
            "escalate",
            "Who is called when a page is not acknowledged within 15 minutes (or none)",
            "none",
            _team,
            "",
            "no escalation when the on-call does not answer",
        ),
    ]


def documents(answers: Mapping[str, Answer]) -> str:
    """The plan, policy and gate as YAML, headed by a comment for each answer taken by default."""
    value = {key: answer.value for key, answer in answers.items()}
    namespace, service = value["namespace"], value["service"]
    slo: dict[str, Any] = {
        "name": "availability",
        "journey": value["journey"],
        "objective": float(value["objective"].rstrip("%")),
        "window": value["window"],
        "indicator": {"ratio": {"errors": value["errors"], "total": value["total"]}},
    }
    spec: dict[str, Any] = {
        "service": {"name": service, "owner": {"team": value["team"]}, "journeys": [{"name": value["journey"]}]},
        "slos": [slo],
        "release": {"policyRef": f"{service}-budget"},
    }
    if value["pager"] != "none" and value["pager_secret"] != "none":
        name, _, key = value["pager_secret"].partition("/")
        receiver = {"slack": {"apiURLSecret": {"name": name, "key": key}}} if value["pager"] == "slack" else {
            "pagerduty": {"routingKeySecret": {"name": name, "key": key}}
        }  # fmt: skip
        spec["alerting"] = {"routing": {"page": receiver}}
    if value["escalate"] != "none":
        spec["incident"] = {"escalation": [{"after": "15m", "notify": value["escalate"]}]}
    actions = ["freezeReleases", "requirePostmortem"] if value["freeze"].lower().startswith("y") else ["notify"]
    policy = {
        "apiVersion": "reliability.dev/v1alpha1", "kind": "ErrorBudgetPolicy",
        "metadata": {"name": f"{service}-budget", "namespace": namespace},
        "spec": {
            "rules": [{"name": "warn", "when": {"budgetRemainingBelow": 25}, "actions": ["notify"]},
                      {"name": "spent", "when": {"budgetRemainingBelow": 0}, "actions": actions}],
            "exceptions": {"changeClasses": ["hotfix", "security", "rollback"]},
            "unfreeze": {"budgetRemainingAbove": 0, "holdFor": "1h"},
            "onUnknown": "allow",
            **({"escalation": {"owner": value["decides"]}} if value["decides"] != "unknown" else {}),
        },
    }  # fmt: skip
    plan = {"apiVersion": "reliability.dev/v1alpha1", "kind": "ServiceReliabilityPlan",
            "metadata": {"name": service, "namespace": namespace}, "spec": spec}  # fmt: skip
    gate = {
        "apiVersion": "reliability.dev/v1alpha1", "kind": "ReleaseGate",
        "metadata": {"name": service, "namespace": namespace},
        "spec": {"planRef": {"name": service}, "targets": [{"kind": "Deployment", "name": value["workload"]}]},
    }  # fmt: skip
    assumptions = [answer.assumed for answer in answers.values() if answer.assumed]
    header = "# Written by sre-operator init. Check it with: sre-operator validate THIS-FILE\n"
    header += "".join(f"# ASSUMED, revisit: {text}\n" for text in assumptions)
    return header + yaml.safe_dump_all([plan, policy, gate], sort_keys=False)
