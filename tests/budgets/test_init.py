"""``sre-operator init`` as a person uses it: in a terminal (a pseudo-terminal here), against a live Prometheus
holding a month of traffic. It finds the job's request counters, shows the SLI they give now, asks again when an
answer is wrong, and writes a plan, a policy and a gate that ``validate`` accepts, with what was left at its
default marked to revisit."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sre_operator.cli import main
from tests.support.prometheus import LivePrometheus

pytestmark = pytest.mark.live
COMMAND = Path(sys.executable).parent / "sre-operator"


class Terminal:
    """A program on a pseudo-terminal: what it printed so far, and lines typed into it."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([str(COMMAND), *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"{text!r} never came; the terminal shows:\n{self.seen[-2000:]}")
            try:
                self.seen += os.read(self.master, 4096).decode(errors="replace")
            except OSError:  # the program ended
                raise AssertionError(f"{text!r} never came; it ended after:\n{self.seen[-2000:]}") from None
        return self.seen

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096).decode(errors="replace")
                except OSError:
                    break
        os.close(self.master)
        return self.process.wait(10)


def test_init_in_a_terminal_proposes_the_sli_prometheus_has(live_prometheus: LivePrometheus, tmp_path: Path) -> None:
    terminal = Terminal("init", "--prometheus-url", live_prometheus.url, "-o", "plan.yaml", cwd=tmp_path)
    screen = terminal.expect("Job of the service")
    assert "healthy" in screen and "spent" in screen  # the jobs Prometheus holds
    terminal.type("nope")
    terminal.expect("one of ")  # a job it does not know: asked again
    terminal.type("spent")
    terminal.expect("Service name [spent]:")
    terminal.type("")  # the default: the job's name
    terminal.expect("Team that owns it [unknown]:")
    terminal.type("payments")
    terminal.expect("Namespace of the plan, policy and gate [default]:")
    terminal.type("shop")
    terminal.expect("(a short name) [main]:")
    terminal.type("Checkout!")  # not a DNS label
    terminal.expect("must be a DNS label")
    terminal.type("checkout")
    screen = terminal.expect('[http_requests_total{job="spent",code=~"5.."}]:')  # the proposal is the default
    # Its request counter with a status label, the traffic on it and the SLI it gives over the last day.
    assert 'errors http_requests_total{job="spent",code=~"5.."} over http_requests_total{job="spent"}' in screen
    assert "10.00 requests/s, SLI over the last day 99.800%" in screen
    terminal.type("")
    terminal.expect('[http_requests_total{job="spent"}]:')
    terminal.type("")
    terminal.expect("Objective in percent (it is 99.800% over the last day) [99.9]:")
    terminal.type("100")
    terminal.expect("must be above 0 and below 100")
    terminal.type("99.5")
    terminal.expect("Rolling window [30d]:")
    terminal.type("2 weeks")
    terminal.expect("must be a duration such as 30d or 4w")
    terminal.type("28d")
    terminal.expect("Freeze releases while the budget is spent? [yes]:")
    terminal.type("")
    terminal.expect("Who decides when the team and the policy disagree (a person or a role) [unknown]:")
    terminal.type("head of payments")
    terminal.expect("Deployment to gate (its name) [spent]:")
    terminal.type("checkout-api")
    terminal.expect("Pages go to (slack, pagerduty or none) [none]:")
    terminal.type("slack")
    terminal.expect("as SECRET/KEY (or none) [none]:")
    terminal.type("pager-hooks/url")
    terminal.expect("acknowledged within 15 minutes (or none) [none]:")
    terminal.type("payments-lead")
    assert terminal.finish() == 0, terminal.seen[-2000:]
    assert "1 assumption(s) marked to revisit" in terminal.seen

    written = (tmp_path / "plan.yaml").read_text(encoding="utf-8")
    assert "# ASSUMED, revisit: releases freeze on a spent budget" in written  # the one default taken
    plan, policy, gate = yaml.safe_load_all(written)
    slo = plan["spec"]["slos"][0]
    assert (slo["objective"], slo["window"], slo["journey"]) == (99.5, "28d", "checkout")
    assert slo["indicator"]["ratio"]["errors"] == 'http_requests_total{job="spent",code=~"5.."}'
    assert plan["spec"]["alerting"]["routing"]["page"] == {
        "slack": {"apiURLSecret": {"name": "pager-hooks", "key": "url"}}
    }
    assert gate["spec"]["targets"] == [{"kind": "Deployment", "name": "checkout-api"}]
    assert policy["metadata"]["namespace"] == "shop" and policy["spec"]["escalation"] == {"owner": "head of payments"}
    assert plan["spec"]["incident"]["escalation"] == [{"after": "15m", "notify": "payments-lead"}]
    assert main(["validate", str(tmp_path / "plan.yaml")]) == 0
