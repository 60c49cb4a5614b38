"""What the operator knows of its objects in the cluster, kept current from kopf's watch events.

Each object is held parsed: its last valid model (an invalid edit keeps the
last good one, so budgets and gates go on from it), the problems of its
current version, its uid and its stored status.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sre_operator.errors import Problem
from sre_operator.models import (
    API_GROUP,
    API_VERSION,
    ErrorBudgetPolicy,
    ReleaseGate,
    ServiceReliabilityPlan,
    involved_object,
    parse_document,
)
from sre_operator.models.incident import Incident
from sre_operator.models.sharing import SharedParts
from sre_operator.models.validation import Resource

Key = tuple[str, str]
READ_ANNOTATIONS = ("reliability.dev/postmortem.",)
# Parts no model uses any more are dropped after this many replaced or deleted models (or a quarter of the
# objects held, if more): what is left over stays a fraction of what is held, and the pass over all parts
# comes rarely.
PRUNE_AFTER = 1000


@dataclass
class Known:
    kind: str
    namespace: str
    name: str
    uid: str = ""
    generation: int = 0
    model: Resource | None = None
    problems: tuple[Problem, ...] = ()
    status_json: bytes = b"{}"
    """The stored status as compact JSON: a fifth of its size as dicts and lists (a plan's is about 2 KB
    against 9 KB), read whole only by the one reconcile or cycle step that needs it."""
    annotations: dict[str, str] = field(default_factory=dict)
    resource_version: str = ""

    @property
    def status(self) -> dict[str, Any]:
        """A fresh copy of the stored status: changing it changes nothing held (assign to keep a change)."""
        loaded: dict[str, Any] = json.loads(self.status_json)
        return loaded

    @status.setter
    def status(self, value: Mapping[str, Any]) -> None:
        self.status_json = compact_json(value)

    @property
    def stored(self) -> dict[str, Any]:
        """The object as far as a guarded status write needs it (``Cluster.patch_status_guarded``)."""
        return {"metadata": {"resourceVersion": self.resource_version}, "status": self.status}

    @property
    def reference(self) -> dict[str, str]:
        """The object as an Event's involvedObject."""
        return involved_object(f"{API_GROUP}/{API_VERSION}", self.kind, self.name, self.namespace, self.uid)


def compact_json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _read_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata the models read. The rest is not held: the API server's managed fields and kopf's
    annotation holding a copy of the last handled spec would be most of a plan's memory."""
    read = {key: metadata[key] for key in ("name", "namespace", "uid", "generation", "labels") if key in metadata}
    annotations = metadata.get("annotations") or {}
    read["annotations"] = {str(k): str(v) for k, v in annotations.items() if str(k).startswith(READ_ANNOTATIONS)}
    return read


class Registry:
    def __init__(self) -> None:
        self.objects: dict[str, dict[Key, Known]] = {
            "ServiceReliabilityPlan": {},
            "ErrorBudgetPolicy": {},
            "ReleaseGate": {},
            "Incident": {},
        }
        # (namespace, service) -> names of the valid plans covering it: a reconcile asks without scanning all plans.
        self._services: dict[tuple[str, str], set[str]] = {}
        # (namespace, plan) -> names of its incidents: every cycle asks per plan, without scanning all incidents.
        self._incidents: dict[tuple[str, str], set[str]] = {}
        # Equal parts of the held models, held once (a plan is many small objects; plans repeat each other).
        self._parts = SharedParts()
        self._dropped_models = 0

    def copy(self) -> Registry:
        """A registry of the same objects that later events do not change: what a decision cycle reads in
        another thread while the watches go on. The objects themselves are shared (each event replaces its
        object rather than changing it)."""
        other = Registry()
        other.objects = {kind: dict(table) for kind, table in self.objects.items()}
        other._services = {key: set(names) for key, names in self._services.items() if names}
        other._incidents = {key: set(names) for key, names in self._incidents.items() if names}
        return other

    def keys(self, kinds: tuple[str, ...]) -> set[tuple[str, str, str]]:
        """(kind, namespace, name) of every object held of these kinds."""
        return {(kind, *key) for kind in kinds for key in self.objects[kind]}

    def forget_missing(self, kinds: tuple[str, ...], listed: set[tuple[str, str, str]]) -> int:
        """Drop the objects of ``kinds`` that the API server no longer lists (deleted while this replica was
        not watching); returns how many."""
        gone = [key for key in self.keys(kinds) if key not in listed]
        for kind, namespace, name in gone:
            self.observe({"kind": kind, "metadata": {"namespace": namespace, "name": name}}, deleted=True)
        return len(gone)

    def _reindex(self, key: Key, before: Known | None, after: Known | None) -> None:
        for known, add in ((before, False), (after, True)):
            model = known.model if known is not None else None
            if isinstance(model, ServiceReliabilityPlan):
                index, entry = self._services, (key[0], model.spec.service.name)
            elif isinstance(model, Incident):
                index, entry = self._incidents, (key[0], model.spec.plan_ref.name)
            else:
                continue
            names = index.setdefault(entry, set())
            if add:
                names.add(key[1])
            else:
                names.discard(key[1])
                if not names:  # nothing deleted stays behind, not even an empty entry
                    del index[entry]

    def observe(self, document: Mapping[str, Any], *, deleted: bool = False) -> Known | None:
        """Take in one watch event's object; returns what is now known of it (None once deleted)."""
        kind = str(document.get("kind", ""))
        metadata = document.get("metadata") or {}
        key = (str(metadata.get("namespace", "")), str(metadata.get("name", "")))
        table = self.objects.get(kind)
        if table is None:
            return None
        previous = table.get(key)
        if deleted:
            table.pop(key, None)
            self._reindex(key, previous, None)
            if previous is not None and previous.model is not None:
                del previous  # prune sees the dropped model's parts unused
                self._model_dropped()
            return None
        read = _read_metadata(metadata)
        parsed = parse_document({**document, "metadata": read})
        model = self._parts.share(parsed.model) if parsed.model is not None else None
        known = Known(
            kind,
            key[0],
            key[1],
            str(metadata.get("uid", "")),
            int(metadata.get("generation", 0) or 0),
            model if model is not None else (previous.model if previous else None),
            parsed.problems,
            compact_json(document.get("status") or {}),
            read["annotations"],
            str(metadata.get("resourceVersion", "")),
        )
        table[key] = known
        self._reindex(key, previous, known)
        if previous is not None and previous.model is not None and previous.model is not known.model:
            del previous  # prune sees the replaced model's parts unused
            self._model_dropped()
        return known

    def _model_dropped(self) -> None:
        self._dropped_models += 1
        if self._dropped_models >= max(PRUNE_AFTER, sum(map(len, self.objects.values())) // 4):
            self._dropped_models = 0
            self._parts.prune()

    def get(self, kind: str, namespace: str, name: str) -> Known | None:
        return self.objects[kind].get((namespace, name))

    def plans(self) -> Iterator[tuple[Known, ServiceReliabilityPlan]]:
        for known in list(self.objects["ServiceReliabilityPlan"].values()):
            if isinstance(known.model, ServiceReliabilityPlan):
                yield known, known.model

    def gates(self) -> Iterator[Known]:
        yield from list(self.objects["ReleaseGate"].values())

    def plan(self, namespace: str, name: str) -> ServiceReliabilityPlan | None:
        known = self.get("ServiceReliabilityPlan", namespace, name)
        return known.model if known and isinstance(known.model, ServiceReliabilityPlan) else None

    def incidents_of(self, namespace: str, plan: str) -> list[tuple[Known, Incident]]:
        """The plan's valid incidents, by name."""
        table = self.objects["Incident"]
        found = []
        for name in sorted(self._incidents.get((namespace, plan), ())):
            known = table.get((namespace, name))
            if known is not None and isinstance(known.model, Incident):
                found.append((known, known.model))
        return found

    def reviewed_postmortems(self, namespace: str, plan: str) -> dict[str, str]:
        """SLO -> link of the latest postmortem of the plan's incidents that is Reviewed (or Closed) with a link."""
        found: dict[str, tuple[str, str]] = {}
        for known, incident in self.incidents_of(namespace, plan):
            postmortem = incident.spec.postmortem
            if postmortem.state not in ("Reviewed", "Closed") or not postmortem.url:
                continue
            stored = known.status
            started = str(stored.get("startedAt", ""))
            for slo in stored.get("slos") or []:
                if slo not in found or found[slo][0] < started:
                    found[str(slo)] = (started, postmortem.url)
        return {slo: url for slo, (_, url) in found.items()}

    def policy(self, namespace: str, name: str) -> ErrorBudgetPolicy | None:
        known = self.get("ErrorBudgetPolicy", namespace, name)
        return known.model if known and isinstance(known.model, ErrorBudgetPolicy) else None

    def gate(self, namespace: str, name: str) -> ReleaseGate | None:
        known = self.get("ReleaseGate", namespace, name)
        return known.model if known and isinstance(known.model, ReleaseGate) else None

    def problems(self, kind: str, namespace: str, name: str) -> tuple[Problem, ...]:
        known = self.get(kind, namespace, name)
        return known.problems if known else ()

    def plans_of_service(self, namespace: str, service: str) -> list[str]:
        """Names of the valid plans in ``namespace`` that cover ``service``."""
        return sorted(self._services.get((namespace, service), ()))
