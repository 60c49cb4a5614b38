"""Shared pieces of the three kinds: the pydantic base class, common field types and metadata."""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Any, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from sre_operator.durations import DURATION_PATTERN, is_duration
from sre_operator.promql import LABEL_NAME_PATTERN

API_GROUP = "reliability.dev"
API_VERSION = "v1alpha1"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def involved_object(api_version: str, kind: str, name: str, namespace: str, uid: str) -> dict[str, str]:
    """An object as an Event's involvedObject names it, whichever API group it belongs to."""
    return {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace, "uid": uid}


def api_config(**changes: Any) -> ConfigDict:
    """Configuration of every model: camelCase on the wire, unknown fields refused, immutable."""
    base = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
    return cast(ConfigDict, {**base, **changes})


def cel_rules(*rules: dict[str, object]) -> ConfigDict:
    """Configuration carrying CRD validation rules (CEL) for rules that span fields."""
    return api_config(json_schema_extra={"x-kubernetes-validations": list(rules)})


def exactly_one(rule_fields: list[str], what: str) -> dict[str, object]:
    """A CEL rule (for the CRD) saying exactly one of ``rule_fields`` is set."""
    listed = ", ".join(f"has(self.{f})" for f in rule_fields)
    return {
        "rule": f"[{listed}].filter(x, x).size() == 1",
        "message": f"exactly one of {', '.join(rule_fields)} {what}",
    }


def require_exactly_one(model: ApiModel, fields: list[str], what: str) -> None:
    given = [f for f in fields if getattr(model, f) is not None]
    if len(given) != 1:
        names = ", ".join(type(model).model_fields[f].alias or f for f in fields)
        found = ", ".join(type(model).model_fields[f].alias or f for f in given) or "none"
        raise PydanticCustomError(
            "one_of", "exactly one of {names} {what} (found {found})", {"names": names, "what": what, "found": found}
        )


class ApiModel(BaseModel):
    """Base of every model of our kinds."""

    model_config = api_config()


def _dns_label(value: str) -> str:

    if len(value) > 63 or re.fullmatch(DNS_LABEL_PATTERN, value) is None:
        raise PydanticCustomError(
            "dns_label",
            "{value} is not a DNS label (lower-case letters, digits and '-', at most 63)",
            {"value": repr(value)},
        )
    return value


def _duration(value: str) -> str:
    if not is_duration(value):
        raise PydanticCustomError(
            "duration",
            "{value} is not a duration (a number and one of ms, s, m, h, d, w, y, such as 30d)",
            {"value": repr(value)},
        )
    return value


def _label_name(value: str) -> str:

    if re.fullmatch(LABEL_NAME_PATTERN, value) is None or value.startswith("__"):
        raise PydanticCustomError(
            "label_name", "{value} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)", {"value": repr(value)}
        )
    return value


def _time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        raise PydanticCustomError(
            "time_zone", "{value} is not an IANA time zone (such as UTC or Europe/Paris)", {"value": repr(value[:64])}
        ) from None
    return value


DnsLabel = Annotated[
    str, Field(max_length=63, json_schema_extra={"pattern": DNS_LABEL_PATTERN}), AfterValidator(_dns_label)
]
Duration = Annotated[str, Field(json_schema_extra={"pattern": DURATION_PATTERN}), AfterValidator(_duration)]
LabelName = Annotated[str, Field(json_schema_extra={"pattern": LABEL_NAME_PATTERN}), AfterValidator(_label_name)]


def whole_match(pattern: str, what: str) -> AfterValidator:
    """The model's check of a string the CRD schema gives ``pattern`` (which the API server checks), so that
    ``validate`` and the operator refuse the same strings, with a message saying ``what`` is expected."""

    def check(value: str) -> str:
        if re.fullmatch(pattern, value) is None:
            raise PydanticCustomError("pattern", "{value} is not {what}", {"value": repr(value[:64]), "what": what})
        return value

    return AfterValidator(check)


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_time_zone)]


def _label_names(labels: dict[str, str]) -> dict[str, str]:
    for key in labels:
        _label_name(key)
    return labels


Labels = Annotated[
    dict[str, str],
    Field(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "self.all(k, k.matches('^[a-zA-Z_][a-zA-Z0-9_]*$'))",
                    "message": "label names must match [a-zA-Z_][a-zA-Z0-9_]*",
                }
            ]
        }
    ),
    AfterValidator(_label_names),
]


class ObjectMeta(BaseModel):
    """The part of metadata the operator reads; everything else passes through untouched."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str = ""
    namespace: str = "default"
    uid: str = ""
    generation: int = 0
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class LocalRef(ApiModel):
    name: DnsLabel = Field(description="Name of an object in the same namespace.")


class SecretKeyRef(ApiModel):
    name: str = Field(min_length=1, max_length=253, description="Name of a Secret in the plan's namespace.")
    key: str = Field(min_length=1, max_length=253, description="Key inside the Secret. The value is never copied.")


class Condition(BaseModel):
    """Kubernetes ``metav1.Condition``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(description="Condition type: Valid, Ready or Complete.")
    status: str = Field(description="True, False or Unknown.", json_schema_extra={"enum": ["True", "False", "Unknown"]})
    reason: str = Field(description="One CamelCase word for the last transition.")
    message: str = Field(default="", description="One human-readable line.")
    lastTransitionTime: str = Field(
        description="When status last changed (RFC 3339).", json_schema_extra={"format": "date-time"}
    )
    observedGeneration: int = Field(default=0, description="metadata.generation this condition was set from.")


def k8s_document(kind: str, spec: dict[str, Any], name: str, namespace: str = "default") -> dict[str, Any]:
    """A minimal custom resource of one of our kinds, as users write it."""
    return {
        "apiVersion": f"{API_GROUP}/{API_VERSION}",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }
