"""kopf handlers: parse, call the pure generators, apply through ``k8s``, write status. Nothing else.

Run with ``sre-operator run`` or ``kopf run -m sre_operator.handlers``.
"""

from sre_operator.handlers import capacity, children, incidents, plans, resources, startup

__all__ = ["capacity", "children", "incidents", "plans", "resources", "startup"]
