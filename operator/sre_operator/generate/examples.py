"""Label values that satisfy (or fail) a selector's matchers, to synthesise series that a selector picks."""

from __future__ import annotations

import importlib
import re
from typing import Any

from sre_operator.promql import Matcher, Selector

# The standard library's own regular-expression parser (private, but stable across 3.11+).
sre_parse: Any = importlib.import_module("re._parser")
_FALLBACKS = ("synthetic", "x", "0", "ok", "error", "500", "")


def _example(parsed: Any) -> str:
    out = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_class_example(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = arg
            out.append(_example(sub) * max(low, 1 if low else 0))
        elif name == "SUBPATTERN":
            out.append(_example(arg[-1]))
        elif name == "BRANCH":
            out.append(_example(arg[1][0]))
        elif name == "AT":
            continue
        else:
            raise ValueError(f"no example for regex part {name}")
    return "".join(out)


def _class_example(items: Any) -> str:
    negate = any(str(op) == "NEGATE" for op, _ in items)
    candidates = "a0 _-xZ9"
    for candidate in candidates:
        inside = any(_class_contains(op, arg, candidate) for op, arg in items if str(op) != "NEGATE")
        if inside != negate:
            return candidate
    raise ValueError("no example for character class")


def _class_contains(op: Any, arg: Any, char: str) -> bool:
    name = str(op)
    if name == "LITERAL":
        return bool(chr(arg) == char)
    if name == "RANGE":
        return bool(arg[0] <= ord(char) <= arg[1])
    if name == "CATEGORY":
        return (
            re.fullmatch(
                {
                    "CATEGORY_DIGIT": r"\d",
                    "CATEGORY_WORD": r"\w",
                    "CATEGORY_SPACE": r"\s",
                    "CATEGORY_NOT_DIGIT": r"\D",
                    "CATEGORY_NOT_WORD": r"\W",
                    "CATEGORY_NOT_SPACE": r"\S",
                }.get(str(arg), "(?!)"),
                char,
            )
            is not None
        )
    return False


def regex_example(pattern: str) -> str | None:
    try:
        candidate = _example(sre_parse.parse(pattern))
    except (ValueError, re.error, IndexError, TypeError):
        return None
    return candidate if re.fullmatch(pattern, candidate) else None


def _value_for(matchers: list[Matcher], avoid: list[Matcher]) -> str | None:
    candidates = [m.value for m in matchers if m.op == "="]
    candidates += [ex for m in matchers if m.op == "=~" and (ex := regex_example(m.value)) is not None]
    candidates += list(_FALLBACKS)
    for candidate in candidates:
        if all(m.accepts(candidate) for m in matchers) and (not avoid or not all(m.accepts(candidate) for m in avoid)):
            return candidate
    for candidate in candidates:
        if all(m.accepts(candidate) for m in matchers):
            return candidate
    return None


def series_labels(
    selector: Selector, extra: dict[str, str] | None = None, avoid: Selector | None = None
) -> dict[str, str] | None:
    """Labels of a series that ``selector`` picks, preferring one that ``avoid`` does not; None if none found."""
    labels = dict(extra or {})
    names = {m.name for m in selector.matchers} | (({m.name for m in avoid.matchers}) if avoid else set())
    for name in sorted(names):
        own = [m for m in selector.matchers if m.name == name]
        other = [m for m in avoid.matchers if m.name == name] if avoid else []
        if not own and name in labels:
            continue
        value = _value_for(own, other)
        if value is None:
            return None
        if value:
            labels[name] = value
    if not selector.accepts(selector.metric, labels):
        return None
    return labels


def render_series(metric: str, labels: dict[str, str]) -> str:
    return Selector(metric, tuple(Matcher(k, "=", v) for k, v in sorted(labels.items()))).render()
