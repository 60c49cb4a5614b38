"""A live Prometheus holding 30 days of history, as a user's would after a month of scraping.

Raw request counters are backfilled with ``promtool tsdb create-blocks-from openmetrics``; the generated
recording rules are then evaluated over that history with ``promtool tsdb create-blocks-from rules``, one
pass per level of rules that read other recorded series, against the same Prometheus, which is restarted
to load each level's blocks. Nothing is faked: the budgets the operator reads are what the generated
rules compute from the counters.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sre_operator.generate import names
from tests.support.controlplane import free_port

DAY = 86_400
HISTORY_DAYS = 30
SCRAPE_STEP = 60
LEVELS = (
    {names.SLI_RATE},
    # The hourly rates read the 5-minute ones recorded by the same rule, which a range query cannot see
    # until they are written: a second pass records them (its repeated 5-minute samples are identical).
    {names.SLI_RATE},
    # The remaining budget reads the hourly means; the SLO window's error ratio is read back from it.
    {names.BUDGET_REMAINING},
    {names.ERROR_RATIO},
    {names.OBJECTIVE, names.ERROR_BUDGET, names.BURN_RATE},
)


def history_start(end: int) -> int:
    """Where the backfilled counters start: the history, and an hour before it for the first hourly means."""
    return end - HISTORY_DAYS * DAY - 3600


@dataclass(frozen=True)
class Traffic:
    """A service's steady traffic: requests per second and the share of them that fail."""

    job: str
    requests_per_second: float
    error_ratio: float


def openmetrics(traffic: Sequence[Traffic], start: int, end: int, step: int = SCRAPE_STEP) -> str:
    """Counters ``http_requests_total{job, code}`` for each service, one sample per ``step`` seconds."""
    lines = ["# TYPE http_requests counter"]
    for service in traffic:
        errors_per_second = service.requests_per_second * service.error_ratio
        for code, per_second in (("200", service.requests_per_second - errors_per_second), ("500", errors_per_second)):
            lines.extend(
                f'http_requests_total{{job="{service.job}",code="{code}"}} {per_second * (t - start):.6f} {t}'
                for t in range(start, end + 1, step)
            )
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def availability_plan(service: str, namespace: str, objective: float, policy: str) -> dict[str, Any]:
    """A plan of one availability SLO over the ``http_requests_total`` counters of ``openmetrics`` for the job
    ``service``, released under the ErrorBudgetPolicy ``policy``."""
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": service, "namespace": namespace},
        "spec": {
            "service": {"name": service, "owner": {"team": "payments"}},
            "slos": [
                {
                    "name": "availability",
                    "objective": objective,
                    "window": "30d",
                    "indicator": {
                        "ratio": {
                            "errors": f'http_requests_total{{job="{service}",code="500"}}',
                            "total": f'http_requests_total{{job="{service}"}}',
                        }
                    },
                }
            ],
            "release": {"policyRef": policy},
        },
    }


def split_levels(groups: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The recording rules of ``groups``, level by level (alerts are left out)."""
    return [
        [{"name": group["name"], "rules": [r for r in group["rules"] if r.get("record") in level]} for group in groups]
        for level in LEVELS
    ]


@dataclass
class LivePrometheus:
    binary: str
    promtool: str
    folder: Path
    port: int = field(default_factory=free_port)
    # Where it listens: a kind network's gateway lets the cluster's pods reach it (e2e).
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    end: int = 0
    # What a running Prometheus adds to the bare configuration: scrape jobs, rule files, Alertmanagers.
    live_config: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def start(self) -> None:
        config = self.folder / "prometheus.yml"
        bare: dict[str, Any] = {"global": {"evaluation_interval": "1m"}, "scrape_configs": []}
        config.write_text(yaml.safe_dump({**bare, **self.live_config}))
        log = (self.folder / "prometheus.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data}",
                # The default 15d would silently drop the older half of the history.
                "--storage.tsdb.retention.time=90d",
                f"--web.listen-address={self.host}:{self.port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {(self.folder / 'prometheus.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("prometheus not ready after 60s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def _promtool(self, *args: str) -> None:
        result = subprocess.run([self.promtool, *args], capture_output=True, text=True, check=False, timeout=600)
        if result.returncode != 0:
            raise RuntimeError(f"promtool {' '.join(args[:3])} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")

    def _load_blocks(self, folder: Path) -> None:
        self.stop()
        for block in folder.iterdir():
            if block.is_dir():
                shutil.move(str(block), self.data / block.name)
        self.start()

    def backfill(self, traffic: Sequence[Traffic], groups: Sequence[dict[str, Any]], end: int) -> None:
        """30 days of counters up to ``end``, then the recorded series: the 5-minute rates over the whole
        history, and the levels that read them over the last minutes (budgets are read at the latest sample).
        ``end`` may lie ahead, so that the history is still fresh for tests that read it minutes later: those
        last minutes then start before now, since queries at now must find them."""
        self.end = end
        start = history_start(end)
        raw = self.folder / "raw.om"
        raw.write_text(openmetrics(traffic, start, end), encoding="utf-8")
        self.data.mkdir(parents=True, exist_ok=True)
        self._promtool("tsdb", "create-blocks-from", "openmetrics", str(raw), str(self.data))
        raw.unlink()
        self.start()
        level_names = ["|".join(sorted(names_of_level)) for names_of_level in LEVELS]
        for index, level in enumerate(split_levels(groups)):
            # A level evaluated twice is written to the same file both times: promtool offsets a group's
            # evaluations by a hash of its name and file, and only the same offsets make the second pass's
            # samples replace the first's instead of doubling the series (which halves live samples' weight).
            rules = self.folder / f"level-{LEVELS.index(LEVELS[index])}.rules.yaml"
            rules.write_text(yaml.safe_dump({"groups": level}, sort_keys=False), encoding="utf-8")
            blocks = self.folder / f"level-{index}"
            blocks.mkdir()
            # At the rules' own 1m interval: Prometheus (and promtool's backfill) offsets a group's evaluations
            # by a hash of its name, and "the evaluation in the first minute of the hour" then holds once an
            # hour only at that interval.
            first = start + 600 if index <= 1 else min(end, int(time.time()) // 60 * 60) - 900
            self._promtool(
                "tsdb", "create-blocks-from", "rules", "--quiet",
                f"--url={self.url}", f"--start={first}", f"--end={end}",
                "--eval-interval=60s", f"--output-dir={blocks}", str(rules),
            )  # fmt: skip
            self._load_blocks(blocks)
            # The second pass of the SLI rates is there for the hourly means: wait for those.
            self._await_level(
                'count(count_over_time({sli=~".+_1h"}[2h]))'
                if index == 1
                else f'count({{__name__=~"{level_names[index]}"}})'
            )

    def _await_level(self, expression: str, timeout: float = 60) -> None:
        """Until what a level recorded answers queries: the next level (and the hourly means, which read the
        5-minute rates of the level before) must not run against blocks Prometheus has not opened yet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.query(expression):
                return
            time.sleep(0.5)
        raise RuntimeError(f"Prometheus has no answer to {expression} after loading its blocks")

    def query(self, expression: str) -> list[dict[str, Any]]:
        import json
        import urllib.parse

        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expression})}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            result: list[dict[str, Any]] = json.loads(answer.read())["data"]["result"]
            return result
