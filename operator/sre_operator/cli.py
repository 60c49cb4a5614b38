"""``sre-operator``: render, validate and test plans offline; run the operator.

Every problem a user can fix is printed as one line naming the file and the
field; no command prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from sre_operator.budgets import PrometheusClient, PrometheusSettings, QueryFailed
from sre_operator.budgets.periods import period_report
from sre_operator.config import default_text, env_of, flag_of, settings, spec_of
from sre_operator.documents import SourceDocument, load_embedded_examples, load_files, parse_all
from sre_operator.errors import Problem
from sre_operator.generate import RenderOptions
from sre_operator.generate.alert_tests import plan_test_suites
from sre_operator.generate.children import Capabilities, desired_children
from sre_operator.generate.incident import pagerduty_json
from sre_operator.generate.names import DEFAULT_RUNBOOK_BASE_URL
from sre_operator.models import ErrorBudgetPolicy, Parsed, ServiceReliabilityPlan, parse_document
from sre_operator.models.schema import all_crds
from sre_operator.reports import ReportContext, parse_period, plan_incidents
from sre_operator.reports.period import last_complete


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line strings (Markdown, rule files) as literal blocks, so a person can read the output."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_ReadableDumper.add_representer(str, _string)


def dump_yaml(objects: Sequence[Any]) -> str:
    return yaml.dump_all(objects, Dumper=_ReadableDumper, sort_keys=False, width=10_000, allow_unicode=True)


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
    capabilities = Capabilities(
        prometheus_operator=not args.no_prometheus_operator, alertmanager_config=not args.no_prometheus_operator
    )
    plans = _plans(parsed)
    objects = [child for plan in plans for child in desired_children(plan, capabilities, options)]
    _emit(objects, args.output, _object_file_name)
    if args.output:  # the PagerDuty escalation policy as a file of its own, for PagerDuty as code
        for plan in plans:
            policy = pagerduty_json(plan)
            if policy is not None:
                path = (
                    Path(args.output)
                    / f"{plan.metadata.namespace}_{plan.metadata.name}_pagerduty-escalation-policy.json"
                )
                path.write_text(policy, encoding="utf-8")
                print(path)
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

    from sre_operator.runtime.heap import limit_malloc_arenas

    limit_malloc_arenas()  # before any thread starts: see sre_operator.runtime.heap
    from sre_operator.budgets import parse_header

    for item in settings():
        value = getattr(args, item.name)
        if value is None:
            continue
        if item.name == "prometheus_headers":
            for header in value:
                try:
                    parse_header(header)
                except ValueError as problem:
                    print(f"--prometheus-header: {problem}", file=sys.stderr)
                    return 2
        separator = "\n" if spec_of(item).kind == "lines" else ","
        os.environ[env_of(item)] = separator.join(value) if spec_of(item).repeat else str(value)
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig

    from sre_operator.config import OperatorConfig
    from sre_operator.http import split_address

    try:
        config = OperatorConfig.from_environment()
        for flag, address in (("--http-address", config.http_address), ("--webhook-address", config.webhook_address)):
            if address or flag == "--http-address":
                try:
                    split_address(address)
                except ValueError as problem:
                    raise ValueError(f"{flag}: {problem}") from None
    except ValueError as problem:
        print(problem, file=sys.stderr)
        return 2

    import kopf

    import sre_operator.handlers  # noqa: F401 - registers the handlers with kopf
    from sre_operator.handlers.startup import kopf_arguments

    kopf.configure(verbose=args.verbose)
    kopf.run(**kopf_arguments(config))
    return 0


def cmd_webhook_config(args: argparse.Namespace) -> int:
    from sre_operator.generate.webhook import WebhookOptions, validating_webhook_configuration

    try:
        ca_bundle = Path(args.ca_file).read_bytes()
    except OSError as problem:
        print(f"--ca-file: {problem.strerror}: {args.ca_file}", file=sys.stderr)
        return 1
    if b"BEGIN CERTIFICATE" not in ca_bundle:
        print(f"--ca-file: {args.ca_file} holds no PEM certificate", file=sys.stderr)
        return 1
    if not args.url.startswith("https://"):
        print("--url: the API server calls webhooks over HTTPS only (https://HOST:PORT)", file=sys.stderr)
        return 1
    options = WebhookOptions(
        failure_policy=args.failure_policy,
        timeout_seconds=args.timeout,
        operator_namespace=args.operator_namespace,
    )
    sys.stdout.write(dump_yaml([validating_webhook_configuration(ca_bundle, options, url=args.url)]))
    return 0


def _incident_objects(documents: Sequence[SourceDocument]) -> tuple[list[dict[str, Any]], list[SourceDocument]]:
    """Incidents given to ``report`` (one by one or as ``kubectl get incidents -o yaml``'s List), and the rest."""
    incidents: list[dict[str, Any]] = []
    rest: list[SourceDocument] = []
    for document in documents:
        body = document.body if isinstance(document.body, dict) else {}
        items = body.get("items") if body.get("kind") == "List" else [body]
        found = [i for i in items or [] if isinstance(i, dict) and i.get("kind") == "Incident"]
        if found and len(found) == len(items or []):
            incidents += found
        else:
            rest.append(document)
    return incidents, rest


def cmd_report(args: argparse.Namespace) -> int:
    documents, problems = _load(args.files)
    incident_objects, documents = _incident_objects(documents)
    parsed = parse_all(documents)
    problems += [problem for item in parsed for problem in item.problems]
    if problems:
        _report(problems, sys.stderr)
        return 1
    policies = {
        (p.model.metadata.namespace, p.model.metadata.name): p.model
        for p in parsed
        if isinstance(p.model, ErrorBudgetPolicy)
    }
    today = datetime.datetime.now(datetime.UTC).date()
    client = PrometheusClient(
        PrometheusSettings(url=args.prometheus_url, bearer_token_file=args.prometheus_bearer_token_file or "")
    )
    output = Path(args.output) if args.output else None
    try:
        for plan in _plans(parsed):
            cadence = plan.spec.reporting.cadence if plan.spec.reporting else "weekly"
            zone = next((s.calendar.time_zone for s in plan.spec.slos if s.calendar), "UTC")
            try:
                period = parse_period(args.period or last_complete(cadence, today), zone).to_date(
                    datetime.datetime.now(datetime.UTC)
                )
            except ValueError as error:
                print(error, file=sys.stderr)
                return 2
            policy = (
                policies.get((plan.metadata.namespace, plan.spec.release.policy_ref)) if plan.spec.release else None
            )
            incidents = (
                plan_incidents(incident_objects, plan.metadata.namespace, plan.metadata.name)
                if incident_objects
                else None
            )
            review = ReportContext(today, policy.spec.review_by if policy else None, incidents)
            try:
                text = asyncio.run(period_report(client, plan, period, review))
            except QueryFailed as error:
                print(f"prometheus: {error}", file=sys.stderr)
                return 1
            if output is None:
                sys.stdout.write(text)
            else:
                output.mkdir(parents=True, exist_ok=True)
                (output / f"{plan.metadata.namespace}_{plan.metadata.name}_{period.label}.md").write_text(
                    text, encoding="utf-8"
                )
    finally:
        asyncio.run(client.close())
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
        help="rules as a ConfigMap holding a plain rules file and routing as a raw Alertmanager configuration, "
        "as for a cluster without the Prometheus Operator",
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
    for item in settings():
        spec = spec_of(item)
        default = default_text(item)
        shown = f"; default {default}" if default and not spec.repeat else ""
        names = ["-n", flag_of(item)] if item.name == "namespaces" else [flag_of(item)]
        run.add_argument(
            *names,
            dest=item.name,
            metavar="NAME:VALUE"
            if spec.kind == "lines"
            else flag_of(item).removeprefix("--").upper().replace("-", "_"),
            action="append" if spec.repeat else "store",
            help=f"{spec.help}{shown}; env {env_of(item)}",
        )
    run.add_argument("-v", "--verbose", action="store_true", help="log every API request")
    run.set_defaults(run=cmd_run)

    webhook = verbs.add_parser(
        "webhook-config", help="print the ValidatingWebhookConfiguration for a running operator's admission webhook"
    )
    webhook.add_argument("--url", required=True, help="the webhook's base URL, https://HOST:PORT")
    webhook.add_argument("--ca-file", required=True, help="PEM CA bundle that signed the webhook's certificate")
    webhook.add_argument("--failure-policy", choices=["Ignore", "Fail"], default="Ignore", help="default: Ignore")
    webhook.add_argument("--timeout", type=int, choices=range(1, 6), default=5, help="timeoutSeconds, 1 to 5")
    webhook.add_argument(
        "--operator-namespace", default="sre-operator", help="never sent to the webhook (default: sre-operator)"
    )
    webhook.set_defaults(run=cmd_webhook_config)

    report = verbs.add_parser("report", help="a reliability report per plan over a period, read from Prometheus")
    report.add_argument(
        "files",
        nargs="+",
        help="YAML files of plans, their policies (review dates) and Incidents (kubectl get inc -o yaml)",
    )
    report.add_argument("--prometheus-url", required=True, help="Prometheus HTTP API holding the plans' series")
    report.add_argument("--prometheus-bearer-token-file", help="bearer token for Prometheus")
    report.add_argument(
        "--period",
        help="2026-11-25, 2026-W47, 2026-11, 2026-Q4 or a range such as 2026-W46/2026-W47; default: the last complete period of the plan's cadence",
    )
    report.add_argument("-o", "--output", help="write one Markdown file per plan into this folder")
    report.set_defaults(run=cmd_report)

    crds = verbs.add_parser("crds", help="print the CustomResourceDefinitions generated from the models")
    crds.add_argument("-o", "--output", help="write one file per CRD into this folder")
    crds.set_defaults(run=cmd_crds)

    imported = verbs.add_parser(
        "import", help="plans from Sloth, OpenSLO or Pyrra specs; what cannot be carried is listed"
    )
    imported.add_argument("tool", choices=("sloth", "openslo", "pyrra"), help="the format of the files")
    imported.add_argument("files", nargs="+", help="YAML files (several documents each is fine)")
    imported.add_argument(
        "-n", "--namespace", default="", help="namespace of the plans (default: the source's, else default)"
    )
    imported.add_argument("-o", "--output", default="", help="write the plans to this file instead of stdout")
    imported.add_argument("--strict", action="store_true", help="exit 1 when any field cannot be carried")
    imported.set_defaults(run=cmd_import)

    init = verbs.add_parser("init", help="write a plan, a policy and a gate from a few questions")
    init.add_argument("-o", "--output", default="sre-plan.yaml", help="file to write (default sre-plan.yaml)")
    init.add_argument("--prometheus-url", default="", help="look at this Prometheus for the service's SLIs")
    init.add_argument("--job", default="", help="the service's job label in Prometheus")
    init.add_argument("--one-shot", action="store_true", help="ask nothing: every default, each marked to revisit")
    init.set_defaults(run=cmd_init)

    exported = verbs.add_parser("export", help="plans as OpenSLO v1 documents; what OpenSLO cannot say is listed")
    exported.add_argument("format", choices=("openslo",), help="the format to write")
    exported.add_argument("files", nargs="*", help=files_help)
    exported.set_defaults(run=cmd_export)

    reference = verbs.add_parser("reference", help="write the reference pages (kinds, settings, commands, HTTP)")
    reference.add_argument("-o", "--output", default="docs/reference", help="folder (default docs/reference)")
    reference.set_defaults(run=cmd_reference)
    return parser


def cmd_import(args: argparse.Namespace) -> int:
    """Plans from another tool's specs on stdout (or one file each in --output); what they cannot carry on
    stderr, one line each, and as comments heading each plan."""
    from sre_operator.interop import convert

    documents, problems = _load(args.files)
    _report(problems, sys.stderr)
    if problems:
        return 1
    conversion = convert(args.tool, [(f"{d.source}#{d.index}", d.body) for d in documents if isinstance(d.body, dict)])
    for plan in conversion.plans:
        if args.namespace:
            plan["metadata"]["namespace"] = args.namespace
        plan["metadata"].setdefault("namespace", "default")
    invalid = [
        problem for plan in conversion.plans for problem in parse_document(plan, plan["metadata"]["name"]).problems
    ]
    for line in [d.line() for d in conversion.dropped]:
        print(f"not carried: {line}", file=sys.stderr)
    for line in [d.line() for d in conversion.assumed]:
        print(f"assumed: {line}", file=sys.stderr)
    _report(invalid, sys.stderr)
    header = "".join(f"# not carried: {d.line()}\n" for d in conversion.dropped)
    header += "".join(f"# assumed, revisit: {d.line()}\n" for d in conversion.assumed)
    text = header + dump_yaml(conversion.plans)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(args.output, file=sys.stderr)
    else:
        sys.stdout.write(text)
    print(f"{len(conversion.plans)} plan(s); {len(conversion.dropped)} field(s) not carried", file=sys.stderr)
    if invalid or not conversion.plans:
        return 1
    return 1 if args.strict and conversion.dropped else 0


def cmd_export(args: argparse.Namespace) -> int:
    """Plans as OpenSLO v1 documents on stdout; what OpenSLO cannot say on stderr, one line each."""
    from sre_operator.interop import to_openslo

    parsed, problems = _parsed_or_problems(args.files)
    _report(problems, sys.stderr)
    if problems:
        return 1
    documents: list[dict[str, Any]] = []
    for item in parsed:
        if isinstance(item.model, ServiceReliabilityPlan):
            exported, dropped = to_openslo(item.model, item.model.metadata.namespace or "default")
            documents += exported
            for entry in dropped:
                print(f"not carried: {entry.line()}", file=sys.stderr)
    sys.stdout.write(dump_yaml(documents))
    return 0 if documents else 1


def _discover(url: str, job: str) -> list[Any]:
    """The jobs Prometheus scrapes (without ``job``), or the SLIs it can back for ``job``."""
    from sre_operator.budgets.discovery import candidates, jobs

    async def read() -> list[Any]:
        client = PrometheusClient(PrometheusSettings(url))
        try:
            return await candidates(client, job) if job else await jobs(client)
        finally:
            await client.close()

    return asyncio.run(read())


def _ask(prompt: str, default: str, check: Callable[[str], str | None]) -> tuple[str, bool]:
    """One answer, asked again until it passes ``check``; the default on an empty line or at the end of input."""
    while True:
        try:
            text = input(f"{prompt} [{default}]: ").strip()
        except EOFError:
            print()
            return default, True
        if not text:
            return default, True
        problem = check(text)
        if problem is None:
            return text, False
        print(f"  {problem}")


def cmd_init(args: argparse.Namespace) -> int:
    """A plan, a policy and a gate from a short conversation (or every default with --one-shot)."""
    from sre_operator.authoring import Answer, documents, questions

    job, found = args.job, []
    if args.prometheus_url:
        try:
            known: list[str] = _discover(args.prometheus_url, "")
        except (QueryFailed, OSError) as error:
            print(f"error: Prometheus cannot be read: {error}", file=sys.stderr)
            return 1
        if not job and known and not args.one_shot:
            print(f"Prometheus scrapes these jobs: {', '.join(known)}")
            job, _ = _ask(
                "Job of the service", known[0], lambda t: None if t in known else f"one of {', '.join(known)}"
            )
        job = job or (known[0] if known else "")
        found = _discover(args.prometheus_url, job) if job else []
        if job and not found:
            print(f"No request counters with a status label, nor latency histograms, for job {job!r}.")
    answers: dict[str, Answer] = {}
    for question in questions(job, found):
        if args.one_shot or (question.key == "pager_secret" and answers["pager"].value == "none"):
            answers[question.key] = Answer.to(question, question.default, defaulted=True)
            continue
        if question.why:
            print(question.why)
        value, defaulted = _ask(question.prompt, question.default, question.check)
        answers[question.key] = Answer.to(question, value, defaulted)
    text = documents(answers)
    problems = [
        problem for document in yaml.safe_load_all(text) for problem in parse_document(document, args.output).problems
    ]
    Path(args.output).write_text(text, encoding="utf-8")
    assumed = text.count("# ASSUMED")
    print(f"wrote {args.output}: a plan, a policy and a gate; {assumed} assumption(s) marked to revisit")
    _report(problems, sys.stderr)
    return 1 if problems else 0


def reference_pages() -> dict[str, str]:
    """The generated pages of docs/reference, from the parsers, the settings and the served API documents."""
    from sre_operator import reference
    from sre_operator.http.openapi import http_document, webhook_document
    from sre_operator.kubectl.cli import build_parser as kubectl_parser

    return reference.pages(
        [("sre-operator", build_parser()), ("kubectl sre", kubectl_parser())],
        [(flag_of(item), env_of(item), default_text(item), spec_of(item).help) for item in settings()],
        [("on --http-address", http_document()), ("on --webhook-address (HTTPS)", webhook_document())],
    )


def cmd_reference(args: argparse.Namespace) -> int:
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in reference_pages().items():
        (folder / name).write_text(text, encoding="utf-8")
        print(folder / name)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
