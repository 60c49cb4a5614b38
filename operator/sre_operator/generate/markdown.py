"""Jinja2 rendering of the runbooks and the operations bundle: sandboxed, with user text escaped for Markdown."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

# What is special anywhere in a line: escapes, code, emphasis, link brackets, HTML, table cells, strike-through.
# Parentheses and "!" only matter after "]", which is escaped; "#", "+", "-", "=" and "1." only at a line's start.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
# A heading, a list item, a rule or an underline: the marker and then a space, the end, or more of the same.
_BLOCK_START = re.compile(r"^([#+=-])(?=[\s#+=-]|$)")
_ORDERED_START = re.compile(r"^(\d+)([.)])(?=\s|$)")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def escape_markdown(value: Any) -> str:
    """User text as literal Markdown: no links, emphasis, HTML, entities, headings or lists can be injected; one
    line. Only what Markdown would read as markup is escaped, so the text reads the same printed raw."""
    text = _SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
    text = _ENTITY.sub("&amp;", text)
    return _ORDERED_START.sub(r"\1\\\2", _BLOCK_START.sub(r"\\\1", text))


def code_span(value: Any) -> str:
    """Text for inside a Markdown code span: one line, no backtick that could close it."""
    return " ".join(str(value).split()).replace("`", "'")


@cache
def environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=PackageLoader("sre_operator", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = escape_markdown
    env.filters["code"] = code_span
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
