"""What keeps the operator's process honest: supervised duties and the readiness to answer admission.

Pure bookkeeping and asyncio only; the I/O the duties do lives in ``k8s``, ``budgets`` and ``http``.
"""

from sre_operator.runtime.heap import Collector
from sre_operator.runtime.readiness import STANDBY, Readiness, leads_peering, missing_objects, seniority_priority
from sre_operator.runtime.supervisor import DutyState, Supervisor

__all__ = [
    "STANDBY",
    "Collector",
    "DutyState",
    "Readiness",
    "Supervisor",
    "leads_peering",
    "missing_objects",
    "seniority_priority",
]
