"""PromQL that users hand us: parsed in-process, re-rendered safely, and matched in Python.

User selectors are never pasted into generated rules as text: they are parsed
(``promql-parser``) and rendered again from their parts with every label value
escaped, so no quote, backslash, newline or brace in a value can escape it.
"""

from __future__ import annotations

from sre_operator.promql.selectors import (
    LABEL_NAME_PATTERN,
    Matcher,
    Selector,
    check_expression,
    escape_string,
    parse_selector,
)

__all__ = [
    "LABEL_NAME_PATTERN",
    "Matcher",
    "Selector",
    "check_expression",
    "escape_string",
    "parse_selector",
]
