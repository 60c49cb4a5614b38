"""Vector selectors as data: parse, render with escaping, and test label sets against them."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import promql_parser

LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
_OPERATORS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def escape_string(value: str) -> str:
    """A PromQL double-quoted string literal holding exactly ``value``."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )
    return f'"{escaped}"'


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def render(self) -> str:
        return f"{self.name}{self.op}{escape_string(self.value)}"

    def accepts(self, value: str) -> bool:
        """Whether a series whose label ``name`` is ``value`` ("" when absent) passes this matcher."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        matched = re.fullmatch(self.value, value) is not None
        return matched if self.op == "=~" else not matched


@dataclass(frozen=True)
class Selector:
    """A metric name and label matchers, with no offset, ``@`` or range."""

    metric: str
    matchers: tuple[Matcher, ...]

    def render(self) -> str:
        inner = ",".join(m.render() for m in self.matchers)
        return f"{self.metric}{{{inner}}}" if inner else self.metric

    def with_metric(self, metric: str) -> Selector:
        return replace(self, metric=metric)

    def with_matcher(self, matcher: Matcher) -> Selector:
        kept = tuple(m for m in self.matchers if m.name != matcher.name)
        return replace(self, matchers=(*kept, matcher))

    def accepts(self, metric: str, labels: dict[str, str]) -> bool:
        return metric == self.metric and all(m.accepts(labels.get(m.name, "")) for m in self.matchers)


def parse_selector(text: str) -> Selector:
    """Parse a plain vector selector; ``ValueError`` with a short reason otherwise."""
    try:
        parsed = promql_parser.parse(text)
    except ValueError as error:
        raise ValueError(f"is not valid PromQL ({error})") from None
    if not isinstance(parsed, promql_parser.VectorSelector):
        raise ValueError('must be a series selector such as metric{label="value"}, not an expression')
    if parsed.offset is not None or parsed.at is not None:
        raise ValueError("must not use offset or @: the operator adds the time range itself")
    if parsed.matchers.or_matchers:
        raise ValueError("must not use 'or' inside the braces")
    metric = parsed.name or ""
    matchers: list[Matcher] = []
    for m in parsed.matchers.matchers:
        op = _OPERATORS[str(m.op).rsplit(".", 1)[-1]]
        if m.name == "__name__" and op == "=":
            metric = m.value
            continue
        matchers.append(Matcher(m.name, op, m.value))
    if not metric:
        raise ValueError("must name a metric")
    for matcher in matchers:
        if matcher.op in ("=~", "!~"):
            try:
                re.compile(matcher.value)
            except re.error as error:
                raise ValueError(f"has a bad regular expression for {matcher.name} ({error})") from None
    return Selector(metric, tuple(matchers))


def check_expression(text: str) -> None:
    """Raise ``ValueError`` when ``text`` is not a PromQL expression."""
    try:
        promql_parser.parse(text)
    except ValueError as error:
        raise ValueError(f"is not valid PromQL ({error})") from None
