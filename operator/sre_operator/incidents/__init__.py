"""Incidents from pages: Alertmanager's notifications parsed and folded into Incident status (pure)."""

from sre_operator.incidents.notification import Alert, Notification, NotificationError, parse_notification
from sre_operator.incidents.record import Recorded, incident_name, opens_new_incident, record

__all__ = [
    "Alert",
    "Notification",
    "NotificationError",
    "Recorded",
    "incident_name",
    "opens_new_incident",
    "parse_notification",
    "record",
]
