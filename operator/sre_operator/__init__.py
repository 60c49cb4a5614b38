"""sre-operator: SRE policy as Kubernetes custom resources.

The public API: parse documents into models, and turn plans into objects.
"""

from sre_operator.documents import load_files, load_text
from sre_operator.errors import InvalidSpec, Problem, SreOperatorError
from sre_operator.generate import RenderOptions, prometheus_rule
from sre_operator.models import (
    ErrorBudgetPolicy,
    Parsed,
    ReleaseGate,
    ServiceReliabilityPlan,
    parse_document,
    plan_assumptions,
)

__version__ = "0.1.0"

__all__ = [
    "ErrorBudgetPolicy",
    "InvalidSpec",
    "Parsed",
    "Problem",
    "ReleaseGate",
    "RenderOptions",
    "ServiceReliabilityPlan",
    "SreOperatorError",
    "__version__",
    "load_files",
    "load_text",
    "parse_document",
    "plan_assumptions",
    "prometheus_rule",
]
