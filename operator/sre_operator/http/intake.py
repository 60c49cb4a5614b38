"""What a client sends, bounded before any work is done on it.

Both ports face the whole cluster, unauthenticated. So: no compressed bodies
(a small gzip body can unpack to gigabytes, on the event loop every other
request shares), a byte limit per route checked while reading, JSON only as
UTF-8 (RFC 8259), and nesting too deep for the parser is a client mistake
rather than a crash. Every refusal is a ``ClientMistake``: a 4xx status and
one line for the JSON error body.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

SERVER_NAME = "sre-operator"
"""The ``Server`` header: no library or Python version for a scanner to match."""
HEADER_SECONDS = 10.0
"""A connection that has not sent a whole request head in this long is closed."""
JSON_CHARSETS = ("", "utf-8", "utf8")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ClientMistake(Exception):
    """A request refused before (or instead of) the work it asked for."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@web.middleware
async def refuse_encoded_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A ``Content-Encoding`` other than identity is refused before a byte of the body is read."""
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ClientMistake(415, f"Content-Encoding {encoding[:40]!r} is not accepted: send the body uncompressed")
    return await handler(request)


async def read_json(request: web.Request, limit: int) -> Any:
    """The body as JSON, at most ``limit`` bytes; ``ClientMistake`` for anything else."""
    charset = (request.charset or "").lower()
    if charset not in JSON_CHARSETS:
        raise ClientMistake(415, f"charset {charset[:40]!r} is not accepted: JSON is UTF-8")
    if request.content_length is not None and request.content_length > limit:
        raise ClientMistake(413, f"the body is {request.content_length} bytes; this route takes at most {limit}")
    body = bytearray()
    while chunk := await request.content.read(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise ClientMistake(413, f"the body is over {limit} bytes; this route takes at most {limit}")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ClientMistake(400, "the body is not UTF-8") from None
    except RecursionError:
        raise ClientMistake(400, "the body is JSON nested too deep") from None
    except ValueError as problem:
        raise ClientMistake(400, f"the body is not JSON ({str(problem)[:120]})") from None


async def name_the_server(_: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_NAME


def name_the_server_everywhere() -> None:
    """The same ``Server`` header on the answers aiohttp writes itself (to requests that are not HTTP), which no
    application hook sees: aiohttp reads its default from this module attribute when it writes one."""
    from aiohttp import web_response

    web_response.SERVER_SOFTWARE = SERVER_NAME  # type: ignore[attr-defined]


class ClientErrorLog:
    """The logger aiohttp's connection handler writes to when a client sends something that is not HTTP:
    one line without a traceback, and at most ``per_minute`` of them, so no client can flood the log."""

    def __init__(self, logger: logging.Logger, per_minute: int = 10) -> None:
        self.logger = logger
        self.per_minute = per_minute
        self.window = 0.0
        self.written = 0
        self.suppressed = 0

    def _line(self, level: int, message: str, *args: Any, exc_info: Any = None, **_: Any) -> None:
        now = time.monotonic()
        if now - self.window >= 60:
            if self.suppressed:
                self.logger.warning("%d more malformed request(s) in the last minute, not logged", self.suppressed)
            self.window, self.written, self.suppressed = now, 0, 0
        if self.written >= self.per_minute:
            self.suppressed += 1
            return
        self.written += 1
        try:
            text = message % args if args else message
        except (TypeError, ValueError):
            text = message
        problem = exc_info if isinstance(exc_info, BaseException) else None
        if problem is not None:
            text += f": {type(problem).__name__}: {str(problem)[:160]}"
        self.logger.log(level, " ".join(text.split())[:300])

    def debug(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._line(logging.DEBUG, message, *args, **kwargs)

    def info(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._line(logging.INFO, message, *args, **kwargs)

    def warning(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._line(logging.WARNING, message, *args, **kwargs)

    def error(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._line(logging.WARNING, message, *args, **kwargs)

    def exception(self, message: str, *args: Any, **kwargs: Any) -> None:
        self._line(logging.WARNING, message, *args, **kwargs)
