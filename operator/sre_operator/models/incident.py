"""Incident: one alert group of a plan that paged, recorded by the operator from Alertmanager's notifications.

People edit ``spec`` (severity, commander, summary, postmortem link and state); the operator owns ``status``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sre_operator.models.base import ApiModel, LocalRef, ObjectMeta, api_config

PostmortemState = Literal["Draft", "InReview", "Reviewed", "Closed"]


class Postmortem(ApiModel):
    url: str = Field(default="", max_length=2048, description="Link to the postmortem document.")
    state: PostmortemState = Field(default="Draft", description="Draft, InReview, Reviewed or Closed.")


class IncidentSpec(ApiModel):
    plan_ref: LocalRef = Field(description="The ServiceReliabilityPlan whose alerts opened the incident.")
    severity: str = Field(
        default="", max_length=32, description="SEV level from the plan's severity model; people may change it."
    )
    commander: str = Field(default="", max_length=253, description="Incident commander.")
    summary: str = Field(default="", max_length=1024, description="One line on what is happening.")
    notes: str = Field(default="", max_length=16384, description="Free notes of the responders.")
    postmortem: Postmortem = Field(default_factory=Postmortem, description="The postmortem's link and state.")


class Incident(ApiModel):
    """An alert group of a plan that paged."""

    model_config = api_config(extra="ignore")

    api_version: str = Field(alias="apiVersion")
    kind: Literal["Incident"]
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: IncidentSpec
