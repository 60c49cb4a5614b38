"""A live Alertmanager (Debian's) for tests, started on a configuration file and stopped on exit, and a sink for
the webhooks it calls."""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.controlplane import free_port
from tests.support.operator import wait_for


@contextmanager
def live_alertmanager(binary: str, config: Path, folder: Path, port: int | None = None) -> Iterator[str]:
    """Alertmanager on ``config`` (no clustering), its data and log in ``folder``; yields its URL once ready."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={folder / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=(folder / "alertmanager.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url, process, folder), timeout=30, what="alertmanager ready")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


def _ready(url: str, process: subprocess.Popen[bytes], folder: Path) -> bool:
    assert process.poll() is None, f"alertmanager exited: {(folder / 'alertmanager.log').read_text()[-2000:]}"
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@contextmanager
def webhook_sink() -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """Stands in for Slack, a pager or any webhook: yields its URL and the (path, JSON body) of every POST."""
    received: list[tuple[str, dict[str, Any]]] = []

    class Sink(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((self.path, json.loads(body or b"{}")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
