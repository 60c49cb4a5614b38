"""Equal parts of parsed objects, held once.

A cluster's plans repeat themselves: the same escalation policy, burn-rate tiers, routing, reporting
cadence and every default left unset are parsed again for each plan, and a parsed model costs many small
Python objects. The models are frozen, so equal parts can be one instance: ``SharedParts.share`` rebuilds
a parsed model's tree bottom-up onto the instances it already holds (and interns its strings). Parts no
held model uses any more are dropped by ``prune``: nothing deleted lives on here.
"""

from __future__ import annotations

import sys
from typing import Any, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)
Signature = tuple[Any, ...]
UNUSED_REFERENCES = 2


class SharedParts:
    def __init__(self) -> None:
        # The hash of a part's signature -> the part (or, on a collision, the parts). Only the hash is stored:
        # a signature (a tuple per part and per list in it) would cost more than sharing saves.
        self._parts: dict[int, BaseModel | list[BaseModel]] = {}
        self._count = 0
        self._fields_sets: dict[frozenset[str], frozenset[str]] = {}

    def __len__(self) -> int:
        return self._count

    def share(self, model: Model) -> Model:
        """``model`` with every part equal to one already held replaced by that one (``model`` itself may be
        returned as the held equal). Only a freshly parsed model may be given: its parts are rewired."""
        return self._share_model(model)

    def prune(self) -> int:
        """Drop the parts nothing outside this table refers to; returns how many."""
        dropped = 0
        while True:
            before = dropped
            for digest in list(self._parts):
                held = self._parts[digest]
                if not isinstance(held, list):
                    del held
                    # Held by nothing else, a part is referenced by this table and getrefcount's argument.
                    if sys.getrefcount(self._parts[digest]) <= UNUSED_REFERENCES:
                        del self._parts[digest]
                        dropped += 1
                    continue
                # Unused, a part in a list is referenced by the list, the loop's name and the argument.
                kept = [part for part in held if sys.getrefcount(part) > UNUSED_REFERENCES + 1]
                dropped += len(held) - len(kept)
                if kept:
                    self._parts[digest] = kept
                else:
                    del self._parts[digest]
            if dropped == before:
                self._count -= dropped
                return dropped

    def _share_model(self, model: Model) -> Model:
        fields = model.__dict__
        for name, value in fields.items():
            shared = self._share_value(value)
            if shared is not value:
                fields[name] = shared  # a frozen model's field, rewired before anyone else sees the model
        signature = self._signature(model)
        digest = self._digest(signature)
        held = self._parts.get(digest)
        candidates = held if isinstance(held, list) else [] if held is None else [held]
        for candidate in candidates:
            if type(candidate) is type(model) and self._signature(candidate) == signature:
                return candidate
        self._parts[digest] = [*candidates, model] if candidates else model
        self._count += 1
        return model

    def _digest(self, signature: Signature) -> int:
        return hash(signature)

    def _share_value(self, value: Any) -> Any:
        if isinstance(value, BaseModel):
            return self._share_model(value)
        if isinstance(value, str):
            return sys.intern(value)
        if isinstance(value, list):
            for index, item in enumerate(value):
                shared = self._share_value(item)
                if shared is not item:
                    value[index] = shared
        elif isinstance(value, dict):
            for name, item in value.items():
                shared = self._share_value(item)
                if shared is not item:
                    value[name] = shared
        return value

    def _signature(self, model: BaseModel) -> Signature:
        """What makes two parts equal: the class, the fields set, and each field's value (held sub-parts by
        identity: they are shared already)."""
        fields_set = frozenset(model.model_fields_set)
        fields_set = self._fields_sets.setdefault(fields_set, fields_set)
        return (type(model), fields_set, *map(_value_signature, model.__dict__.values()))


def _value_signature(value: Any) -> Any:
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, BaseModel):
        return ("part", id(value))
    if isinstance(value, list):
        return ("list", *map(_value_signature, value))
    if isinstance(value, dict):
        return ("dict", *((name, _value_signature(item)) for name, item in value.items()))
    try:
        hash(value)
    except TypeError:
        return ("unique", id(value))  # unhashable and unknown: never equal to another
    return (type(value), value)
