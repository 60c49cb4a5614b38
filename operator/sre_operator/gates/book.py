"""The gates' current answers, kept in memory: what the HTTP gate API and the admission webhook read.

The evaluation loop writes an answer per gate after each decision; readers
never wait on Prometheus or the API server. Replacing an entry is one
dictionary assignment, so a reader sees either the old answer or the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sre_operator.gates.admission import GateView


@dataclass(frozen=True)
class GateAnswer:
    view: GateView
    decision_id: str
    since: str
    budget_remaining: float | None = None
    burn_rates: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The gate API's document (API.md: allowed, state, reason, budgetRemaining, burnRates, decisionId)."""
        return {
            "namespace": self.view.namespace,
            "name": self.view.name,
            "allowed": self.view.allowed,
            "state": self.view.state,
            "reason": self.view.reason,
            "budgetRemaining": self.budget_remaining,
            "burnRates": self.burn_rates,
            "decisionId": self.decision_id,
            "since": self.since,
            "dryRun": self.view.dry_run,
        }


class GateBook:
    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], GateAnswer] = {}
        self._namespaces: dict[str, dict[str, GateView]] = {}
        self._views: dict[str, tuple[GateView, ...]] = {}

    def put(self, answer: GateAnswer) -> None:
        namespace, name = answer.view.namespace, answer.view.name
        self._answers[(namespace, name)] = answer
        self._namespaces.setdefault(namespace, {})[name] = answer.view
        self._views.pop(namespace, None)

    def remove(self, namespace: str, name: str) -> None:
        if self._answers.pop((namespace, name), None) is not None:
            self._namespaces.get(namespace, {}).pop(name, None)
            self._views.pop(namespace, None)

    def get(self, namespace: str, name: str) -> GateAnswer | None:
        return self._answers.get((namespace, name))

    def gates_in(self, namespace: str) -> tuple[GateView, ...]:
        """The namespace's gates, built once per change of any of them (the webhook asks on every request)."""
        views = self._views.get(namespace)
        if views is None:
            views = tuple(self._namespaces.get(namespace, {}).values())
            self._views[namespace] = views
        return views

    def __len__(self) -> int:
        return len(self._answers)
