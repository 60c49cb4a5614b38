"""The gates' current answers, kept in memory: what the HTTP gate API and the admission webhook read.

Each evaluation cycle replaces every answer at once; readers never wait on
Prometheus, the API server or the cycle. The book's state is immutable and
swapped in one assignment, so a reader sees either the old answers or the new.
"""

from __future__ import annotations

from collections.abc import Mapping
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


@dataclass(frozen=True)
class Pages:
    """One immutable state of the book: readers take it in one read and never see half a change."""

    answers: Mapping[tuple[str, str], GateAnswer] = field(default_factory=dict)
    by_namespace: Mapping[str, tuple[GateView, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, answers: Mapping[tuple[str, str], GateAnswer]) -> Pages:
        by_namespace: dict[str, list[GateView]] = {}
        for (namespace, _), answer in sorted(answers.items()):
            by_namespace.setdefault(namespace, []).append(answer.view)
        return cls(dict(answers), {namespace: tuple(views) for namespace, views in by_namespace.items()})


class GateBook:
    """The gates' answers. Each change builds a new immutable state and swaps it in with one assignment."""

    def __init__(self) -> None:
        self._pages = Pages()

    def install(self, pages: Pages) -> None:
        """Every gate's answer at once, as one cycle decided them (``Pages.of``, built wherever is cheap);
        gates not among them are forgotten."""
        self._pages = pages

    def put(self, answer: GateAnswer) -> None:
        key = (answer.view.namespace, answer.view.name)
        self.install(Pages.of({**self._pages.answers, key: answer}))

    def remove(self, namespace: str, name: str) -> None:
        if (namespace, name) in self._pages.answers:
            self.install(Pages.of({k: a for k, a in self._pages.answers.items() if k != (namespace, name)}))

    def get(self, namespace: str, name: str) -> GateAnswer | None:
        return self._pages.answers.get((namespace, name))

    def gates_in(self, namespace: str) -> tuple[GateView, ...]:
        """The namespace's gates (the webhook asks on every request)."""
        return self._pages.by_namespace.get(namespace, ())

    def answers(self) -> Mapping[tuple[str, str], GateAnswer]:
        return self._pages.answers

    def __len__(self) -> int:
        return len(self._pages.answers)
