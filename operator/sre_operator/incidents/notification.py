"""Alertmanager's webhook notification (payload version 4), parsed strictly into a typed model.

Only the fields the incident intake reads are checked (fields Alertmanager adds
later pass unread); each is checked for its type, not coerced. A notification
that fails gets one line naming the first field at fault.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, ValidationError, model_validator

from sre_operator.models.validation import field_path, problem_message
from sre_operator.timestamps import parse_rfc3339


class NotificationError(ValueError):
    """A notification that is not Alertmanager's version 4 payload; the message names the field."""


def _moment(value: Any) -> datetime.datetime | None:
    """An RFC 3339 time; Go's zero time (0001-01-01), which Alertmanager writes for "not ended", is None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 time")
    try:
        parsed = parse_rfc3339(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an RFC 3339 time") from None
    return None if parsed.year <= 1 else parsed


def _start(value: Any) -> datetime.datetime:
    moment = _moment(value)
    if moment is None:
        raise ValueError("must be an RFC 3339 time")
    return moment


Moment = Annotated[datetime.datetime | None, BeforeValidator(_moment)]
Start = Annotated[datetime.datetime, BeforeValidator(_start)]
Text = Annotated[StrictStr, Field(min_length=1)]
Strings = dict[StrictStr, StrictStr]


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Alert(_Payload):
    fingerprint: Text
    status: Literal["firing", "resolved"]
    labels: Strings = Field(default_factory=dict)
    annotations: Strings = Field(default_factory=dict)
    starts_at: Start = Field(alias="startsAt")
    ends_at: Moment = Field(default=None, alias="endsAt")
    """None while firing (Alertmanager sends the zero time, or a planned end that has not come)."""

    @model_validator(mode="after")
    def _ends_only_when_resolved(self) -> Alert:
        if self.status == "firing" and self.ends_at is not None:
            return self.model_copy(update={"ends_at": None})
        return self


class Notification(_Payload):
    version: Literal["4"]
    group_key: Text = Field(alias="groupKey")
    status: Literal["firing", "resolved"]
    receiver: StrictStr = ""
    alerts: tuple[Alert, ...] = Field(min_length=1)
    group_labels: Strings = Field(default_factory=dict, alias="groupLabels")


def _where(error: Any) -> str:
    """One pydantic error as ``field: problem``."""
    path = field_path(error["loc"]) if error["loc"] else "body"
    return f"{path}: {problem_message(error).removeprefix('value error, ')}"


def parse_notification(data: Any) -> Notification:
    """The notification in ``data`` (parsed JSON); ``NotificationError`` names the first field at fault."""
    if not isinstance(data, dict):
        raise NotificationError("body: must be a JSON object")
    try:
        return Notification.model_validate(data)
    except ValidationError as error:
        raise NotificationError(_where(error.errors()[0])) from None
