"""Jinja2 rendering of the runbooks and the operations bundle: sandboxed, with user text escaped for Markdown."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from jinja2 import PackageLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def escape_markdown(value: Any) -> str:
    """User text as literal Markdown: no links, emphasis, HTML or headings can be injected; one line."""
    text = " ".join(str(value).split())
    return _SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")


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
