"""The runbooks' Markdown as an HTML page. Pure.

Only the Markdown our templates write is understood (headings, paragraphs,
numbered and bulleted lists, fenced code, inline code, an emphasised line).
Every piece of text is HTML-escaped after the Markdown escapes are undone, so
no plan field can bring markup or script into the page; the server also sends
a Content-Security-Policy that allows no script at all.
"""

from __future__ import annotations

import html
import re

_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]<>()#+!|~])")
_CODE_SPAN = re.compile(r"(?<!\\)`([^`]*)`")
_HEADING = re.compile(r"^(#{1,3}) (.*)$")
_ORDERED = re.compile(r"^\d+\. (.*)$")
ANCHORED = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}"
    "code,pre{font:14px ui-monospace,monospace;background:#f3f4f6;border-radius:4px}"
    "code{padding:0 .25rem}pre{padding:.75rem;overflow-x:auto;white-space:pre-wrap}"
    "h2{border-top:1px solid #d0d7de;padding-top:1rem;margin-top:2rem}h3{margin-bottom:.25rem}"
)


def inline(text: str) -> str:
    """One line of our Markdown as HTML: code spans kept literal, everything else unescaped then escaped."""
    parts, last = [], 0
    for match in _CODE_SPAN.finditer(text):
        parts.append(html.escape(_MARKDOWN_ESCAPE.sub(r"\1", text[last : match.start()])))
        parts.append(f"<code>{html.escape(match.group(1))}</code>")
        last = match.end()
    parts.append(html.escape(_MARKDOWN_ESCAPE.sub(r"\1", text[last:])))
    return "".join(parts)


def markdown_to_html(markdown: str, title: str) -> str:
    body: list[str] = []
    open_list = ""
    in_code = False
    paragraph: list[str] = []

    def close() -> None:
        nonlocal open_list
        if paragraph:
            body.append(f"<p>{' '.join(paragraph)}</p>")
            paragraph.clear()
        if open_list:
            body.append(f"</{open_list}>")
            open_list = ""

    for line in markdown.splitlines():
        if line.startswith("```"):
            if in_code:
                body.append("</pre>")
            else:
                close()
                body.append("<pre>")
            in_code = not in_code
            continue
        if in_code:
            body.append(html.escape(line))
            continue
        heading, ordered = _HEADING.match(line), _ORDERED.match(line)
        if heading:
            close()
            level, text = len(heading.group(1)), heading.group(2)
            anchor = f' id="{text}"' if level == 2 and ANCHORED.match(text) else ""
            body.append(f"<h{level}{anchor}>{inline(text)}</h{level}>")
        elif ordered or line.startswith("- "):
            kind = "ol" if ordered else "ul"
            if open_list != kind:
                close()
                body.append(f"<{kind}>")
                open_list = kind
            body.append(f"<li>{inline(ordered.group(1) if ordered else line[2:])}</li>")
        elif not line.strip():
            close()
        elif line.startswith("_") and line.endswith("_") and len(line) > 2:
            close()
            body.append(f"<p><em>{inline(line[1:-1])}</em></p>")
        else:
            if open_list:
                close()
            paragraph.append(inline(line))
    close()
    if in_code:
        body.append("</pre>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
