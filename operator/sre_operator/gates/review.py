"""An AdmissionReview as the webhook accepts it: typed, bounded, and complete enough to judge. Pure.

The API server sends well-formed reviews; anyone else who can reach the
webhook's port can send anything. Only the fields the verdict and the records
read are checked, strictly (a string where an object belongs is a problem, not
something to coerce); the rest of a review passes untouched. A review that
fails here gets no verdict (the webhook answers 400), never "allowed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from sre_operator.models.base import DNS_LABEL_PATTERN
from sre_operator.models.validation import field_path, problem_message

UID_LIMIT = 128
NAME_LIMIT = 253
LABEL_KEY_LIMIT = 317
"""A label key: a DNS-subdomain prefix (253), a slash and a name (63)."""
USER_LIMIT = 256
"""Characters of a requester's name kept in an Event or ``status.lastDecisions``."""

Text = Annotated[StrictStr, Field(max_length=NAME_LIMIT)]
Labels = dict[Annotated[StrictStr, Field(max_length=LABEL_KEY_LIMIT)], StrictStr]


class _Lenient(BaseModel):
    """Fields the operator does not read pass as they are."""

    model_config = ConfigDict(extra="allow", frozen=True)


class Metadata(_Lenient):
    name: Text = ""
    labels: Labels | None = None
    annotations: dict[StrictStr, StrictStr] | None = None


class Workload(_Lenient):
    metadata: Metadata | None = None
    spec: dict[StrictStr, Any] | None = None


class GroupVersionKind(_Lenient):
    group: Text = ""
    version: Text = ""
    kind: Annotated[StrictStr, Field(min_length=1, max_length=NAME_LIMIT)]


class UserInfo(_Lenient):
    username: StrictStr = ""


class Request(_Lenient):
    uid: Annotated[StrictStr, Field(min_length=1, max_length=UID_LIMIT)]
    kind: GroupVersionKind
    namespace: Annotated[StrictStr, Field(min_length=1, max_length=63)]
    name: Text = ""
    operation: Literal["CREATE", "UPDATE", "DELETE", "CONNECT"]
    user_info: UserInfo = Field(default_factory=UserInfo, alias="userInfo")
    object: Workload | None = None
    old_object: Workload | None = Field(default=None, alias="oldObject")
    dry_run: StrictBool | None = Field(default=None, alias="dryRun")


class Review(_Lenient):
    api_version: Literal["admission.k8s.io/v1"] = Field(alias="apiVersion")
    kind: Literal["AdmissionReview"]
    request: Request


@dataclass(frozen=True)
class ReviewProblem:
    """Why a review cannot be judged, in one line naming the field."""

    message: str


def _incomplete(request: Request) -> str:
    """What a request of a well-formed shape still lacks to be judged; empty when nothing."""
    if not re.fullmatch(DNS_LABEL_PATTERN, request.namespace):  # a namespace name is a DNS label
        return "request.namespace: is not a namespace name"
    if request.operation in ("CREATE", "UPDATE") and request.object is None:
        return f"request.object: is required for {request.operation}"
    if request.operation == "UPDATE" and request.old_object is None:
        return "request.oldObject: is required for UPDATE"
    return ""


def parse_review(data: Any) -> Review | ReviewProblem:
    """The review in ``data`` (parsed JSON), or the first reason it cannot be judged, in one line."""
    try:
        review = Review.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        return ReviewProblem(f"{field_path(first['loc'])}: {problem_message(first)}")
    missing = _incomplete(review.request)
    if missing:
        return ReviewProblem(missing)
    return review


def requester(review: Review) -> str:
    """The requester's name as the review gives it, cut to ``USER_LIMIT``."""
    return review.request.user_info.username[:USER_LIMIT]
