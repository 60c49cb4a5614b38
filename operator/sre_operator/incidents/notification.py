"""Alertmanager's webhook notification (payload version 4), checked field by field."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sre_operator.timestamps import parse_rfc3339


class NotificationError(ValueError):
    """A notification that is not Alertmanager's version 4 payload; the message names the field."""


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    status: str  # firing | resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None  # None while firing (Alertmanager sends the zero time)


@dataclass(frozen=True)
class Notification:
    group_key: str
    status: str
    receiver: str
    alerts: tuple[Alert, ...]
    group_labels: Mapping[str, str] = field(default_factory=dict)


def _text(data: Mapping[str, Any], key: str, at: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise NotificationError(f"{at}{key}: must be a non-empty string")
    return value


def _labels(data: Mapping[str, Any], key: str, at: str) -> dict[str, str]:
    value = data.get(key, {})
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise NotificationError(f"{at}{key}: must map strings to strings")
    return value


def _time(data: Mapping[str, Any], key: str, at: str) -> datetime.datetime | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise NotificationError(f"{at}{key}: must be an RFC 3339 time")
    try:
        parsed = parse_rfc3339(value)
    except ValueError:
        raise NotificationError(f"{at}{key}: {value[:40]!r} is not an RFC 3339 time") from None
    # Alertmanager writes Go's zero time (0001-01-01) for an alert that has not ended.
    return None if parsed.year <= 1 else parsed


def parse_notification(data: Any) -> Notification:
    if not isinstance(data, dict):
        raise NotificationError("body: must be a JSON object")
    if str(data.get("version", "")) != "4":
        raise NotificationError(f"version: {str(data.get('version'))[:40]!r} is not 4")
    group_key = _text(data, "groupKey", "")
    status = _text(data, "status", "")
    if status not in ("firing", "resolved"):
        raise NotificationError(f"status: {status[:40]!r} is not firing or resolved")
    raw_alerts = data.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        raise NotificationError("alerts: must be a non-empty list")
    alerts = []
    for index, raw in enumerate(raw_alerts):
        at = f"alerts[{index}]."
        if not isinstance(raw, dict):
            raise NotificationError(f"alerts[{index}]: must be an object")
        fingerprint = _text(raw, "fingerprint", at)
        alert_status = _text(raw, "status", at)
        if alert_status not in ("firing", "resolved"):
            raise NotificationError(f"{at}status: {alert_status[:40]!r} is not firing or resolved")
        starts_at = _time(raw, "startsAt", at)
        if starts_at is None:
            raise NotificationError(f"{at}startsAt: must be an RFC 3339 time")
        alerts.append(
            Alert(
                fingerprint=fingerprint,
                status=alert_status,
                labels=_labels(raw, "labels", at),
                annotations=_labels(raw, "annotations", at),
                starts_at=starts_at,
                ends_at=_time(raw, "endsAt", at) if alert_status == "resolved" else None,
            )
        )
    return Notification(
        group_key=group_key,
        status=status,
        receiver=str(data.get("receiver", "")),
        alerts=tuple(alerts),
        group_labels=_labels(data, "groupLabels", ""),
    )
