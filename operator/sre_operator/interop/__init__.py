"""Plans from Sloth, OpenSLO and Pyrra specs, and plans as OpenSLO: every field one side cannot carry is reported by
name, never dropped in silence. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from sre_operator.interop import openslo, pyrra, sloth
from sre_operator.interop.common import Conversion, Dropped
from sre_operator.interop.export import to_openslo

Tool = Literal["sloth", "openslo", "pyrra"]
TOOLS: tuple[Tool, ...] = ("sloth", "openslo", "pyrra")
_RECOGNISED = {"sloth": sloth.is_sloth, "openslo": openslo.is_openslo, "pyrra": pyrra.is_pyrra}


def convert(tool: Tool, documents: Sequence[tuple[str, Mapping[str, Any]]]) -> Conversion:
    """Plans from ``documents`` ((where it came from, document) pairs) written for ``tool``; a document of
    another kind is reported, never guessed at."""
    conversion = Conversion()
    mine = []
    for source, document in documents:
        if _RECOGNISED[tool](document):
            mine.append((source, document))
        else:
            what = document.get("kind") or document.get("version") or "a document"
            conversion.dropped.append(Dropped(source, str(what), f"not a {tool} document: skipped"))
    if tool == "openslo":
        openslo.convert(mine, conversion)
    else:
        for source, document in mine:
            (sloth.convert if tool == "sloth" else pyrra.convert)(document, source, conversion)
    return conversion


__all__ = ["TOOLS", "Conversion", "Dropped", "Tool", "convert", "to_openslo"]
