"""The CRDs: generated from the models, valid Kubernetes objects, and agreeing with the models on documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from sre_operator.documents import load_files
from sre_operator.models import parse_document
from sre_operator.models.schema import all_crds
from tests.conftest import DATA, EXAMPLES, ROOT
from tests.support.mutations import CEL_ONLY, OPERATOR_ONLY, mutations

CRDS = ROOT / "crds"


def schema_of(kind: str) -> dict[str, Any]:
    crd = next(c for c in all_crds().values() if c["spec"]["names"]["kind"] == kind)
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def strict(node: Any) -> Any:
    """The schema as kubectl's strict field validation applies it: unknown fields are errors, not pruned."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and out.get("description", "") != "Standard object metadata."
    ):
        out["additionalProperties"] = False
    return out


def schema_accepts(document: dict[str, Any]) -> bool:
    # OpenAPI v3's boolean exclusiveMinimum is draft 4's; x-kubernetes-* keys are ignored by jsonschema,
    # so CEL rules and list-map keys are left to the real API server tests.
    validator = jsonschema.Draft4Validator(strict(schema_of(document["kind"])))
    return validator.is_valid(document)


def test_committed_crds_are_the_generated_ones() -> None:
    generated = {name: yaml.safe_dump(body, sort_keys=False) for name, body in all_crds().items()}
    committed = {
        p.name: yaml.safe_dump(yaml.safe_load(p.read_text(encoding="utf-8")), sort_keys=False)
        for p in CRDS.glob("*.yaml")
    }
    assert committed == generated, "run: sre-operator crds -o crds"


@pytest.mark.parametrize("path", sorted(CRDS.glob("*.yaml")), ids=lambda p: p.name)
def test_crds_pass_kubernetes_validate_strict(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def every_schema_node(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        for name, child in node.get("properties", {}).items():
            found.append((f"{path}.{name}", child))
            found += every_schema_node(child, f"{path}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                found += every_schema_node(node[key], f"{path}[]")
    return found


@pytest.mark.parametrize("kind", ["ServiceReliabilityPlan", "ErrorBudgetPolicy", "ReleaseGate"])
def test_every_field_is_described_for_kubectl_explain(kind: str) -> None:
    # The API server forbids describing metadata; kubectl explain documents it itself.
    undescribed = [
        path for path, node in every_schema_node(schema_of(kind)) if not node.get("description") and path != ".metadata"
    ]
    assert undescribed == []


def test_crds_hold_the_cross_field_rules() -> None:
    indicator = schema_of("ServiceReliabilityPlan")["properties"]["spec"]["properties"]["slos"]["items"]
    rules = indicator["properties"]["indicator"]["x-kubernetes-validations"]
    assert rules[0]["message"] == "exactly one of ratio, latency, expression must be given"
    assert indicator is not None
    slos = schema_of("ServiceReliabilityPlan")["properties"]["spec"]["properties"]["slos"]
    assert slos["x-kubernetes-list-map-keys"] == ["name"]


def test_every_example_validates_against_its_crd() -> None:
    documents, problems = load_files(str(p) for p in EXAMPLES)
    assert not problems
    for document in documents:
        assert schema_accepts(document.body), document.source


def invalid_documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((DATA / "invalid").glob("*.yaml")):
        documents, _ = load_files([str(path)])
        found.append((path.stem, documents[0].body))
    return found


def test_schema_rejects_what_the_models_reject_structurally() -> None:
    rejected = {name for name, body in invalid_documents() if not schema_accepts(body)}
    # The rest need CEL, list-map keys (checked against the real API server) or PromQL parsing (operator only).
    assert rejected == {"no-service-name", "objective-100", "window-unit", "groupby-label"}


@pytest.mark.parametrize("example", [p for p in EXAMPLES if "policy" not in p.name], ids=lambda p: p.name)
def test_models_and_crd_schema_agree_on_edited_examples(example: Path) -> None:
    documents, _ = load_files([str(example)])
    disagreements = []
    for name, edited in mutations(documents[0].body):
        messages = [p.message for p in parse_document(edited).problems]
        if any(m.startswith(CEL_ONLY) for m in messages):
            continue  # a CEL rule's job: tests/controlplane checks these against the real API server
        model_accepts = not [m for m in messages if not m.startswith(OPERATOR_ONLY)]
        if model_accepts != schema_accepts(edited):
            disagreements.append(f"{name}: models {'accept' if model_accepts else 'reject'}")
    assert disagreements == []
