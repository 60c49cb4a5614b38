"""Apply 1,000 plans to a real API server and measure the operator.

Reports the time until every plan is Ready, the operator's peak memory, and
API requests per plan (from the API server's audit log), then checks that
two quiet drift intervals cause no write at all.

Run: .venv/bin/python bench/operator_bench.py [--plans 1000]
Needs the control-plane binaries (bash scripts/control-plane-binaries.sh).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

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
DRIFT_INTERVAL = 30


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def plans(count: int) -> list[dict[str, object]]:
    template = yaml.safe_load((ROOT / "references" / "examples" / "checkout.yaml").read_text(encoding="utf-8"))
    found = []
    for i in range(count):
        plan = json.loads(json.dumps(template, default=str))
        plan["metadata"] = {"name": f"service-{i}", "namespace": NAMESPACE}
        plan["spec"]["service"]["name"] = f"service-{i}"
        found.append(plan)
    return found


def ready_count(plane: object) -> int:
    output = plane.kubectl("-n", NAMESPACE, "get", "srp", "-o", "json", check=True).stdout  # type: ignore[attr-defined]
    count = 0
    for item in json.loads(output)["items"]:
        status = item.get("status") or {}
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions", []))
        if ready and status.get("observedGeneration") == item["metadata"]["generation"]:
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=1000)
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
        with operator_subprocess(
            kubeconfig,
            folder / "operator.log",
            "--drift-interval",
            str(DRIFT_INTERVAL),
            *addresses()[0],
        ) as process:
            time.sleep(3)
            mark = plane.audit_mark()
            started = time.monotonic()
            batch = 100
            documents = plans(args.plans)
            for i in range(0, len(documents), batch):
                plane.apply(documents[i : i + batch]).check_returncode()
            applied = time.monotonic() - started
            while (ready := ready_count(plane)) < args.plans:
                if time.monotonic() - started > 1800:
                    sys.exit(f"only {ready} of {args.plans} plans Ready after 30 minutes")
                time.sleep(2)
            all_ready = time.monotonic() - started
            requests = plane.requests_since(mark, USER)
            quiet_mark = plane.audit_mark()
            time.sleep(DRIFT_INTERVAL * 2 + 5)
            quiet = plane.requests_since(quiet_mark, USER)
            quiet_writes = [r for r in quiet if r["verb"] not in ("get", "list", "watch")]
            peak = peak_rss_mib(process.pid)
        verbs = collections.Counter(r["verb"] for r in requests)
        writes = sum(n for v, n in verbs.items() if v not in ("get", "list", "watch"))
        print(f"plans: {args.plans} (checkout example: 2 SLOs, 3 children each)")
        print(
            f"applied with kubectl in {applied:.1f} s; all Ready after {all_ready:.1f} s "
            f"({args.plans / all_ready:.1f} plans/s)"
        )
        print(f"operator peak RSS: {peak:.0f} MiB")
        print(
            f"API requests until all Ready: {len(requests)} ({len(requests) / args.plans:.1f} per plan); "
            f"writes {writes} ({writes / args.plans:.1f} per plan); by verb: {dict(sorted(verbs.items()))}"
        )
        print(f"next two drift intervals ({DRIFT_INTERVAL} s each): {len(quiet)} requests, {len(quiet_writes)} writes")
    finally:
        plane.stop()


if __name__ == "__main__":
    main()
