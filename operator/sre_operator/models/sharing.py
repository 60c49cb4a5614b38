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
Key = tuple[Any, ...]
UNUSED_REFERENCES = 2


class SharedParts:
    def __init__(self) -> None:
        # A part's key names its held sub-parts by id: a held part holds its sub-parts, so their ids stay theirs.
        self._parts: dict[Key, BaseModel] = {}

    def __len__(self) -> int:
        return len(self._parts)

    def share(self, model: Model) -> Model:
        """``model`` with every part equal to one already held replaced by that one (``model`` itself may be
        returned as the held equal). Only a freshly parsed model may be given: its parts are rewired."""
        shared, _ = self._share_model(model)
        return shared

    def prune(self) -> int:
        """Drop the parts nothing outside this table refers to; returns how many."""
        dropped = 0
        while True:
            # Held by nothing else, a part is referenced by this table and by getrefcount's argument.
            idle = [key for key in self._parts if sys.getrefcount(self._parts[key]) <= UNUSED_REFERENCES]
            if not idle:
                return dropped
            for key in idle:
                del self._parts[key]
            dropped += len(idle)

    def _share_model(self, model: Model) -> tuple[Model, Key]:
        fields = model.__dict__
        entries = []
        for name, value in fields.items():
            shared, value_key = self._share_value(value)
            if shared is not value:
                fields[name] = shared  # a frozen model's field, rewired before anyone else sees the model
            entries.append((name, value_key))
        key: Key = (type(model), tuple(entries), frozenset(model.model_fields_set))
        held = self._parts.get(key)
        if held is not None:
            return held, (id(held),)  # type: ignore[return-value]
        self._parts[key] = model
        return model, (id(model),)

    def _share_value(self, value: Any) -> tuple[Any, Key]:
        if isinstance(value, BaseModel):
            return self._share_model(value)
        if isinstance(value, str):
            value = sys.intern(value)
            return value, (str, value)
        if isinstance(value, list):
            keys = []
            for index, item in enumerate(value):
                shared, key = self._share_value(item)
                if shared is not item:
                    value[index] = shared
                keys.append(key)
            return value, (list, tuple(keys))
        if isinstance(value, dict):
            keys = []
            for name, item in value.items():
                shared, key = self._share_value(item)
                if shared is not item:
                    value[name] = shared
                keys.append((name, key))
            return value, (dict, tuple(keys))
        try:
            hash(value)
        except TypeError:
            return value, ("unique", id(value))  # unhashable and unknown: never equal to another
        return value, (type(value), value)
