"""The command line as a user meets it: exit codes, one line per problem, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import DATA, EXAMPLES, ROOT

INVALID = sorted((DATA / "invalid").glob("*.yaml"))


def sre_operator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sre_operator.cli", *args], capture_output=True, text=True, check=False
    )


def expectation(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: ")
    return first.removeprefix("# expect: ")


def test_every_broken_plan_gets_one_line_naming_its_field() -> None:
    result = sre_operator("validate", *map(str, INVALID))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(INVALID), lines
    for path in INVALID:
        (line,) = [line for line in lines if line.startswith(f"{path}: ")]
        assert line.removeprefix(f"{path}: ").startswith(expectation(path)), line


def test_examples_are_valid() -> None:
    result = sre_operator("validate", *map(str, EXAMPLES))
    assert result.returncode == 0, result.stdout
    assert result.stdout == ""


def test_yaml_that_does_not_parse_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("spec:\n  slos: [\n", encoding="utf-8")
    result = sre_operator("validate", str(broken))
    assert result.returncode == 1
    assert result.stdout.startswith(f"{broken}: line ")
    assert "is not valid YAML" in result.stdout
    assert "Traceback" not in result.stderr


def test_missing_file_and_unknown_kind_are_reported(tmp_path: Path) -> None:
    other = tmp_path / "deployment.yaml"
    other.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n", encoding="utf-8")
    result = sre_operator("validate", str(tmp_path / "nope.yaml"), str(other))
    assert result.returncode == 1
    assert "nope.yaml: (file): cannot be read" in result.stdout
    assert "deployment.yaml: kind: 'Deployment' is not one of" in result.stdout


def test_render_without_files_renders_the_embedded_examples() -> None:
    result = sre_operator("render")
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all(result.stdout))
    rules = {o["metadata"]["name"] for o in objects if o["kind"] == "PrometheusRule"}
    assert rules == {"checkout-slos", "search-slos", "nightly-export-slos"}
    config_maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    assert "checkout-runbooks" in config_maps and "checkout-operations" in config_maps


def test_render_for_a_cluster_without_the_prometheus_operator() -> None:
    result = sre_operator("render", "--no-prometheus-operator", str(EXAMPLES[0]))
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all(result.stdout))
    assert "PrometheusRule" not in {o["kind"] for o in objects}
    (rules,) = [o for o in objects if o["metadata"]["name"].endswith("-prometheus-rules")]
    assert rules["metadata"]["labels"]["reliability.dev/prometheus-rules"] == "true"


def test_render_refuses_invalid_input(tmp_path: Path) -> None:
    result = sre_operator("render", str(INVALID[0]))
    assert result.returncode == 1
    assert result.stdout == ""
    assert expectation(INVALID[0]) in result.stderr


def test_render_writes_one_file_per_object(tmp_path: Path) -> None:
    result = sre_operator("render", "-o", str(tmp_path), *map(str, EXAMPLES))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert [w for w in written if w.startswith("shop_")] == [
        "shop_checkout-operations_configmap.yaml",
        "shop_checkout-routing_alertmanagerconfig.yaml",
        "shop_checkout-runbooks_configmap.yaml",
        "shop_checkout-slos_prometheusrule.yaml",
        "shop_checkout_pagerduty-escalation-policy.json",
    ]
    assert len(written) == 11
    bare = sre_operator("render", "--no-prometheus-operator", str(ROOT / "references" / "examples" / "checkout.yaml"))
    kinds = [d["kind"] for d in yaml.safe_load_all(bare.stdout)]
    assert "AlertmanagerConfig" not in kinds and "Secret" in kinds, "without the operator: a raw configuration"


def test_webhook_config_registers_a_running_operator(tmp_path: Path) -> None:
    import base64

    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    result = sre_operator("webhook-config", "--url", "https://10.1.2.3:9443", "--ca-file", str(ca))
    assert result.returncode == 0, result.stderr
    (configuration,) = yaml.safe_load_all(result.stdout)
    assert configuration["kind"] == "ValidatingWebhookConfiguration"
    (webhook,) = configuration["webhooks"]
    assert webhook["clientConfig"]["url"] == "https://10.1.2.3:9443/validate/release-gate"
    assert base64.b64decode(webhook["clientConfig"]["caBundle"]) == ca.read_bytes()
    assert (webhook["failurePolicy"], webhook["timeoutSeconds"]) == ("Ignore", 5)
    strict = sre_operator("webhook-config", "--url", "https://h:1", "--ca-file", str(ca), "--failure-policy", "Fail")
    assert yaml.safe_load(strict.stdout)["webhooks"][0]["failurePolicy"] == "Fail"


def test_webhook_config_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    cases = [
        (["--url", "https://h:1", "--ca-file", str(tmp_path / "missing")], "--ca-file: No such file or directory"),
        (["--url", "https://h:1", "--ca-file", str(not_pem)], "holds no PEM certificate"),
        (["--url", "http://h:1", "--ca-file", str(not_pem)], "--url: the API server calls webhooks over HTTPS only"),
    ]
    for args, message in cases:
        if "http://" in args[1]:
            not_pem.write_text("-----BEGIN CERTIFICATE-----\n")
        result = sre_operator("webhook-config", *args)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr


def test_run_refuses_a_malformed_prometheus_header() -> None:
    result = sre_operator("run", "--prometheus-header", "no-colon-here")
    assert result.returncode == 2
    assert result.stderr.strip() == "--prometheus-header: 'no-colon-here' is not NAME:VALUE"


def test_run_refuses_bad_settings_in_one_line() -> None:
    cases = [
        (
            ["--evaluation-interval", "abc"],
            "--evaluation-interval (env SRE_OPERATOR_EVALUATION_INTERVAL): 'abc' is not",
        ),
        (["--budget-stale-after", "0"], "--budget-stale-after (env SRE_OPERATOR_BUDGET_STALE_AFTER): '0' is not"),
        (["--webhook-address", "nope"], "--webhook-address: 'nope' is not HOST:PORT"),
        (["--http-address", "localhost"], "--http-address: 'localhost' is not HOST:PORT"),
    ]
    for args, message in cases:
        result = sre_operator("run", *args)
        assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
        assert len(result.stderr.splitlines()) == 1
