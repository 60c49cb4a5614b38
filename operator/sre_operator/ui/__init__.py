"""The read-only web view at /ui/: pages rendered on the server from the operator's own state."""

from sre_operator.ui.pages import (
    Coverage,
    SloHistory,
    SloKey,
    UiObjects,
    gate_list,
    incident_list,
    render,
    report_list,
    slo_detail,
    slo_list,
    window_of,
)
from sre_operator.ui.source import UiSource

__all__ = [
    "Coverage",
    "SloHistory",
    "SloKey",
    "UiObjects",
    "UiSource",
    "gate_list",
    "incident_list",
    "render",
    "report_list",
    "slo_detail",
    "slo_list",
    "window_of",
]
