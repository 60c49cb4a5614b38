"""What a Prometheus knows about a job, for ``sre-operator init``: request counters with a status label and
latency histograms, each with its traffic and its SLI over the last day, so an objective is chosen against
reality."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sre_operator.budgets.prometheus import PrometheusClient, QueryFailed
from sre_operator.promql import escape_string

REQUEST_COUNTER = re.compile(r"(request|requests|rpc|rpcs|handled|calls)(_total|_count)$")
STATUS_LABELS = {
    "code": '=~"5.."',
    "status": '=~"5.."',
    "status_code": '=~"5.."',
    "grpc_code": '=~"Unknown|DeadlineExceeded|Internal|Unavailable|DataLoss"',
}
LATENCY_QUANTILE = 0.99
"""The latency SLI proposed: the smallest bucket boundary that already holds this share of the day's requests."""


@dataclass(frozen=True)
class Candidate:
    """A proposed SLI: errors over total (or a histogram and a threshold), with what the data says of it."""

    kind: str  # ratio or latency
    total: str
    errors: str = ""
    histogram: str = ""
    threshold: float = 0.0
    requests_per_second: float = 0.0
    sli: float | None = None  # over the last day


def _number(result: list[dict[str, object]]) -> float | None:
    try:
        value = float(result[0]["value"][1])  # type: ignore[index]
    except (IndexError, KeyError, TypeError, ValueError):
        return None
    return None if value != value else value  # NaN: no requests


async def jobs(client: PrometheusClient) -> list[str]:
    """The jobs Prometheus scrapes (or, where nothing is scraped, such as backfilled data, that have counters)."""
    result = await client.query("count by (job) (up)") or await client.query(
        'count by (job) ({__name__=~".+_(total|count)", job!=""})'
    )
    return sorted(str(r["metric"].get("job", "")) for r in result if r["metric"].get("job"))


async def _ratio_candidates(client: PrometheusClient, job: str) -> list[Candidate]:
    matcher = f"job={escape_string(job)}"
    names = await client.query(f'count by (__name__) ({{{matcher}, __name__=~".+_(total|count)"}})')
    found = []
    for name in sorted(str(r["metric"].get("__name__", "")) for r in names):
        if not REQUEST_COUNTER.search(name) or name.endswith("_bucket"):
            continue
        for label, errors in STATUS_LABELS.items():
            values = await client.query(f"count by ({label}) ({name}{{{matcher}}})")
            if not any(r["metric"].get(label) for r in values):
                continue
            total, bad = f"{name}{{{matcher}}}", f"{name}{{{matcher},{label}{errors}}}"
            rate = _number(await client.query(f"sum(rate({total}[5m]))")) or 0.0
            ratio = _number(await client.query(f"sum(rate({bad}[1d])) / sum(rate({total}[1d]))"))
            if ratio is None:  # no errors recorded at all: the error series may not exist yet
                ratio = 0.0 if rate > 0 else None
            found.append(Candidate("ratio", total, errors=bad, requests_per_second=rate,
                                   sli=None if ratio is None else 1 - ratio))  # fmt: skip
            break
    return found


async def _latency_candidates(client: PrometheusClient, job: str) -> list[Candidate]:
    matcher = f"job={escape_string(job)}"
    names = await client.query(f'count by (__name__) ({{{matcher}, __name__=~".+_seconds_bucket"}})')
    found = []
    for bucket in sorted(str(r["metric"].get("__name__", "")) for r in names):
        base = bucket.removesuffix("_bucket")
        shares = await client.query(
            f"sum by (le) (rate({bucket}{{{matcher}}}[1d])) / ignoring(le) group_left sum(rate({base}_count{{{matcher}}}[1d]))"
        )
        by_le = sorted(
            (float(r["metric"]["le"]), float(r["value"][1]))
            for r in shares
            if r["metric"].get("le") not in (None, "+Inf")
        )
        chosen = next(((le, share) for le, share in by_le if share >= LATENCY_QUANTILE), None)
        if chosen is None:
            continue
        rate = _number(await client.query(f"sum(rate({base}_count{{{matcher}}}[5m]))")) or 0.0
        found.append(Candidate("latency", f"{base}_count{{{matcher}}}", histogram=f"{base}{{{matcher}}}",
                               threshold=chosen[0], requests_per_second=rate, sli=chosen[1]))  # fmt: skip
    return found


async def candidates(client: PrometheusClient, job: str) -> list[Candidate]:
    """Every SLI Prometheus can back for ``job``: request ratios first, then latencies."""
    try:
        return [*(await _ratio_candidates(client, job)), *(await _latency_candidates(client, job))]
    except QueryFailed:
        return []
