"""``kubectl sre``: budgets, gates and incidents from the terminal (installed as ``kubectl-sre``, which kubectl
finds on PATH as a plugin). Reads what the operator wrote into the objects' status; ``override`` is its only
write, one audited entry in a gate's spec."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import yaml
from kubernetes.client.exceptions import ApiException

from sre_operator.budgets import PrometheusClient, PrometheusSettings, QueryFailed
from sre_operator.durations import is_duration, seconds
from sre_operator.k8s import Cluster, load_client
from sre_operator.k8s.client import GATE, INCIDENT, PLAN, POLICY, Kind
from sre_operator.kubectl import views
from sre_operator.models import ServiceReliabilityPlan, parse_document
from sre_operator.timestamps import rfc3339

EXIT_OPEN = 0
EXIT_FROZEN = 1
EXIT_UNDECIDED = 2
EXIT_ERROR = 3
WAIT_POLL_SECONDS = 2.0
WATCH_SECONDS = 600
WATCH_SETTLE_SECONDS = 1.0
BUDGET_POINTS = 48
MAX_REASON = 512


class PluginError(Exception):
    """One line for the user; exit code 3."""


def _cluster(args: argparse.Namespace) -> Cluster:
    return Cluster(load_client(args.kubeconfig or None, context=args.context or None))


def _namespace(args: argparse.Namespace) -> str:
    return str(args.namespace or "default")


def _items(cluster: Cluster, kind: Kind, args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.all_namespaces:
        return cluster.list_all(kind, "")[0]
    return cluster.list(kind, _namespace(args))


def _get_one(cluster: Cluster, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
    found = cluster.get(kind, namespace, name)
    if found is None:
        raise PluginError(f'{kind.kind} "{name}" not found in namespace "{namespace}"')
    return found


def _print_rows(rows: Sequence[Any], columns: Any, wide: Any, args: argparse.Namespace, out: TextIO) -> None:
    if args.output == "json":
        out.write(json.dumps(views.as_dicts(rows), indent=2) + "\n")
    elif args.output == "yaml":
        out.write(yaml.safe_dump(views.as_dicts(rows), sort_keys=False))
    elif not rows:
        where = "any namespace" if args.all_namespaces else f"{_namespace(args)} namespace"
        out.write(f"No resources found in {where}.\n")
    else:
        shown = (*columns, *wide) if args.output == "wide" else columns
        out.write(views.table(rows, shown, namespaces=args.all_namespaces) + "\n")


Listing = tuple[tuple[Kind, ...], Callable[[dict[str, list[dict[str, Any]]]], Sequence[Any]], Any, Any]


def _listing(what: str) -> Listing:
    """The kinds a listing reads, how it turns them into rows, and its columns."""
    if what in ("slos", "slo"):
        return (
            (PLAN, GATE),
            lambda held: views.slo_rows(held[PLAN.kind], held[GATE.kind]),
            views.SLO_COLUMNS,
            views.SLO_WIDE,
        )
    if what in ("gates", "gate", "rgate"):
        return (GATE,), lambda held: views.gate_rows(held[GATE.kind]), views.GATE_COLUMNS, views.GATE_WIDE
    return (
        (INCIDENT,),
        lambda held: views.incident_rows(held[INCIDENT.kind]),
        views.INCIDENT_COLUMNS,
        views.INCIDENT_WIDE,
    )


def cmd_get(args: argparse.Namespace, out: TextIO) -> int:
    cluster = _cluster(args)
    kinds, rows_of, columns, wide = _listing(args.what)
    if args.watch:
        return _watch(cluster, args, out, (kinds, rows_of, columns, wide))
    _print_rows(rows_of({kind.kind: _items(cluster, kind, args) for kind in kinds}), columns, wide, args, out)
    return 0


def _row_key(row: Any) -> tuple[str, ...]:
    return (row.namespace, row.plan, row.slo) if isinstance(row, views.SloRow) else (row.namespace, row.name)


def _follow(cluster: Cluster, kind: Kind, namespace: str, events: queue.Queue[tuple[Kind, Any]]) -> None:
    """Every change of ``kind``, as the API server sends it, onto ``events`` (a failure too, then it stops)."""
    version = ""
    while True:
        try:
            for event in cluster.watch(kind, "", version, WATCH_SECONDS, namespace=namespace):
                version = str((event.get("object") or {}).get("metadata", {}).get("resourceVersion") or version)
                if event.get("type") != "BOOKMARK":
                    events.put((kind, event))
        except ApiException as error:
            if error.status == 410:  # too old to resume from: start over, every object sent again
                version = ""
                continue
            events.put((kind, error))
            return
        except Exception as error:
            events.put((kind, error))
            return


def _watch(cluster: Cluster, args: argparse.Namespace, out: TextIO, listing: Listing) -> int:
    """Like ``kubectl get -w``: the table once, then each row again as it changes, from watches (no polling)."""
    kinds, rows_of, columns, wide = listing
    namespace = "" if args.all_namespaces else _namespace(args)
    events: queue.Queue[tuple[Kind, Any]] = queue.Queue()
    for kind in kinds:
        threading.Thread(target=_follow, args=(cluster, kind, namespace, events), daemon=True).start()
    held: dict[str, dict[tuple[str, str], dict[str, Any]]] = {kind.kind: {} for kind in kinds}
    printed: dict[tuple[str, ...], Any] = {}
    first = True
    while True:
        # The first lists arrive as a burst of ADDED events (or none at all): one table for all of them.
        batch = [] if first else [events.get()]
        deadline = time.monotonic() + (WATCH_SETTLE_SECONDS if first else 0.0)
        while True:
            try:
                batch.append(events.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        for kind, event in batch:
            if isinstance(event, ApiException):
                raise event
            if isinstance(event, BaseException):
                raise PluginError(f"the watch of {kind.kind} ended: {' '.join(str(event).split())[:300]}")
            obj = event["object"]
            key = (str(obj["metadata"].get("namespace", "")), str(obj["metadata"].get("name", "")))
            if event["type"] == "DELETED":
                held[kind.kind].pop(key, None)
            else:
                held[kind.kind][key] = obj
        rows = rows_of({kind: list(objects.values()) for kind, objects in held.items()})
        changed = [row for row in rows if printed.get(_row_key(row)) != row]
        printed.update((_row_key(row), row) for row in changed)
        if changed or first:
            if args.output in ("json", "yaml") or first:
                _print_rows(changed, columns, wide, args, out)
            else:
                shown = (*columns, *wide) if args.output == "wide" else columns
                out.write(views.table(changed, shown, namespaces=args.all_namespaces).split("\n", 1)[1] + "\n")
            out.flush()
        first = False


def _policy_of(cluster: Cluster, gate: dict[str, Any]) -> dict[str, Any] | None:
    namespace = str(gate["metadata"].get("namespace", ""))
    spec = gate.get("spec") or {}
    name = (spec.get("policyRef") or {}).get("name")
    if not name:  # the plan's: release.policyRef names it
        plan = cluster.get(PLAN, namespace, str((spec.get("planRef") or {}).get("name", "")))
        name = (((plan or {}).get("spec") or {}).get("release") or {}).get("policyRef")
    return cluster.get(POLICY, namespace, name) if isinstance(name, str) and name else None


def cmd_why(args: argparse.Namespace, out: TextIO) -> int:
    cluster = _cluster(args)
    gate = _get_one(cluster, GATE, _namespace(args), args.gate)
    out.write("\n".join(views.why(gate, _policy_of(cluster, gate))) + "\n")
    return EXIT_OPEN


def _exit_code(gate: dict[str, Any]) -> int:
    """0 when the gate admits rollouts (Open, or Frozen in dryRun mode, which only reports), 1 when it holds
    them, 2 while it has no decision (Evaluating, Invalid)."""
    status = gate.get("status") or {}
    state = status.get("state") or "Evaluating"
    if state not in ("Open", "Frozen"):
        return EXIT_UNDECIDED
    return EXIT_OPEN if status.get("allowed", state == "Open") else EXIT_FROZEN


def cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    """Exit 0 when the gate is Open, 1 when Frozen, 2 while it is undecided (Evaluating, Invalid):
    ``--wait`` keeps looking until it is Open or the timeout passes."""
    cluster = _cluster(args)
    deadline = time.monotonic() + seconds(args.timeout)
    while True:
        gate = _get_one(cluster, GATE, _namespace(args), args.gate)
        code = _exit_code(gate)
        status = gate.get("status") or {}
        line = f"{args.gate}: {status.get('state') or 'Evaluating'}: {views.percent(status.get('budgetRemaining'))}"
        line += f" budget left; {' '.join(str(status.get('reason') or '').split())}"
        if code == EXIT_OPEN or not args.wait or time.monotonic() >= deadline:
            out.write(line + "\n")
            if code != EXIT_OPEN and args.wait:
                out.write(f"still not open after {args.timeout}\n")
            return code
        time.sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))


def _author(cluster: Cluster, given: str) -> str:
    if given:
        return given
    try:
        return cluster.who_am_i()
    except ApiException as error:
        raise PluginError(f"cannot tell who you are ({error.status} {error.reason}): give --by NAME") from None


def cmd_override(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not args.reason.strip() or len(args.reason) > MAX_REASON:
        raise PluginError(f"--reason must say why, in 1 to {MAX_REASON} characters")
    if not is_duration(args.duration) or seconds(args.duration) <= 0:
        raise PluginError(f"--for {args.duration!r} is not a duration such as 30m or 2h")
    cluster = _cluster(args)
    namespace = _namespace(args)
    gate = _get_one(cluster, GATE, namespace, args.gate)
    if views.managed_by_argo_cd(gate):
        err.write(
            f"warning: Argo CD manages ReleaseGate {namespace}/{args.gate}: its next sync may remove this override;"
            " add it to the gate in Git as well\n"
        )
    expires = views.expires_after(datetime.datetime.now(datetime.UTC), args.duration)
    author = _author(cluster, args.by)
    operations = views.override_operations(gate, reason=args.reason.strip(), by=author, expires=expires)
    try:
        cluster.json_patch(GATE, namespace, args.gate, operations)
    except ApiException as error:
        if error.status == 422 and "test" in str(error.body or ""):
            raise PluginError("the gate changed while the override was being added: run the command again") from None
        raise
    out.write(f"releasegate/{args.gate} overridden by {author} until {rfc3339(expires)}: {args.reason.strip()}\n")
    return EXIT_OPEN


def _budget_history(url: str, plan: dict[str, Any], slos: Sequence[str], span: float) -> dict[str, list[float]]:
    """Each SLO's remaining budget over ``span`` seconds, BUDGET_POINTS points, from Prometheus."""
    namespace = str(plan["metadata"].get("namespace", ""))
    name = str(plan["metadata"].get("name", ""))
    service = str(((plan.get("spec") or {}).get("service") or {}).get("name", name))

    async def read() -> dict[str, list[float]]:
        client = PrometheusClient(PrometheusSettings(url=url))
        try:
            end = time.time()
            found: dict[str, list[float]] = {}
            for slo in slos:
                selector = views.budget_selector(namespace, service, slo)
                result = await client.query_range(selector, end - span, end, max(60.0, span / BUDGET_POINTS))
                found[slo] = [float(value) for _, value in (result[0]["values"] if result else [])]
            return found
        finally:
            await client.close()

    return asyncio.run(read())


def cmd_budget(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    cluster = _cluster(args)
    plan = _get_one(cluster, PLAN, _namespace(args), args.plan)
    slos: dict[str, Any] = (plan.get("status") or {}).get("slos") or {}
    history: dict[str, list[float]] = {}
    if args.prometheus_url and slos:
        try:
            history = _budget_history(args.prometheus_url, plan, sorted(slos), seconds(args.span))
        except QueryFailed as error:
            err.write(f"warning: no history: {error}\n")
    if not slos:
        out.write(f"{args.plan}: no budgets yet (the operator has not read them from Prometheus)\n")
        return EXIT_OPEN
    width = max(len(slo) for slo in slos)
    for slo, state in sorted(slos.items()):
        left = views.percent(state.get("budgetRemaining"))
        line = f"{slo.ljust(width)}   {left:>8} of {state.get('objective', 0):g}% over {state.get('window', '?')}"
        if history.get(slo):
            line += f"   {views.sparkline(history[slo])}  (last {args.span})"
        if state.get("unknown"):
            line += f"   unknown: {' '.join(str(state['unknown']).split())}"
        out.write(line + "\n")
    return EXIT_OPEN


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    plan_name, _, slo = args.target.partition("/")
    if not slo:
        raise PluginError("give PLAN/SLO, such as checkout/availability")
    cluster = _cluster(args)
    document = _get_one(cluster, PLAN, _namespace(args), plan_name)
    parsed = parse_document(document)
    if not isinstance(parsed.model, ServiceReliabilityPlan):
        problem = parsed.problems[0] if parsed.problems else None
        raise PluginError(f"plan {plan_name} is invalid: {problem}")
    if all(s.name != slo for s in parsed.model.spec.slos):
        known = ", ".join(s.name for s in parsed.model.spec.slos)
        raise PluginError(f'plan {plan_name} has no SLO "{slo}" (it has: {known})')
    out.write("\n".join(views.explain(parsed.model, slo)) + "\n")
    return EXIT_OPEN


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubectl sre", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-n", "--namespace", default="", help="namespace (default: default)")
    common.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    common.add_argument("--context", default="", help="kubeconfig context")
    common.add_argument("--kubeconfig", default="", help="kubeconfig file (default: KUBECONFIG or ~/.kube/config)")
    common.add_argument("-o", "--output", choices=("table", "wide", "json", "yaml"), default="table")
    verbs = parser.add_subparsers(dest="verb", required=True)
    get = verbs.add_parser("get", parents=[common], help="SLOs with budget, burn and gate; gates; incidents")
    get.add_argument("what", nargs="?", default="slos", choices=("slos", "slo", "gates", "gate", "rgate", "incidents",
                                                                   "incident", "inc"))  # fmt: skip
    get.add_argument("-w", "--watch", action="store_true", help="after the table, print each row again as it changes")
    why = verbs.add_parser("why", parents=[common], help="why a gate is in its state, and how to override it")
    why.add_argument("gate")
    status = verbs.add_parser("status", parents=[common], help="exit 0 when a gate is open, 1 when frozen")
    status.add_argument("gate")
    status.add_argument("--wait", action="store_true", help="wait until it opens (or the timeout passes)")
    status.add_argument("--timeout", default="10m", help="how long --wait waits (default 10m)")
    override = verbs.add_parser("override", parents=[common], help="open a gate by hand: audited and expiring")
    override.add_argument("gate")
    override.add_argument("--reason", required=True, help="why (an incident, a fix)")
    override.add_argument("--for", dest="duration", required=True, help="how long, such as 2h")
    override.add_argument("--by", default="", help="who (default: you, as the API server knows you)")
    budget = verbs.add_parser("budget", parents=[common], help="each SLO's budget, with a burn-down sparkline")
    budget.add_argument("plan")
    budget.add_argument("--prometheus-url", default="", help="where to read the history for the sparkline")
    budget.add_argument("--span", default="7d", help="history shown in the sparkline (default 7d)")
    explain = verbs.add_parser("explain", parents=[common], help="the PromQL behind each number of PLAN/SLO")
    explain.add_argument("target", metavar="PLAN/SLO")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = build_parser().parse_args(argv)
    commands: dict[str, Callable[[], int]] = {
        "get": lambda: cmd_get(args, out),
        "why": lambda: cmd_why(args, out),
        "status": lambda: cmd_status(args, out),
        "override": lambda: cmd_override(args, out, err),
        "budget": lambda: cmd_budget(args, out, err),
        "explain": lambda: cmd_explain(args, out),
    }
    try:
        return commands[args.verb]()
    except PluginError as error:
        err.write(f"error: {error}\n")
    except ApiException as error:
        err.write(f"error: the API server answered {error.status} {error.reason}\n")
    except (OSError, ValueError) as error:  # an unreachable server, a broken kubeconfig
        err.write(f"error: {' '.join(str(error).split())[:300]}\n")
    except KeyboardInterrupt:
        return 130
    return EXIT_ERROR
