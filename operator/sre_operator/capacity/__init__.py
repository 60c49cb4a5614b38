"""Capacity and resilience of a plan's workloads, checked against the live objects (pure)."""

from sre_operator.capacity.checks import Found, capacity_risks

__all__ = ["Found", "capacity_risks"]
