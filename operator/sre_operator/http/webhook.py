"""The validating admission webhook on ``--webhook-address`` (HTTPS): ``POST /validate/release-gate``.

The verdict comes from the gate book in memory; only a would-be denial of an
update asks the API server for the workload's earlier revisions, to recognise
a rollback. Decisions worth recording are handed to ``on_records`` and written
later, never while the API server waits, and never for dry-run requests.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import socket
import ssl
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from sre_operator.gates.admission import Record, judge
from sre_operator.gates.book import GateBook
from sre_operator.gates.review import ReviewProblem, parse_review, requester
from sre_operator.generate.webhook import WEBHOOK_PATH
from sre_operator.http.intake import ClientMistake, read_json
from sre_operator.http.metrics import Metrics
from sre_operator.http.openapi import webhook_document
from sre_operator.http.server import error, guarded_app

EarlierTemplates = Callable[[Mapping[str, Any]], Sequence[Any]]
OnRecords = Callable[[Sequence[Record], str], None]
"""Records of one review and the requester's name (bounded): nothing else of the review is kept."""
REVIEW_KIND = "admission.k8s.io/v1 AdmissionReview"
REVIEW_LIMIT = 8 * 1024 * 1024
"""Bytes of an AdmissionReview: the object and its old version, each at most etcd's 1.5 MiB, with room."""
Ready = Callable[[], tuple[bool, str]]


def review_response(uid: str, allowed: bool, message: str, warnings: Sequence[str]) -> dict[str, Any]:
    response: dict[str, Any] = {"uid": uid, "allowed": allowed}
    if not allowed:
        response["status"] = {"code": 403, "reason": "Forbidden", "message": message}
    if warnings:
        response["warnings"] = list(warnings)
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}


def _always_ready() -> tuple[bool, str]:
    return True, "ok"


def webhook_app(
    book: GateBook,
    metrics: Metrics,
    earlier_templates: EarlierTemplates,
    on_records: OnRecords,
    ready: Ready = _always_ready,
) -> web.Application:
    async def validate(request: web.Request) -> web.Response:
        is_ready, why = ready()
        if not is_ready:  # no verdict from a replica that does not know every gate: failurePolicy decides
            return error(503, f"this replica gives no admission verdict now: {why}")
        try:
            data = await read_json(request, REVIEW_LIMIT)
        except ClientMistake as mistake:
            raise ClientMistake(mistake.status, f"{mistake.message}: expected an {REVIEW_KIND}") from None
        review = parse_review(data)
        if isinstance(review, ReviewProblem):  # no verdict at all, least of all "allowed": failurePolicy decides
            return error(400, f"sre-operator cannot judge this {REVIEW_KIND}: {review.message}")
        uid = review.request.uid
        gates = book.gates_in(review.request.namespace)
        if not gates:
            return web.json_response(review_response(uid, True, "", ()))
        admission = data["request"]  # its every field the verdict reads has the type parse_review checked
        verdict = await asyncio.to_thread(judge, admission, gates, lambda: earlier_templates(admission))
        if review.request.dry_run is not True:
            recorded = {record.gate.key for record in verdict.records}
            for record in verdict.records:
                decision = "allowed" if record.outcome == "admitted" else record.outcome
                metrics.admissions.inc((record.gate.namespace, record.gate.name, decision))
            for gate in verdict.gates:
                if gate.key not in recorded:  # admitted with nothing to record: not a release
                    metrics.admissions.inc((gate.namespace, gate.name, "allowed"))
            if verdict.records:
                on_records(verdict.records, requester(review))
        return web.json_response(review_response(uid, verdict.allowed, verdict.message, verdict.warnings))

    app = guarded_app(client_max_size=REVIEW_LIMIT, description=webhook_document())
    app.router.add_post(WEBHOOK_PATH, validate)
    return app


@dataclass
class ServingCertificate:
    """The webhook's TLS pair, reloaded into the live context when its files change (cert-manager renewals)."""

    cert: Path
    key: Path
    context: ssl.SSLContext
    loaded: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def from_folder(cls, folder: Path, client_ca: Path | None = None) -> ServingCertificate:
        """The pair in ``folder``; with ``client_ca``, a client must present a certificate that CA signed
        (the TLS handshake fails otherwise, before a byte of any request is read)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if client_ca is not None:
            context.load_verify_locations(cafile=str(client_ca))
            context.verify_mode = ssl.CERT_REQUIRED
        certificate = cls(folder / "tls.crt", folder / "tls.key", context)
        certificate.reload_if_changed()
        return certificate

    def reload_if_changed(self) -> bool:
        stamps = (self.cert.stat().st_mtime, self.key.stat().st_mtime)
        if stamps == self.loaded:
            return False
        self.context.load_cert_chain(str(self.cert), str(self.key))
        self.loaded = stamps
        return True


def self_signed_folder(hosts: Sequence[str]) -> Path:
    """A fresh self-signed serving pair (``tls.crt`` is its own CA) in a new private folder."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = Path(tempfile.mkdtemp(prefix="sre-operator-webhook-"))
    (folder / "tls.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path = folder / "tls.key"
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder


def default_hosts() -> list[str]:
    """Names a self-signed certificate covers: loopback, the host name, and the chart's Service when in a pod."""
    hosts = ["localhost", "127.0.0.1", socket.gethostname()]
    namespace = os.environ.get("POD_NAMESPACE")
    service = os.environ.get("SRE_OPERATOR_WEBHOOK_SERVICE", "sre-operator-webhook")
    if namespace:
        hosts += [f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local"]
    return hosts
