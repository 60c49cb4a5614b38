"""What any client can send to either port, answered before any work is done: compressed bodies refused
unread, JSON only as bounded UTF-8, one JSON line for every mistake, slow request heads cut off, and nothing
in the answers that names the server's software."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from sre_operator.gates.book import GateBook
from sre_operator.http import AlertmanagerReceiver, Health, Metrics, http_app, serve, webhook_app
from tests.support.controlplane import free_port

TOKEN = "s3cret"
# Each port's route that reads a JSON body, and the headers it needs to get that far.
BODY_ROUTES = {
    "http": ("/v1/alertmanager", {"Authorization": f"Bearer {TOKEN}"}),
    "webhook": ("/validate/release-gate", {}),
}
Test = Callable[[str, str, aiohttp.ClientSession], Awaitable[None]]


def on_both_ports(test: Test, header_seconds: float = 10.0) -> None:
    """``test(port, base URL, session)`` for the HTTP app, then the webhook app, each served as ``run`` does."""
    receiver = AlertmanagerReceiver(token=lambda: TOKEN, accept=lambda _: True)
    apps = {
        "http": http_app(GateBook(), Metrics(), Health(), receiver=receiver),
        "webhook": webhook_app(GateBook(), Metrics(), lambda _: (), lambda *_: None),
    }

    async def run() -> None:
        for port_name, app in apps.items():
            port = free_port()
            runner = await serve(app, f"127.0.0.1:{port}", header_seconds=header_seconds)
            try:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
                    await test(port_name, f"http://127.0.0.1:{port}", session)
            finally:
                await runner.cleanup()

    asyncio.run(run())


def bomb(mebibytes: int = 100) -> bytes:
    """gzip that unpacks to ``mebibytes`` of zeros (100 MiB from about 100 KiB)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as packer:
        zeros = bytes(1024 * 1024)
        for _ in range(mebibytes):
            packer.write(zeros)
    return buffer.getvalue()


async def one_json_line(response: aiohttp.ClientResponse) -> tuple[int, dict[str, Any]]:
    text = await response.text()
    assert "\n" not in text.strip(), text
    return response.status, json.loads(text)


def test_a_compressed_body_is_refused_unread_on_every_route() -> None:
    body = bomb()

    async def check(port: str, base: str, session: aiohttp.ClientSession) -> None:
        route, auth = BODY_ROUTES[port]
        for path in ("/healthz", route, "/nowhere"):
            started = time.monotonic()
            headers = {"Content-Encoding": "gzip", "Content-Type": "application/json", **auth}
            async with session.post(base + path, data=body, headers=headers) as response:
                status, error = await one_json_line(response)
            assert status == 415 and "Content-Encoding 'gzip' is not accepted" in error["error"], (path, error)
            assert time.monotonic() - started < 0.5

    on_both_ports(check)


def test_json_mistakes_get_a_4xx_in_one_line() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000

    async def check(port: str, base: str, session: aiohttp.ClientSession) -> None:
        route, auth = BODY_ROUTES[port]
        cases: list[tuple[bytes, str, int, str]] = [
            (deep, "application/json", 400, "nested too deep"),
            (b'{"a": 1}', "application/json; charset=klingon", 415, "charset 'klingon' is not accepted"),
            (b"\xff\xfe{}", "application/json", 400, "not UTF-8"),
            (b"{not json", "application/json", 400, "not JSON"),
            (b" " * (9 * 1024 * 1024), "application/json", 413, "this route takes at most"),
        ]
        for body, content_type, status, words in cases:
            headers = {"Content-Type": content_type, **auth}
            async with session.post(base + route, data=body, headers=headers) as response:
                got, error = await one_json_line(response)
            assert (got, words in error["error"]) == (status, True), (port, words, error)

    on_both_ports(check)


def test_a_token_of_any_bytes_is_compared_not_crashed_on() -> None:
    async def check(port: str, base: str, session: aiohttp.ClientSession) -> None:
        if port != "http":
            return
        for token in ("s3crét", "\u2603" * 40, TOKEN + "x"):
            headers = {"Authorization": f"Bearer {token}".encode().decode("latin-1")}
            async with session.post(base + "/v1/alertmanager", data=b"{}", headers=headers) as response:
                status, error = await one_json_line(response)
            assert status == 401 and "bearer token" in error["error"]

    on_both_ports(check)


def test_names_in_paths_are_whole_names() -> None:
    async def check(port: str, base: str, session: aiohttp.ClientSession) -> None:
        if port != "http":
            return
        async with session.get(base + "/v1/gates/shop/checkout%0A") as response:
            status, error = await one_json_line(response)
        assert status == 400 and "is not a Kubernetes object name" in error["error"]

    on_both_ports(check)


def test_the_server_names_no_software_and_cuts_off_a_slow_head() -> None:
    async def check(port: str, base: str, session: aiohttp.ClientSession) -> None:
        async with session.get(base + "/healthz") as response:
            assert response.headers["Server"] == "sre-operator"
        host, _, number = base.removeprefix("http://").partition(":")
        reader, writer = await asyncio.open_connection(host, int(number))
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line that ends the head
        await writer.drain()
        started = time.monotonic()
        closed = await asyncio.wait_for(reader.read(), timeout=10)
        assert closed == b"" and time.monotonic() - started < 3
        writer.close()

    on_both_ports(check, header_seconds=1.0)


def test_a_line_that_is_not_http_is_logged_in_one_line(caplog: Any) -> None:
    async def check(port: str, base: str, session: aiohttp.ClientSession) -> None:
        host, _, number = base.removeprefix("http://").partition(":")

        def garbage() -> None:
            for _ in range(30):
                with socket.create_connection((host, int(number)), timeout=5) as raw:
                    raw.sendall(b"GET /\x00\x01 HTTP/9.9\r\n\r\n")
                    answer = raw.recv(1000)
                    assert answer.startswith(b"HTTP/1.0 400") and b"Server: sre-operator\r\n" in answer

        await asyncio.to_thread(garbage)

    caplog.set_level("DEBUG", logger="sre_operator.http.clients")
    on_both_ports(check)
    lines = [r for r in caplog.records if r.name == "sre_operator.http.clients"]
    assert lines and all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)
    assert len(lines) <= 2 * 10, "at most ten lines a minute per port"
