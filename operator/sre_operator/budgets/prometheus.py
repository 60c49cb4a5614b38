"""The Prometheus HTTP API client: instant queries against Prometheus, Thanos Query or Grafana Mimir."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from sre_operator.budgets.readings import (
    BURN_RATES_QUERY,
    QUERIES,
    REMAINING_QUERY,
    SAMPLED_AT_QUERY,
    Snapshot,
    readings_from,
)


class QueryFailed(Exception):
    """Prometheus could not answer; the message is one line for a gate's reason."""


@dataclass(frozen=True)
class PrometheusSettings:
    url: str
    bearer_token_file: str = ""
    ca_file: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 10.0


def parse_header(text: str) -> tuple[str, str]:
    """``NAME:VALUE`` (as ``--prometheus-header`` takes it) into a pair; ValueError when malformed."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
        raise ValueError(f"{text!r} is not NAME:VALUE")
    return name.strip(), value.strip()


class PrometheusClient:
    """One session, reused; the bearer token is read again for every request (projected tokens rotate)."""

    def __init__(self, settings: PrometheusSettings) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.settings.ca_file:
            return None
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", **self.settings.headers}
        if self.settings.bearer_token_file:
            token = Path(self.settings.bearer_token_file).read_text(encoding="utf-8").strip()
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _session_open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl() or True, limit=4)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.settings.timeout)
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _api(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        """``data`` of one call of the HTTP API; QueryFailed, in one line, whatever went wrong."""
        url = self.settings.url.rstrip("/") + path
        try:
            session = await self._session_open()
            async with session.post(url, data=form, headers=self._headers()) as response:
                raw = await response.read()
                if response.status != 200:
                    text = raw.decode("utf-8", "replace")
                    raise QueryFailed(f"HTTP {response.status} from {url}: {' '.join(text.split())[:200]}")
            # Every SLO's series in one answer (megabytes at 10,000 SLOs): parsed off the event loop that
            # serves admission.
            body = await asyncio.to_thread(json.loads, raw)
        except QueryFailed:
            raise
        except TimeoutError:
            raise QueryFailed(f"no answer from {self.settings.url} within {self.settings.timeout:g}s") from None
        except aiohttp.ClientConnectorError as error:
            code = error.os_error.errno
            why = (os.strerror(code) if code else str(error.os_error)).lower()
            raise QueryFailed(f"cannot connect to {self.settings.url} ({why})") from None
        except (aiohttp.ClientError, OSError, ValueError) as error:
            raise QueryFailed(f"{self.settings.url}: {type(error).__name__}: {error}".splitlines()[0]) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            raise QueryFailed(f"{url} answered {str(body)[:200]}")
        data: dict[str, Any] = body.get("data") or {}
        return data

    async def query(self, expression: str) -> list[dict[str, Any]]:
        """An instant query's ``data.result`` (a vector)."""
        data = await self._api("/api/v1/query", {"query": expression})
        if data.get("resultType") != "vector":
            raise QueryFailed(f"{self.settings.url} answered a {data.get('resultType')}, not a vector")
        result: list[dict[str, Any]] = data.get("result") or []
        return result

    async def query_range(self, expression: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """A range query's ``data.result`` (a matrix: each series with its ``values``)."""
        form = {"query": expression, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        data = await self._api("/api/v1/query_range", form)
        if data.get("resultType") != "matrix":
            raise QueryFailed(f"{self.settings.url} answered a {data.get('resultType')}, not a matrix")
        result: list[dict[str, Any]] = data.get("result") or []
        return result

    async def snapshot(self) -> Snapshot:
        """Every SLO's budget and burn rates, in a constant number of queries, run side by side."""
        read_at = time.time()
        try:
            results: Sequence[list[dict[str, Any]]] = await asyncio.gather(
                *(self.query(q) for q in (REMAINING_QUERY, SAMPLED_AT_QUERY, BURN_RATES_QUERY))
            )
        except QueryFailed as error:
            return Snapshot(read_at, {}, str(error), len(QUERIES))
        remaining, sampled_at, burn_rates = results
        readings = await asyncio.to_thread(readings_from, remaining, sampled_at, burn_rates)
        return Snapshot(read_at, readings, "", len(QUERIES), read_at)
