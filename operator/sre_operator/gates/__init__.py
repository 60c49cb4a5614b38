"""Pure decisions: a policy and budgets in, a gate's state and admission verdicts out. No I/O here."""

from sre_operator.gates.admission import GateView, Record, Verdict, judge, normalised_template
from sre_operator.gates.decision import Decision, Memory, decide, invalid, transition
from sre_operator.gates.policy import Firing, SloBudget, firings, percent

__all__ = [
    "Decision",
    "Firing",
    "GateView",
    "Memory",
    "Record",
    "SloBudget",
    "Verdict",
    "decide",
    "firings",
    "invalid",
    "judge",
    "normalised_template",
    "percent",
    "transition",
]
