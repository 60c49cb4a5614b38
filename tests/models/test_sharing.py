"""Equal parts of held plans are one instance, models stay what parsing made them, and nothing deleted stays."""

from __future__ import annotations

import copy
import gc
import json
from typing import Any

import yaml

from sre_operator.models import ServiceReliabilityPlan, parse_document
from sre_operator.models.sharing import SharedParts
from sre_operator.registry import PRUNE_AFTER, Registry
from tests.conftest import EXAMPLES

CHECKOUT = json.loads(json.dumps(yaml.safe_load((EXAMPLES[0].parent / "checkout.yaml").read_text()), default=str))


def checkout() -> dict[str, Any]:
    return copy.deepcopy(CHECKOUT)


def parsed(document: dict[str, Any]) -> ServiceReliabilityPlan:
    model = parse_document(copy.deepcopy(document)).model
    assert isinstance(model, ServiceReliabilityPlan)
    return model


def checkout_and_a_stricter_copy(parts: SharedParts) -> tuple[ServiceReliabilityPlan, ServiceReliabilityPlan]:
    """The example, and a copy whose first SLO's objective differs, both shared through ``parts``."""
    stricter = checkout()
    stricter["metadata"]["name"] = "stricter"
    stricter["spec"]["slos"][0]["objective"] = 99.95
    return parts.share(parsed(checkout())), parts.share(parsed(stricter))


def test_plans_that_differ_in_name_only_share_their_whole_spec() -> None:
    parts = SharedParts()
    first, second = checkout(), checkout()
    second["metadata"]["name"] = "checkout-eu"
    a, b = parts.share(parsed(first)), parts.share(parsed(second))
    assert a.spec is b.spec
    assert a.metadata is not b.metadata
    assert b.metadata.name == "checkout-eu"


def test_a_shared_model_is_equal_to_a_fresh_parse_down_to_what_was_set() -> None:
    parts = SharedParts()
    document = checkout()
    parts.share(parsed(document))
    again = parts.share(parsed(document))
    fresh = parsed(document)
    assert again == fresh
    assert again.model_dump(exclude_unset=True) == fresh.model_dump(exclude_unset=True)


def test_a_part_that_differs_is_not_shared_but_its_equal_siblings_are() -> None:
    parts = SharedParts()
    a, b = checkout_and_a_stricter_copy(parts)
    assert a.spec.slos[0] is not b.spec.slos[0]
    assert b.spec.slos[0].objective == 99.95 and a.spec.slos[0].objective == 99.9
    assert a.spec.slos[1] is b.spec.slos[1]
    assert a.spec.alerting is b.spec.alerting


def test_parts_nothing_uses_are_dropped() -> None:
    parts = SharedParts()
    kept = parts.share(parsed(checkout()))
    edited = checkout()
    edited["spec"]["slos"][0]["objective"] = 99.5
    gone = parts.share(parsed(edited))
    held = len(parts)
    del gone
    gc.collect()
    assert 0 < parts.prune() < held  # the edited SLO and the plan above it, not what the kept plan uses
    assert parts.share(parsed(checkout())) is kept
    del kept
    gc.collect()
    parts.prune()
    assert len(parts) == 0


def test_the_registry_lets_go_of_the_parts_of_deleted_plans() -> None:
    registry = Registry()
    documents = []
    for index in range(PRUNE_AFTER + 1):
        document = checkout()
        document["metadata"]["name"] = f"plan-{index}"
        document["spec"]["service"]["name"] = f"service-{index}"
        documents.append(document)
        registry.observe(document)
    held = len(registry._parts)
    assert held > PRUNE_AFTER  # each plan's own parts (service, metadata, the plan)
    for document in documents:
        registry.observe(document, deleted=True)
    one_plan = SharedParts()
    one_plan.share(parsed(checkout()))
    # Pruned once a thousand models were dropped: at most the parts of the one dropped after that remain.
    assert len(registry._parts) <= len(one_plan)


class Colliding(SharedParts):
    """Every signature with the same hash: parts are told apart by comparing them."""

    def _digest(self, signature: tuple[object, ...]) -> int:
        return 0


def test_parts_whose_hashes_collide_are_told_apart_and_pruned_alike() -> None:
    parts = Colliding()
    a, b = checkout_and_a_stricter_copy(parts)
    assert a.spec.slos[0].objective == 99.9 and b.spec.slos[0].objective == 99.95
    assert a.spec.alerting is b.spec.alerting
    assert parts.share(parsed(checkout())) is a
    held = len(parts)
    del b
    gc.collect()
    assert 0 < parts.prune() < held
    assert parts.share(parsed(checkout())) is a
    del a
    gc.collect()
    parts.prune()
    assert len(parts) == 0
