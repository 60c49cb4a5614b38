"""The runbooks' Markdown as an HTML page. Pure.

Rendered by markdown-it-py as CommonMark with raw HTML off: markup a plan field brings is shown as text,
and links whose scheme could run code (``javascript:``, ``vbscript:``, ``file:``, most ``data:``) are not
made links. Alert headings keep their anchors (``#SLOErrorBudgetFastBurn``) for the alerts'
``runbook_url``. The server also sends a Content-Security-Policy that allows no script at all.
"""

from __future__ import annotations

import html
import re
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

ANCHORED = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}"
    "code,pre{font:14px ui-monospace,monospace;background:#f3f4f6;border-radius:4px}"
    "code{padding:0 .25rem}pre{padding:.75rem;overflow-x:auto;white-space:pre-wrap}"
    "h2{border-top:1px solid #d0d7de;padding-top:1rem;margin-top:2rem}h3{margin-bottom:.25rem}"
)


def _alert_anchors(state: StateCore) -> None:
    """A second-level heading that is one alert's name gets that name as its id."""
    tokens = state.tokens
    for index, token in enumerate(tokens[:-1]):
        if token.type == "heading_open" and token.tag == "h2":
            text = tokens[index + 1].content
            if ANCHORED.match(text):
                token.attrSet("id", text)


@cache
def _markdown() -> MarkdownIt:
    renderer = MarkdownIt("commonmark", {"html": False})
    renderer.core.ruler.push("alert_anchors", _alert_anchors)
    return renderer


def markdown_to_html(markdown: str, title: str) -> str:
    body: str = _markdown().render(markdown)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n" + body + "</body></html>\n"
    )
