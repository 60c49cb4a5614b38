"""Typed models of the three kinds, their validation, and the assumptions their defaults imply."""

from sre_operator.models.assumptions import plan_assumptions, residual_risks
from sre_operator.models.base import API_GROUP, API_VERSION, ObjectMeta, involved_object
from sre_operator.models.gate import ReleaseGate
from sre_operator.models.plan import PlanSpec, ServiceReliabilityPlan, Slo
from sre_operator.models.policy import ErrorBudgetPolicy
from sre_operator.models.validation import MODELS, Parsed, Resource, field_path, parse_document

__all__ = [
    "API_GROUP",
    "API_VERSION",
    "MODELS",
    "ErrorBudgetPolicy",
    "ObjectMeta",
    "Parsed",
    "PlanSpec",
    "ReleaseGate",
    "Resource",
    "ServiceReliabilityPlan",
    "Slo",
    "field_path",
    "involved_object",
    "parse_document",
    "plan_assumptions",
    "residual_risks",
]
