"""Names of the series, labels and alerts the generated rules produce: the dashboard and query contract."""

from __future__ import annotations

from sre_operator.models.base import API_GROUP

# Private: the SLI's rates that the public ratios are computed from, told apart by LABEL_SLI.
SLI_RATE = "slo:sli:rate"
SLI_ERRORS, SLI_REQUESTS = "errors", "requests"
SLI_HOURLY_SUFFIX = "_1h"
SLI_ERROR_RATIO_HOURLY = "error_ratio_1h"
ERROR_RATIO = "slo:sli_error:ratio"
BURN_RATE = "slo:burn_rate:ratio"
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
BUDGET_REMAINING = "slo:error_budget_remaining:ratio"

ALERT_PAGE = "SLOErrorBudgetFastBurn"
ALERT_TICKET = "SLOErrorBudgetSlowBurn"
ALERT_NO_DATA = "SLOSignalMissing"

LABEL_NAMESPACE = "namespace"
LABEL_SERVICE = "service"
LABEL_SLO = "slo"
LABEL_WINDOW = "window"
LABEL_SLI = "sli"

MANAGED_BY = {"app.kubernetes.io/managed-by": "sre-operator"}
PLAN_LABEL = f"{API_GROUP}/plan"
DEFAULT_RUNBOOK_BASE_URL = "http://sre-operator.sre-operator.svc:8080/runbooks"
