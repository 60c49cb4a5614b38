"""What the webhook accepts as an AdmissionReview: anything it cannot judge is a one-line problem naming the
field, never a review that passes with a hole the verdict would read as "nothing to deny"."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sre_operator.gates.review import USER_LIMIT, Review, ReviewProblem, parse_review, requester
from tests.gates.test_admission import new_image


def envelope(request: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def changed(path: str, value: Any) -> dict[str, Any]:
    """A real-looking review of a new image with one field (dotted path) set, or removed when ``value`` is
    ``...``."""
    review = envelope(copy.deepcopy(new_image()))
    *parents, last = path.split(".")
    node = review
    for part in parents:
        node = node[part]
    if value is ...:
        node.pop(last, None)
    else:
        node[last] = value
    return review


def test_a_review_as_the_api_server_sends_it_is_accepted() -> None:
    review = parse_review(envelope(new_image()))
    assert isinstance(review, Review)
    assert review.request.operation == "UPDATE" and requester(review) == "alice"


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("request.userInfo", "x", "request.userInfo: input should be a valid dictionary"),
        ("request.userInfo.username", 7, "request.userInfo.username: input should be a valid string"),
        ("request.kind", "Deployment", "request.kind: input should be a valid dictionary"),
        ("request.kind", ..., "request.kind: is required"),
        ("request.object", ["a"], "request.object: input should be a valid dictionary"),
        ("request.object", ..., "request.object: is required for UPDATE"),
        ("request.oldObject", None, "request.oldObject: is required for UPDATE"),
        ("request.namespace", ..., "request.namespace: is required"),
        ("request.namespace", "", "request.namespace: must not be empty"),
        ("request.namespace", "shop\n", "request.namespace: is not a namespace name"),
        ("request.dryRun", "false", "request.dryRun: input should be a valid boolean"),
        ("request.operation", "PATCH", "request.operation: must be one of"),
        ("request.uid", ..., "request.uid: is required"),
        ("request.object.metadata", [], "request.object.metadata: input should be a valid dictionary"),
        ("request.object.metadata.labels", {"app": 1}, "request.object.metadata.labels.app: input should be"),
        ("request.object.spec", "x", "request.object.spec: input should be a valid dictionary"),
        ("request", None, "request: input should be a valid dictionary"),
        ("kind", "Review", "kind: must be one of 'AdmissionReview'"),
    ],
)
def test_what_cannot_be_judged_is_named_in_one_line(path: str, value: Any, problem: str) -> None:
    found = parse_review(changed(path, value))
    assert isinstance(found, ReviewProblem)
    assert found.message.startswith(problem), found.message
    assert "\n" not in found.message


def test_a_create_needs_its_object_and_nothing_else() -> None:
    review = changed("request.operation", "CREATE")
    review["request"]["oldObject"] = None
    assert isinstance(parse_review(review), Review)
    review["request"]["object"] = None
    assert parse_review(review) == ReviewProblem("request.object: is required for CREATE")


def test_a_huge_user_name_is_kept_cut() -> None:
    review = parse_review(changed("request.userInfo", {"username": "u" * 1_000_000, "groups": ["a"]}))
    assert isinstance(review, Review)
    assert requester(review) == "u" * USER_LIMIT


def test_what_is_not_json_at_all_is_a_problem_too() -> None:
    for data in (None, [], "x", 3):
        found = parse_review(data)
        assert isinstance(found, ReviewProblem) and found.message.startswith("(document): input should be")


def test_any_label_kubernetes_allows_is_accepted() -> None:
    longest = "a" * 253 + "/" + "b" * 63  # the longest label key the API server takes
    review = parse_review(changed("request.object.metadata.labels", {longest: "v"}))
    assert isinstance(review, Review)
