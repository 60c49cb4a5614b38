"""``sre-operator``: render, validate and test plans offline; run the operator.

Every problem a user can fix is printed as one line naming the file and the
field; no command prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from sre_operator.documents import SourceDocument, load_embedded_examples, load_files, parse_all
from sre_operator.errors import Problem
from sre_operator.generate import RenderOptions
from sre_operator.generate.alert_tests import plan_test_suites
from sre_operator.generate.children import Capabilities, desired_children
from sre_operator.generate.names import DEFAULT_RUNBOOK_BASE_URL
from sre_operator.models import Parsed, ServiceReliabilityPlan
from sre_operator.models.schema import all_crds


def dump_yaml(objects: Sequence[Any]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False, width=10_000, allow_unicode=True)


def _load(files: Sequence[str]) -> tuple[list[SourceDocument], list[Problem]]:
    return load_files(files) if files else load_embedded_examples()


def _report(problems: Sequence[Problem], out: TextIO) -> None:
    for problem in problems:
        print(problem, file=out)


def _parsed_or_problems(files: Sequence[str]) -> tuple[list[Parsed], list[Problem]]:
    documents, problems = _load(files)
    parsed = parse_all(documents)
    for item in parsed:
        problems += item.problems
    return parsed, problems


def _plans(parsed: list[Parsed]) -> list[ServiceReliabilityPlan]:
    return [p.model for p in parsed if isinstance(p.model, ServiceReliabilityPlan)]


def cmd_validate(args: argparse.Namespace) -> int:
    parsed, problems = _parsed_or_problems(args.files)
    _report(problems, sys.stdout)
    if problems:
        print(f"{len(problems)} problem(s) in {len(parsed)} document(s)", file=sys.stderr)
        return 1
    print(f"{len(parsed)} document(s) valid", file=sys.stderr)
    return 0


def _emit(objects: Sequence[dict[str, Any]], output: str | None, file_name: Callable[[dict[str, Any]], str]) -> None:
    """YAML on stdout, or one file per object in the ``output`` folder (its path printed)."""
    if output is None:
        sys.stdout.write(dump_yaml(objects))
        return
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    for obj in objects:
        path = folder / file_name(obj)
        path.write_text(dump_yaml([obj]), encoding="utf-8")
        print(path)


def _object_file_name(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}_{meta['name']}_{obj['kind'].lower()}.yaml"


def cmd_render(args: argparse.Namespace) -> int:
    parsed, problems = _parsed_or_problems(args.files)
    if problems:
        _report(problems, sys.stderr)
        return 1
    options = RenderOptions(runbook_base_url=args.runbook_base_url)
    capabilities = Capabilities(prometheus_operator=not args.no_prometheus_operator)
    objects = [child for plan in _plans(parsed) for child in desired_children(plan, capabilities, options)]
    _emit(objects, args.output, _object_file_name)
    return 0


def cmd_test_rules(args: argparse.Namespace) -> int:
    parsed, problems = _parsed_or_problems(args.files)
    if problems:
        _report(problems, sys.stderr)
        return 1
    folder = Path(args.output or tempfile.mkdtemp(prefix="sre-operator-rule-tests-"))
    promtool = args.promtool or shutil.which("promtool")
    options = RenderOptions(runbook_base_url=args.runbook_base_url)
    failed = 0
    for plan in _plans(parsed):
        plan_folder = folder / plan.metadata.namespace / plan.metadata.name
        plan_folder.mkdir(parents=True, exist_ok=True)
        for suite in plan_test_suites(plan, options):
            (plan_folder / f"{suite.slo}.rules.yaml").write_text(dump_yaml([suite.rules]), encoding="utf-8")
            test_files = []
            for speed, tests in (("fast", suite.fast_tests), ("slow", suite.slow_tests)):
                if tests["tests"]:
                    path = plan_folder / f"{suite.slo}.{speed}.test.yaml"
                    path.write_text(dump_yaml([tests]), encoding="utf-8")
                    test_files.append(path)
            print(
                f"{plan.metadata.namespace}/{plan.metadata.name} SLO {suite.slo}"
                + (f" ({suite.synthetic_reason})" if suite.synthetic_reason else "")
            )
            failures = ""
            if promtool and test_files:
                result = subprocess.run(
                    [promtool, "test", "rules", *[p.name for p in test_files]],
                    cwd=plan_folder,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if result.returncode != 0:
                    failed += 1
                    failures = result.stdout + result.stderr
                    print(failures, file=sys.stderr)
            for scenario in suite.scenarios:
                if scenario.not_applicable:
                    verdict = "-   "
                    scenario_text = f"{scenario.name}: not tested, {scenario.not_applicable}"
                else:
                    verdict = "    " if not promtool else ("FAIL" if f"name: {scenario.name}," in failures else "ok  ")
                    scenario_text = scenario.name
                print(f"  {verdict} {scenario_text}")
    if not promtool:
        print(
            f"promtool not found: tests written to {folder}; run 'promtool test rules *.test.yaml' there",
            file=sys.stderr,
        )
        return 0
    print(f"tests in {folder}", file=sys.stderr)
    return 1 if failed else 0


def cmd_crds(args: argparse.Namespace) -> int:
    crds = all_crds()
    names = {id(body): name for name, body in crds.items()}
    _emit(list(crds.values()), args.output, lambda body: names[id(body)])
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the operator; flags become the SRE_OPERATOR_* variables the handlers read at import."""
    import os

    from sre_operator.config import ENV_PREFIX

    settings = {
        "NAMESPACES": ",".join(args.namespace or []),
        "DRIFT_INTERVAL": args.drift_interval,
        "RUNBOOK_BASE_URL": args.runbook_base_url,
        "PEERING": args.peering,
        "LIVENESS": args.liveness,
        "KUBECONFIG": args.kubeconfig,
    }
    for name, value in settings.items():
        if value:
            os.environ[ENV_PREFIX + name] = str(value)
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig

    import kopf

    from sre_operator.handlers.state import CONFIG

    kopf.configure(verbose=args.verbose)
    kopf.run(
        clusterwide=not CONFIG.namespaces,
        namespaces=list(CONFIG.namespaces),
        standalone=not CONFIG.peering,
        peering_name=CONFIG.peering or None,
        liveness_endpoint=CONFIG.liveness or None,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sre-operator", description="SRE policy as Kubernetes resources.")
    verbs = parser.add_subparsers(dest="verb", required=True)
    files_help = "YAML files of plans, policies and gates (default: the embedded examples)"

    validate = verbs.add_parser("validate", help="check documents; one line per problem, exit 1 on any")
    validate.add_argument("files", nargs="*", help=files_help)
    validate.set_defaults(run=cmd_validate)

    render = verbs.add_parser(
        "render", help="print the objects generated from plans (rules, runbooks, bundle), offline"
    )
    render.add_argument("files", nargs="*", help=files_help)
    render.add_argument("-o", "--output", help="write one file per object into this folder")
    render.add_argument(
        "--no-prometheus-operator",
        action="store_true",
        help="rules as a ConfigMap holding a plain rules file, as for a cluster without the Prometheus Operator",
    )
    render.add_argument(
        "--runbook-base-url",
        default=DEFAULT_RUNBOOK_BASE_URL,
        help="runbook server for plans without runbooks.baseURL (default: %(default)s)",
    )
    render.set_defaults(run=cmd_render)

    test_rules = verbs.add_parser("test-rules", help="write promtool tests proving each SLO's alerts and run them")
    test_rules.add_argument("files", nargs="*", help=files_help)
    test_rules.add_argument("-o", "--output", help="folder for rules and tests (default: a new temporary folder)")
    test_rules.add_argument("--promtool", help="promtool binary (default: from PATH)")
    test_rules.add_argument("--runbook-base-url", default=DEFAULT_RUNBOOK_BASE_URL, help=argparse.SUPPRESS)
    test_rules.set_defaults(run=cmd_test_rules)

    run = verbs.add_parser("run", help="run the operator (kopf), watching all namespaces unless some are named")
    run.add_argument(
        "-n",
        "--namespace",
        action="append",
        help="watch this namespace (repeat for more; env SRE_OPERATOR_NAMESPACES, comma-separated)",
    )
    run.add_argument(
        "--drift-interval",
        type=float,
        help="seconds between drift checks of generated objects (env SRE_OPERATOR_DRIFT_INTERVAL, default 60)",
    )
    run.add_argument(
        "--runbook-base-url",
        help="runbook server for plans without runbooks.baseURL (env SRE_OPERATOR_RUNBOOK_BASE_URL)",
    )
    run.add_argument(
        "--peering",
        help="kopf peering name, for several replicas with one active "
        "(env SRE_OPERATOR_PEERING; default: one standalone replica)",
    )
    run.add_argument(
        "--liveness", help="liveness endpoint (env SRE_OPERATOR_LIVENESS, default http://0.0.0.0:8080/healthz)"
    )
    run.add_argument(
        "--kubeconfig",
        help="kubeconfig file (env SRE_OPERATOR_KUBECONFIG; default: in-cluster, then KUBECONFIG or ~/.kube/config)",
    )
    run.add_argument("-v", "--verbose", action="store_true", help="log every API request")
    run.set_defaults(run=cmd_run)

    crds = verbs.add_parser("crds", help="print the CustomResourceDefinitions generated from the models")
    crds.add_argument("-o", "--output", help="write one file per CRD into this folder")
    crds.set_defaults(run=cmd_crds)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
