"""Pure generators: a plan model in, Kubernetes objects (plain dicts) out. No I/O here."""

from sre_operator.generate.options import RenderOptions
from sre_operator.generate.rules import prometheus_rule, rule_groups
from sre_operator.tiers import TIERS, BurnTier

__all__ = ["TIERS", "BurnTier", "RenderOptions", "prometheus_rule", "rule_groups"]
