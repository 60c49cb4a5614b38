"""Hypothesis strategies for documents of our kinds, drawn from the CRDs' own OpenAPI schemas.

``conforming`` follows each schema (types, enums, patterns, lengths, ranges) so the operator's own
validation is what decides; ``wild`` puts a value of the wrong type anywhere a value goes; ``mutated`` takes
the example documents and puts arbitrary text into their string fields, which is how user text (quotes,
braces, newlines, template markers) reaches every place a plan renders to.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

Schema = dict[str, Any]
API_VERSION = "reliability.dev/v1alpha1"
MOST_ITEMS = 3
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), st.lists(st.integers(), max_size=2)
)


def spec_schemas(crds: Path) -> dict[str, Schema]:
    """Each kind's ``spec`` schema, from the CRD files in ``crds``."""
    found = {}
    for path in sorted(crds.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        found[crd["spec"]["names"]["kind"]] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"][
            "spec"
        ]
    return found


def _text(schema: Schema) -> st.SearchStrategy[str]:
    least, most = schema.get("minLength", 0), min(schema.get("maxLength", 40), 40)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda s: least <= len(s) <= schema.get("maxLength", 10**6)
        )
    if schema.get("format") == "date-time":
        return st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if schema.get("format") == "date":
        return st.dates().map(lambda day: day.isoformat())
    return st.text(min_size=least, max_size=max(least, most))


def _number(schema: Schema, integer: bool) -> st.SearchStrategy[Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if integer:
        return st.integers(min_value=low, max_value=high)
    return st.floats(
        min_value=low, max_value=high, allow_nan=False, allow_infinity=False,
        exclude_min=bool(schema.get("exclusiveMinimum")) and low is not None,
        exclude_max=bool(schema.get("exclusiveMaximum")) and high is not None,
    )  # fmt: skip


def conforming(schema: Schema, wild: bool = False) -> st.SearchStrategy[Any]:
    """Values that follow ``schema``; with ``wild``, any value may instead be one of the wrong type."""
    proper = _conforming(schema, wild)
    return st.one_of(proper, JUNK) if wild else proper


def _conforming(schema: Schema, wild: bool) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties: dict[str, Schema] = schema.get("properties") or {}
        if properties:
            required = set(schema.get("required") or [])
            drawn = {name: conforming(sub, wild) for name, sub in properties.items()}
            return st.fixed_dictionaries(
                {k: v for k, v in drawn.items() if k in required},
                optional={k: v for k, v in drawn.items() if k not in required},
            )
        values = schema.get("additionalProperties")
        inner = conforming(values, wild) if isinstance(values, dict) else st.text(max_size=20)
        return st.dictionaries(
            st.text(min_size=1, max_size=20), inner, max_size=min(schema.get("maxProperties", MOST_ITEMS), MOST_ITEMS)
        )
    if kind == "array":
        least = schema.get("minItems", 0)
        return st.lists(
            conforming(schema.get("items") or {}, wild),
            min_size=least,
            max_size=max(least, min(schema.get("maxItems", MOST_ITEMS), MOST_ITEMS)),
        )
    if kind == "string":
        return _text(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "boolean":
        return st.booleans()
    return JUNK


def document(kind: str, spec: Any) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": "fuzzed", "namespace": "fuzz"}, "spec": spec}


def _string_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _string_paths(value, (*path, key))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _string_paths(value, (*path, i))]
    return [path] if isinstance(node, str) else []


@st.composite
def mutated(draw: st.DrawFn, examples: list[dict[str, Any]]) -> dict[str, Any]:
    """An example document with arbitrary text in up to three of its ``spec``'s string fields."""
    chosen = copy.deepcopy(draw(st.sampled_from(examples)))
    paths = _string_paths(chosen["spec"])
    for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=3, unique=True)):
        node = chosen["spec"]
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
    return chosen
