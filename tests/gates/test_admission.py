"""Admission verdicts on AdmissionReview requests (admission.k8s.io/v1 wire format), case by case."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sre_operator.gates import GateView, judge
from sre_operator.models.gate import Target

TEMPLATE = {
    "metadata": {"labels": {"app": "checkout"}},
    "spec": {"containers": [{"name": "api", "image": "shop/checkout:1.0"}]},
}


def workload(
    kind: str = "Deployment", name: str = "checkout-api", image: str = "shop/checkout:1.0", **extra: Any
) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    template["spec"]["containers"][0]["image"] = image
    template["metadata"].update(extra.pop("template_metadata", {}))
    api_version = "argoproj.io/v1alpha1" if kind == "Rollout" else "apps/v1"
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", "labels": extra.pop("labels", {"app": "checkout"}), **extra},
        "spec": {"replicas": extra.pop("replicas", 3), "template": template},
    }


def review(new: dict[str, Any], old: dict[str, Any] | None, *, dry_run: bool = False) -> dict[str, Any]:
    group, _, version = new["apiVersion"].rpartition("/")
    return {
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": group, "version": version, "kind": new["kind"]},
        "resource": {"group": group, "version": version, "resource": new["kind"].lower() + "s"},
        "name": new["metadata"]["name"],
        "namespace": "shop",
        "operation": "UPDATE" if old else "CREATE",
        "userInfo": {"username": "alice"},
        "object": new,
        "oldObject": old,
        "dryRun": dry_run,
    }


def gate(state: str = "Frozen", **changes: Any) -> GateView:
    values: dict[str, Any] = {
        "namespace": "shop",
        "name": "checkout",
        "targets": (Target(kind="Deployment", name="checkout-api"),),
        "state": state,
        "reason": "Frozen: availability has -12% of its 30d budget left (rule freeze)",
        "allowed": state != "Frozen",
        "change_classes": ("hotfix", "security"),
    }
    values.update(changes)
    return GateView(**values)


def new_image(kind: str = "Deployment", **extra: Any) -> dict[str, Any]:
    return review(workload(kind, image="shop/checkout:2.0", **extra), workload(kind))


def scaled() -> dict[str, Any]:
    new = workload()
    new["spec"]["replicas"] = 10
    return review(new, workload())


def restarted() -> dict[str, Any]:
    stamp = {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-25T12:00:00Z"}}
    return review(workload(template_metadata=stamp), workload())


def hotfix(change_class: str = "hotfix") -> dict[str, Any]:
    return review(
        workload(image="shop/checkout:2.0", annotations={"reliability.dev/change-class": change_class}), workload()
    )


def left_over_hotfix() -> dict[str, Any]:
    annotations = {"reliability.dev/change-class": "hotfix"}
    return review(workload(image="shop/checkout:3.0", annotations=annotations), workload(annotations=annotations))


ROLLOUT_GATE = gate(targets=(Target(api_version="argoproj.io/v1alpha1", kind="Rollout", name="checkout-api"),))
STATEFUL_GATE = gate(targets=(Target(kind="StatefulSet", name="checkout-api"),))
SELECTOR_GATE = gate(targets=(Target(kind="Deployment", selector={"matchLabels": {"app": "checkout"}}),))


@pytest.mark.parametrize(
    ("case", "request_", "gates", "allowed"),
    [
        ("new image while frozen", new_image(), [gate()], False),
        ("new image while open", new_image(), [gate("Open")], True),
        ("scaling while frozen", scaled(), [gate()], True),
        ("rollout restart while frozen", restarted(), [gate()], True),
        ("exception change class while frozen", hotfix(), [gate()], True),
        ("a change class the policy does not except", hotfix("feature"), [gate()], False),
        ("a change class with a ticket", hotfix("hotfix:INC-124"), [gate()], True),
        ("a change class left from an earlier change", left_over_hotfix(), [gate()], False),
        ("override active", new_image(), [gate(override_active=True, allowed=True, state="Frozen")], True),
        ("dry-run gate", new_image(), [gate(dry_run=True, allowed=True)], True),
        ("gate with admission off", new_image(), [gate(admission=False)], True),
        (
            "another workload",
            review(workload(name="other", image="x:2", labels={}), workload(name="other", labels={})),
            [gate()],
            True,
        ),
        ("an Argo Rollout", new_image("Rollout"), [ROLLOUT_GATE], False),
        ("a Deployment is not the gated Rollout", new_image(), [ROLLOUT_GATE], True),
        ("a StatefulSet", new_image("StatefulSet"), [STATEFUL_GATE], False),
        ("a workload matched by selector", new_image(name="checkout-worker"), [SELECTOR_GATE], False),
        ("selector does not match", new_image(name="w", labels={"app": "search"}), [SELECTOR_GATE], True),
        ("a new workload", review(workload(), None), [gate()], True),
        ("a new workload when the policy holds creates", review(workload(), None), [gate(new_workloads=False)], False),
        ("evaluating", new_image(), [gate("Evaluating")], True),
        ("invalid gate", new_image(), [gate("Invalid")], True),
        ("two gates, one frozen", new_image(), [gate("Open", name="a"), gate(name="b")], False),
    ],
)
def test_verdicts(case: str, request_: dict[str, Any], gates: list[GateView], allowed: bool) -> None:
    assert judge(request_, gates).allowed is allowed, case


def test_a_release_through_an_open_gate_is_recorded_and_a_scale_is_not() -> None:
    verdict = judge(new_image(), [gate("Open")])
    assert verdict.allowed and [(r.outcome, r.message) for r in verdict.records] == [
        ("admitted", "Deployment checkout-api admitted: the gate is Open")
    ]
    assert judge(scaled(), [gate("Open")]).records == ()


def test_a_denial_names_the_gate_its_reason_and_what_is_still_admitted() -> None:
    verdict = judge(new_image(), [gate()])
    assert verdict.message.startswith(
        "release gate shop/checkout: Frozen: availability has -12% of its 30d budget left (rule freeze)."
    )
    assert "sets annotation reliability.dev/change-class to one of [hotfix, security]" in verdict.message
    assert [r.outcome for r in verdict.records] == ["denied"]


def test_a_rollback_to_an_existing_revision_passes_and_is_recorded() -> None:
    earlier = workload()["spec"]["template"]
    earlier["metadata"]["labels"]["pod-template-hash"] = "5d8f9c7b6"
    back = review(workload(), workload(image="shop/checkout:2.0"))
    verdict = judge(back, [gate()], lambda: [earlier])
    assert verdict.allowed and [r.outcome for r in verdict.records] == ["exception"]
    assert not judge(back, [gate()], lambda: []).allowed


def test_earlier_revisions_are_read_only_when_a_frozen_gate_would_deny() -> None:
    calls: list[int] = []

    def templates() -> list[Any]:
        calls.append(1)
        return []

    judge(new_image(), [gate("Open")], templates)
    judge(scaled(), [gate()], templates)
    judge(hotfix(), [gate()], templates)
    assert calls == []
    judge(new_image(), [gate()], templates)
    assert calls == [1]


def test_a_dry_run_request_gets_the_same_answer() -> None:
    for request in (new_image(), scaled(), hotfix()):
        dry = {**request, "dryRun": True}
        assert judge(dry, [gate()]).allowed is judge(request, [gate()]).allowed


def test_dry_run_mode_warns_with_the_reason() -> None:
    verdict = judge(new_image(), [gate(dry_run=True, allowed=True)])
    assert verdict.allowed
    assert verdict.warnings == (
        "release gate shop/checkout would block this change (dry run): "
        "Frozen: availability has -12% of its 30d budget left (rule freeze)",
    )
    assert [r.outcome for r in verdict.records] == ["dry-run"]
