"""What only a real API server can answer: schemas, CEL, defaults, status, printer columns, explain, RBAC, webhooks."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sre_operator.documents import load_files
from sre_operator.models import parse_document
from tests.conftest import DATA, EXAMPLES, ROOT
from tests.support.controlplane import ControlPlane
from tests.support.mutations import CEL_ONLY, OPERATOR_ONLY, mutations

pytestmark = pytest.mark.controlplane
INVALID = sorted((DATA / "invalid").glob("*.yaml"))


def header(path: Path, key: str) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"# {key}: "):
            return line.removeprefix(f"# {key}: ")
    raise AssertionError(f"{path} has no '# {key}:' line")


@pytest.fixture(scope="module")
def namespaces(control_plane: ControlPlane) -> None:
    documents, _ = load_files(str(p) for p in EXAMPLES)
    for name in sorted({d.body["metadata"]["namespace"] for d in documents} | {"default"}):
        control_plane.kubectl("create", "namespace", name)


def get(plane: ControlPlane, resource: str, namespace: str, name: str) -> dict[str, Any]:
    result = plane.kubectl("-n", namespace, "get", resource, name, "-o", "json", check=True)
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_every_reference_object_applies_and_reads_back_with_defaults(
    control_plane: ControlPlane, namespaces: None
) -> None:
    for path in EXAMPLES:
        result = control_plane.kubectl("apply", "--server-side", "--field-manager=tests", "-f", str(path))
        assert result.returncode == 0, f"{path.name}: {result.stderr}"
    search = get(control_plane, "srp", "catalog", "search")
    success = next(s for s in search["spec"]["slos"] if s["name"] == "success")
    assert success["alerting"] == {"page": True, "ticket": False}  # page filled in by the CRD default
    gate = get(control_plane, "rgate", "shop", "checkout")
    assert gate["spec"]["targets"][1]["apiVersion"] == "apps/v1"
    minimal = get(control_plane, "srp", "data", "nightly-export")
    # Defaults that imply an assumption are not filled in by the schema: the operator says them instead.
    assert "tier" not in minimal["spec"]["service"]
    assert parse_document(minimal).problems == ()


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_plans_get_the_same_help_from_kubectl(
    control_plane: ControlPlane, namespaces: None, path: Path
) -> None:
    verdict = header(path, "apiserver")
    result = control_plane.kubectl(
        "apply", "--server-side", "--dry-run=server", "--field-manager=tests", "-f", str(path)
    )
    if verdict.startswith("accepts"):
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode != 0
    field = verdict.removeprefix("rejects at ")
    # The first error kubectl prints names the field (CEL may add a note that later rules were not run).
    first = next(line for line in result.stderr.splitlines() if field in line or line.startswith("* "))
    assert f"{field}: " in first, result.stderr


@pytest.mark.parametrize("example", [p for p in EXAMPLES if "policy" not in p.name], ids=lambda p: p.name)
def test_models_and_api_server_accept_and_reject_the_same_edits(
    control_plane: ControlPlane, namespaces: None, example: Path
) -> None:
    documents, _ = load_files([str(example)])
    disagreements = []
    for name, edited in mutations(documents[0].body):
        edited["metadata"].update(name="mutation", namespace="default")
        messages = [p.message for p in parse_document(edited).problems]
        models_accept = not [m for m in messages if not m.startswith(OPERATOR_ONLY)]
        result = control_plane.kubectl("create", "--dry-run=server", "-f", "-", input=json.dumps(edited))
        if models_accept != (result.returncode == 0):
            disagreements.append(
                f"{name}: models {'accept' if models_accept else 'reject'}, API server "
                f"{'accepts' if result.returncode == 0 else 'rejects: ' + result.stderr.strip()}"
            )
    assert disagreements == []
    assert CEL_ONLY  # the CEL rules the jsonschema check had to leave out are covered here


def test_status_is_a_subresource_and_spec_edits_bump_the_generation(
    control_plane: ControlPlane, namespaces: None
) -> None:
    plan = yaml.safe_load((DATA / "invalid" / "objective-100.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["name"] = "generation"
    plan["spec"]["slos"][0]["objective"] = 99.5
    assert control_plane.apply([plan]).returncode == 0
    before = get(control_plane, "srp", "default", "generation")
    status = {"status": {"observedGeneration": 1, "assumptions": ["an assumption"], "sloCount": 1}}
    patched = control_plane.kubectl(
        "-n",
        "default",
        "patch",
        "srp",
        "generation",
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps({**status, "spec": {"slos": []}}),
    )
    assert patched.returncode == 0, patched.stderr
    after = get(control_plane, "srp", "default", "generation")
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["status"]["assumptions"] == ["an assumption"]
    plan["spec"]["slos"][0]["objective"] = 99.9
    assert control_plane.apply([plan]).returncode == 0
    edited = get(control_plane, "srp", "default", "generation")
    assert edited["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert edited["status"]["assumptions"] == ["an assumption"]


def test_kubectl_get_prints_the_printer_columns(control_plane: ControlPlane, namespaces: None) -> None:
    for path in EXAMPLES:
        control_plane.kubectl("apply", "--server-side", "--field-manager=tests", "-f", str(path), check=True)
    output = control_plane.kubectl("get", "srp,ebp,rgate", "-A", check=True).stdout
    lines = output.splitlines()
    assert any(line.split()[:4] == ["NAMESPACE", "NAME", "SERVICE", "SLOS"] for line in lines), output
    assert any(line.split()[:3] == ["NAMESPACE", "NAME", "VALID"] for line in lines), output
    assert any(line.split()[:6] == ["NAMESPACE", "NAME", "STATE", "ALLOWED", "BUDGET", "REASON"] for line in lines), (
        output
    )
    assert any(
        line.split()[:3] == ["shop", "servicereliabilityplan.reliability.dev/checkout", "checkout"] for line in lines
    ), output
    by_category = control_plane.kubectl("get", "sre", "-A", check=True).stdout
    assert "servicereliabilityplan.reliability.dev/checkout" in by_category


def test_kubectl_explain_teaches_the_api(control_plane: ControlPlane) -> None:
    output = control_plane.kubectl("explain", "servicereliabilityplan.spec.slos", check=True).stdout
    assert "2. SLIs and SLOs; at least one." in output
    assert "objective" in output and "Target percentage of good events, such as 99.9." in output
    indicator = control_plane.kubectl("explain", "srp.spec.slos.indicator.ratio.groupBy", check=True).stdout
    assert "Labels kept on the SLI" in indicator


def test_a_service_account_gets_only_what_rbac_grants(control_plane: ControlPlane) -> None:
    kubeconfig = control_plane.service_account_kubeconfig("rbac-test", "reader")
    denied = control_plane.kubectl("-n", "rbac-test", "get", "srp", kubeconfig=kubeconfig)
    assert denied.returncode != 0 and "forbidden" in denied.stderr
    control_plane.kubectl(
        "-n",
        "rbac-test",
        "create",
        "role",
        "reader",
        "--verb=get,list",
        "--resource=servicereliabilityplans.reliability.dev",
        check=True,
    )
    control_plane.kubectl(
        "-n",
        "rbac-test",
        "create",
        "rolebinding",
        "reader",
        "--role=reader",
        "--serviceaccount=rbac-test:reader",
        check=True,
    )
    allowed = control_plane.kubectl("-n", "rbac-test", "get", "srp", kubeconfig=kubeconfig)
    assert allowed.returncode == 0, allowed.stderr
    plan = yaml.safe_load((ROOT / "references" / "examples" / "batch.yaml").read_text(encoding="utf-8"))
    plan["metadata"]["namespace"] = "rbac-test"
    assert control_plane.apply([plan]).returncode == 0
    still_denied = control_plane.kubectl("-n", "rbac-test", "delete", "srp", "nightly-export", kubeconfig=kubeconfig)
    assert still_denied.returncode != 0 and "forbidden" in still_denied.stderr


class _DenyFrozen(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        labels = review["request"]["object"]["metadata"].get("labels", {})
        allowed = labels.get("test") != "deny"
        answer = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {
                "uid": review["request"]["uid"],
                "allowed": allowed,
                "status": {"message": "denied by the test webhook"},
            },
        }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook_server(control_plane: ControlPlane) -> Iterator[int]:
    pair = control_plane.webhook_serving_pair("webhook")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _DenyFrozen)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pair.cert), str(pair.key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def test_the_api_server_calls_a_webhook_over_tls(
    control_plane: ControlPlane, namespaces: None, webhook_server: int
) -> None:
    configuration = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "test-webhook"},
        "webhooks": [
            {
                "name": "test.reliability.dev",
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": "Fail",
                "timeoutSeconds": 5,
                "clientConfig": {
                    "url": f"https://127.0.0.1:{webhook_server}/validate",
                    "caBundle": control_plane.ca_bundle,
                },
                "rules": [
                    {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}
                ],
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}},
            }
        ],
    }
    assert control_plane.apply([configuration]).returncode == 0
    try:
        denied = control_plane.kubectl(
            "-n",
            "default",
            "create",
            "-f",
            "-",
            input=json.dumps(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "denied", "labels": {"test": "deny"}}}
            ),
        )
        assert denied.returncode != 0
        assert "denied by the test webhook" in denied.stderr
        allowed = control_plane.kubectl("-n", "default", "create", "configmap", "allowed")
        assert allowed.returncode == 0, allowed.stderr
    finally:
        control_plane.kubectl("delete", "validatingwebhookconfiguration", "test-webhook")


def test_the_garbage_collector_deletes_owned_objects(control_plane: ControlPlane, namespaces: None) -> None:
    if not control_plane.has_garbage_collector:
        pytest.skip("no kube-controller-manager beside the API server (KUBEBUILDER_ASSETS has none)")
    owner = yaml.safe_load((ROOT / "references" / "examples" / "batch.yaml").read_text(encoding="utf-8"))
    owner["metadata"].update(name="gc-owner", namespace="default")
    control_plane.apply([owner]).check_returncode()
    uid = get(control_plane, "srp", "default", "gc-owner")["metadata"]["uid"]
    child = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "gc-child",
            "namespace": "default",
            "ownerReferences": [
                {
                    "apiVersion": "reliability.dev/v1alpha1",
                    "kind": "ServiceReliabilityPlan",
                    "name": "gc-owner",
                    "uid": uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
    }
    control_plane.apply([child]).check_returncode()
    control_plane.kubectl("-n", "default", "delete", "srp", "gc-owner", "--wait=true", check=True)
    gone = control_plane.kubectl("-n", "default", "wait", "--for=delete", "configmap/gc-child", "--timeout=60s")
    assert gone.returncode == 0, gone.stderr
