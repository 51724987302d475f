"""JSON Schemas of the files a run writes, shipped with the package.

``metrics.schema.json`` (JSON Schema 2020-12) is the one source of truth for the layout of
``metrics.json``: ``docs/metrics.md`` is generated from it (:func:`schema_markdown`) and the
tests validate the ``metrics.json`` of real ``cxnlp analyze`` runs against it, so the file,
its documentation and the code that writes it cannot drift apart unnoticed.

Examples
--------
>>> import jsonschema  # doctest: +SKIP
>>> jsonschema.validate(json.load(open("out/metrics.json")), metrics_schema())  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["METRICS_SCHEMA", "metrics_schema", "schema_fields", "schema_markdown"]

#: File name of the ``metrics.json`` schema inside this package.
METRICS_SCHEMA = "metrics.schema.json"


@functools.cache
def _load(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def metrics_schema() -> dict[str, Any]:
    """The JSON Schema of ``metrics.json`` (a fresh dict each call, safe to modify)."""
    return json.loads(_load(METRICS_SCHEMA))


def _is_structure(node: dict[str, Any]) -> bool:
    return bool(node.get("properties"))


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short type text: ``integer``, ``number or null``, an enum, or a link to a definition."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        target = defs[name]
        if _is_structure(target) or "allOf" in target:
            return f"[{name}](#{name})"
        return _type(target, defs)
    if "allOf" in node:
        return _type(node["allOf"][0], defs)
    if "const" in node:
        return f"{node['const']!r}"
    if "enum" in node:
        return " \\| ".join(map(str, node["enum"]))
    t = node.get("type", "")
    text = " or ".join(t) if isinstance(t, list) else str(t)
    for key, word in (("additionalProperties", "of"), ("items", "of")):
        sub = node.get(key)
        if isinstance(sub, dict) and sub:
            inner = _type(sub, defs)
            text += f" {word} {inner}" if key == "items" else f" {{name: {inner}}}"
    return text


def _description(node: dict[str, Any], defs: dict[str, Any]) -> str:
    if node.get("description"):
        return str(node["description"])
    if "$ref" in node:
        return str(defs[node["$ref"].rsplit("/", 1)[-1]].get("description", ""))
    return ""


def schema_fields(
    node: dict[str, Any] | None = None, defs: dict[str, Any] | None = None, prefix: str = ""
) -> list[tuple[str, str, str]]:
    """The fields of one object of the schema as ``(path, type, description)``.

    Nested inline objects are listed with dotted paths (``[]`` marks array items); an object
    defined in ``$defs`` is linked by name instead of repeated, and documented once in its own
    table by :func:`schema_markdown`.
    """
    if node is None:
        node = metrics_schema()
    defs = node.get("$defs", {}) if defs is None else defs
    out: list[tuple[str, str, str]] = []
    required = set(node.get("required", []))
    for key, child in node.get("properties", {}).items():
        path = f"{prefix}{key}"
        typ = _type(child, defs) + ("" if key in required else " (optional)")
        out.append((path, typ, _description(child, defs)))
        if _is_structure(child):
            out += schema_fields(child, defs, f"{path}.")
        items = child.get("items")
        if isinstance(items, dict) and _is_structure(items):
            out += schema_fields(items, defs, f"{path}[].")
    return out


def _table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| Field | Type | Meaning |", "|---|---|---|"]
    for path, typ, desc in rows:
        text = desc.replace("|", "\\|")
        lines.append(f"| `{path}` | {typ} | {text} |")
    return "\n".join(lines) + "\n"


def schema_markdown(schema: dict[str, Any] | None = None) -> str:
    """The field reference of ``docs/metrics.md``: the top level, then each definition.

    Types read ``object {name: X}`` for a mapping with free keys (a score column, a status, a
    segment level) and ``array of X`` for lists; ``(optional)`` marks keys a run may omit
    (the corpus-stage summaries are absent when the stage did not run).
    """
    schema = schema or metrics_schema()
    defs = schema.get("$defs", {})
    parts = ["### metrics.json (top level)\n", _table(schema_fields(schema, defs))]
    for name, node in defs.items():
        if "allOf" in node:
            base = node["allOf"][0]["$ref"].rsplit("/", 1)[-1]
            req = ", ".join(f"`{k}`" for k in node.get("required", []))
            parts.append(f"### {name}\n\n{node.get('description', '')} The fields of "
                         f"[{base}](#{base}), with {req} always present.\n")  # fmt: skip
        elif _is_structure(node):
            parts.append(f"### {name}\n\n{node.get('description', '')}\n")
            parts.append(_table(schema_fields(node, defs)))
    return "\n".join(parts)
