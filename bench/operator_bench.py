"""Apply 10,000 plans to a real API server and measure the operator.

Reports the time until every plan is Ready, the operator's peak memory, and
API requests per plan (from the API server's audit log); then the requests
over two quiet minutes (the goal is none: children are watched, not polled),
how long a deleted child and an edited one take to be repaired, and the peak
memory of a new operator process started while every plan is in place.

Run: .venv/bin/python bench/operator_bench.py [--plans 10000]
Needs the control-plane binaries (bash scripts/control-plane-binaries.sh).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.controlplane import (  # noqa: E402 - after the path is set
    find_binaries,
    install_crds,
    prometheus_operator_crds,
    read_crds,
    start_control_plane,
)
from tests.support.operator import addresses, operator_subprocess  # noqa: E402

USER = "sre-operator-bench"
NAMESPACE = "bench"
QUIET_SECONDS = 120


def rss_mib(pid: int, field: str = "VmHWM") -> float:
    """The process's peak (VmHWM) or current (VmRSS) resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def plans(count: int) -> list[dict[str, object]]:
    """Copies of the complete example, each its own service: every query, workload, runbook link and
    policy names it, and the owning team is one of 50. What real plans share (structure, tiers, defaults,
    escalation) stays equal; what they do not share differs, so the registry's sharing of equal parts is
    measured on what a cluster of distinct services would hold."""
    template = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    text = json.dumps(template, default=str)
    found = []
    for i in range(count):
        plan = json.loads(text.replace("checkout", f"service-{i}"))
        plan["metadata"] = {"name": f"service-{i}", "namespace": NAMESPACE}
        plan["spec"]["service"]["owner"] = {"team": f"team-{i % 50}", "contact": f"#team-{i % 50}-oncall"}
        found.append(plan)
    return found


def ready_count(plane: object) -> int:
    """Plans Ready at their generation, read a page of 500 at a time: one list of 10,000 plans with their
    statuses outlasts kubectl's timeout while the operator keeps the API server busy."""
    count, token = 0, ""
    while True:
        query = urllib.parse.urlencode({"limit": 500, **({"continue": token} if token else {})})
        path = f"/apis/reliability.dev/v1alpha1/namespaces/{NAMESPACE}/servicereliabilityplans?{query}"
        page = json.loads(plane.kubectl("get", "--raw", path, check=True).stdout)  # type: ignore[attr-defined]
        for item in page["items"]:
            status = item.get("status") or {}
            ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))
            if ready and status.get("observedGeneration") == item["metadata"]["generation"]:
                count += 1
        token = page["metadata"].get("continue", "")
        if not token:
            return count


def repair_seconds(plane: Any, how: str, resource: str, name: str) -> float:
    """Seconds from deleting (or overwriting the spec of) a child until the operator has put it back."""
    original = json.loads(plane.kubectl("-n", NAMESPACE, "get", resource, name, "-o", "json", check=True).stdout)
    started = time.monotonic()
    if how == "delete":
        plane.kubectl("-n", NAMESPACE, "delete", resource, name, check=True)
    else:
        hijack = {"spec": {"groups": [{"name": "hijacked", "rules": []}]}}
        plane.kubectl("-n", NAMESPACE, "patch", resource, name, "--type=merge", "-p", json.dumps(hijack), check=True)
    section = "data" if resource == "configmap" else "spec"
    while time.monotonic() - started < 60:
        answer = plane.kubectl("-n", NAMESPACE, "get", resource, name, "-o", "json", check=False)
        if answer.returncode == 0 and json.loads(answer.stdout).get(section) == original.get(section):
            return time.monotonic() - started
        time.sleep(0.05)
    raise SystemExit(f"{resource} {name} not repaired within 60 s")


def restarted(kubeconfig: Path, log: Path, count: int) -> tuple[float, float]:
    """A new operator process while every plan is in place, as after a crash or an upgrade: kopf lists them
    all (into the registry) and the operator resumes each from its own paged list, the peak a memory limit must
    hold. Returns its peak RSS and the seconds until every plan was resumed."""
    with operator_subprocess(kubeconfig, log, *addresses()[0]) as process:
        started = time.monotonic()
        while "every plan resumed" not in log.read_text(encoding="utf-8", errors="replace"):
            if time.monotonic() - started > 3600:
                sys.exit(f"the restarted operator did not resume all {count} plans within an hour")
            time.sleep(5)
        resumed = time.monotonic() - started
        time.sleep(30)  # its first decision cycles over every plan
        return rss_mib(process.pid), resumed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=10_000)
    args = parser.parse_args()
    binaries = find_binaries()
    if binaries is None:
        sys.exit("no control-plane binaries: run bash scripts/control-plane-binaries.sh")
    folder = Path(tempfile.mkdtemp(prefix="sre-operator-bench-"))
    plane = start_control_plane(folder / "cluster", binaries, garbage_collector=False)
    try:
        crds = [*sorted((ROOT / "crds").glob("*.yaml")), *(prometheus_operator_crds() or [])]
        install_crds(plane, read_crds(crds))
        plane.kubectl("create", "namespace", NAMESPACE, check=True)
        kubeconfig = plane.user_kubeconfig(USER)
        with operator_subprocess(kubeconfig, folder / "operator.log", *addresses()[0]) as process:
            time.sleep(3)
            mark = plane.audit_mark()
            started = time.monotonic()
            batch = 100
            documents = plans(args.plans)
            for i in range(0, len(documents), batch):
                plane.apply(documents[i : i + batch]).check_returncode()
            applied = time.monotonic() - started
            while (ready := ready_count(plane)) < args.plans:
                if time.monotonic() - started > 3600:
                    sys.exit(f"only {ready} of {args.plans} plans Ready after an hour")
                time.sleep(5)
            all_ready = time.monotonic() - started
            after_apply = time.monotonic() - started - applied
            requests = plane.requests_since(mark, USER)
            time.sleep(10)  # the last status writes
            quiet_mark = plane.audit_mark()
            time.sleep(QUIET_SECONDS)
            quiet = plane.requests_since(quiet_mark, USER)
            restored = repair_seconds(plane, "delete", "configmap", f"service-{args.plans // 2}-runbooks")
            repaired = repair_seconds(plane, "edit", "prometheusrule", f"service-{args.plans // 3}-slos")
            peak, steady = rss_mib(process.pid), rss_mib(process.pid, "VmRSS")
        restart_peak, restart_seconds = restarted(kubeconfig, folder / "restarted.log", args.plans)
        verbs = collections.Counter(r["verb"] for r in requests)
        writes = sum(n for v, n in verbs.items() if v not in ("get", "list", "watch"))
        print(f"plans: {args.plans} (checkout example: 2 SLOs, 3 children each)")
        print(
            f"applied with kubectl in {applied:.1f} s; all Ready after {all_ready:.1f} s "
            f"({args.plans / all_ready:.1f} plans/s)"
        )
        print(f"operator peak RSS: {peak:.0f} MiB; after the quiet minutes: {steady:.0f} MiB")
        print(
            f"API requests until all Ready: {len(requests)} ({len(requests) / args.plans:.1f} per plan); "
            f"writes {writes} ({writes / args.plans:.1f} per plan); by verb: {dict(sorted(verbs.items()))}"
        )
        print(f"from the last apply until all Ready: {after_apply:.1f} s")
        print(
            f"quiet {QUIET_SECONDS} s afterwards: {len(quiet)} requests ({len(quiet) * 60 / QUIET_SECONDS:.1f} a minute)"
        )
        print(f"a deleted child restored after {restored:.2f} s, an edited one repaired after {repaired:.2f} s")
        print(
            f"restarted with every plan in place: all resumed after {restart_seconds:.1f} s; "
            f"peak RSS {restart_peak:.0f} MiB"
        )
    finally:
        plane.stop()


if __name__ == "__main__":
    main()
