"""The builder page's form ↔ a definition tree.

The page posts the whole tree on every change; inputs are named after the node's path
(``n-0.2.1-field``), so that adding, nesting and removing conditions is a round trip to the
server, with no client-side state. The definition produced is checked like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from cordee.segments.definition import FIELDS

NAME = re.compile(r"^n-([0-9.]{1,120})-([a-z_]{1,20})$")
LEAF_EXTRAS = ("metric", "kind", "partner_kind", "partner", "product", "season_kind", "last", "since_days", "purpose", "season")  # fmt: skip
MAX_NODES = 120


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return text


def _value(field_name: str, op: str, text: str) -> Any:
    spec = FIELDS.get(field_name)
    numeric = spec is not None and spec.type in ("number", "special")
    if op == "empty":
        return text in ("1", "true", "oui")
    if op in ("in", "not_in", "between"):
        parts = [
            p.strip()
            for p in re.split(r"[;,]" if op != "between" else r"[;,]|\s+-\s+|\s+à\s+", text)
            if p.strip()
        ]
        return [_number(p) if numeric or op == "between" else p for p in parts]
    return _number(text) if numeric else text


def definition_from_form(data: QueryDict) -> dict[str, Any]:
    """Rebuild the tree from the posted inputs, then apply the clicked action, if any."""
    nodes: dict[str, dict[str, str]] = {}
    for key, value in data.items():
        match = NAME.match(key)
        if match and len(nodes) <= MAX_NODES:
            nodes.setdefault(match.group(1), {})[match.group(2)] = str(value).strip()[:2000]
    action = data.get("action", "")
    verb, _sep, target = action.partition(":")

    def build(path: str) -> dict[str, Any] | None:
        node = nodes.get(path, {})
        if verb == "remove" and path == target and path != "0":
            return None
        if node.get("type", "leaf") in ("all", "any", "household"):
            children = sorted(
                (p for p in nodes if p.startswith(path + ".") and "." not in p[len(path) + 1 :]),
                key=lambda p: int(p.rsplit(".", 1)[1]),
            )
            built = [c for c in (build(p) for p in children) if c is not None]
            if path == target and verb == "add-leaf":
                built.append({"field": "gender", "op": "eq", "value": "F"})
            if path == target and verb == "add-group":
                built.append({"any": [{"field": "departement", "op": "in", "value": ["75"]}]})
            out: dict[str, Any] = {node["type"]: built}
            if node["type"] == "household":  # another member matches all the children
                out = {"field": "household", "op": "member"}
                if built:
                    out["where"] = {"all": built}
        else:
            out = leaf(node)
        return {"not": out} if node.get("neg") else out

    def leaf(node: dict[str, str]) -> dict[str, Any]:
        name, op = node.get("field", ""), node.get("op", "")
        spec = FIELDS.get(name)
        if spec is not None and op not in spec.ops:
            op = spec.ops[0]  # the field changed: its first operator
        out: dict[str, Any] = {"field": name, "op": op}
        if name == "consent":
            out["purpose"] = node.get("purpose", "")
            return out
        if name == "household":  # drawn as a group next time: the member's conditions
            return {"field": "household", "op": "member"}
        out["value"] = _value(name, op, node.get("value", ""))
        if name == "activities":
            out["metric"] = node.get("metric") or "count"
            for key in ("kind", "partner_kind", "partner", "product"):
                if node.get(key):
                    out[key] = node[key]
            if node.get("season_kind"):
                out["seasons"] = {
                    "kind": node["season_kind"],
                    "last": _number(node.get("last") or "3"),
                }
            if node.get("since_days"):
                out["since_days"] = _number(node["since_days"])
        elif node.get("season") and name in ("loyalty_group", "rfm_r", "rfm_f", "rfm_m"):
            out["season"] = node["season"]
        return out

    if "0" not in nodes:
        nodes["0"] = {"type": "all"}
    return build("0") or {"all": []}


@dataclass
class Node:
    path: str
    kind: str  # all | any | household | leaf
    negated: bool
    depth: int
    data: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    value_text: str = ""


def nodes_from_definition(definition: dict[str, Any], path: str = "0", depth: int = 0) -> Node:
    """The tree to render (a root that is not a group is wrapped in « all »)."""
    negated = False
    if "not" in definition and isinstance(definition["not"], dict):
        negated, definition = True, definition["not"]
    for kind in ("all", "any"):
        if kind in definition and isinstance(definition[kind], list):
            node = Node(path=path, kind=kind, negated=negated, depth=depth)
            node.children = [
                nodes_from_definition(child, f"{path}.{i}", depth + 1)
                for i, child in enumerate(definition[kind][:MAX_NODES])
                if isinstance(child, dict)
            ]
            return node
    if definition.get("field") == "household" and path != "0":
        # A group of what another member of the household matches (none: any member).
        where = definition.get("where")
        node = Node(path=path, kind="household", negated=negated, depth=depth)
        if isinstance(where, dict) and where:
            listed = where.get("all")
            inner: list[Any] = listed if isinstance(listed, list) else [where]
            node.children = [
                nodes_from_definition(child, f"{path}.{i}", depth + 1)
                for i, child in enumerate(inner[:MAX_NODES])
                if isinstance(child, dict)
            ]
        return node
    if path == "0":
        return Node(
            path="0",
            kind="all",
            negated=False,
            depth=0,
            children=[nodes_from_definition(definition, "0.0", 1)] if definition else [],
        )
    value = definition.get("value")
    text = (
        ", ".join(str(v) for v in value)
        if isinstance(value, list)
        else ("" if value is None else str(value))
    )
    data = dict(definition)
    if isinstance(definition.get("seasons"), dict):
        data["season_kind"] = definition["seasons"].get("kind", "")
        data["last"] = definition["seasons"].get("last", "")
    return Node(path=path, kind="leaf", negated=negated, depth=depth, data=data, value_text=text)
