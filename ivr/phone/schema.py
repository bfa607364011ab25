"""Which verbs, nouns and attributes TwiML allows where: read from twilio-python's VoiceResponse.

twilio-python is generated from Twilio's own TwiML spec, so walking its builder methods gives
every element, the attributes each accepts and what may nest in what, without a hand-kept copy
going stale. Anything outside it is what Twilio reports as warning 12200.
"""
from __future__ import annotations

import functools
import inspect

from twilio.twiml import TwiML, lower_camel
from twilio.twiml.voice_response import VoiceResponse

_NOT_BUILDERS = {"append", "nest", "to_xml", "add_child", "xml"}
XML_NS = "{http://www.w3.org/XML/1998/namespace}"


def _builders(cls):
    for name, func in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_") and name not in _NOT_BUILDERS:
            yield name, func


def _call_with_dummies(instance, func):
    args = [
        "x" for p in list(inspect.signature(func).parameters.values())[1:]
        if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    return func(instance, *args)


def _attributes(builder, child_cls) -> frozenset[str]:
    body = set(inspect.signature(child_cls.__init__).parameters) - {"self", "kwargs"}
    names = set(inspect.signature(builder).parameters) - {"self", "kwargs"} - body
    return frozenset(lower_camel(TwiML.MAP.get(n, n)) for n in names)


@functools.lru_cache(maxsize=1)
def children() -> dict[str, dict[str, frozenset[str]]]:
    """parent tag -> child tag -> allowed attributes. The root parent is "Response"."""
    table: dict[str, dict[str, frozenset[str]]] = {}
    todo = [VoiceResponse()]
    seen: set[type] = set()
    while todo:
        node = todo.pop()
        if type(node) in seen:
            continue
        seen.add(type(node))
        allowed = table.setdefault(node.name, {})
        for _name, builder in _builders(type(node)):
            try:
                child = _call_with_dummies(node, builder)
            except Exception:  # a builder that validates its arguments: skip it, not fatal
                continue
            if isinstance(child, TwiML) and child is not node:
                allowed[child.name] = allowed.get(child.name, frozenset()) | _attributes(builder, type(child))
                todo.append(child)
    return table


def attribute_name(raw: str) -> str:
    """ElementTree spells xml:lang as {namespace}lang."""
    return "xml:" + raw[len(XML_NS):] if raw.startswith(XML_NS) else raw


def problems(element, parent_tag: str = "Response") -> list[str]:
    """12200 findings for ``element`` (a child of ``parent_tag``) and everything inside it."""
    table = children()
    allowed_here = table.get(parent_tag, {})
    tag = element.tag
    if tag not in allowed_here:
        known = any(tag in kids for kids in table.values())
        where = f"inside <{parent_tag}>" if known else "(unknown element; names are case-sensitive)"
        return [f"<{tag}> is not allowed {where}"]
    found = []
    for raw in element.attrib:
        name = attribute_name(raw)
        if name not in allowed_here[tag]:
            found.append(f"<{tag}> has no attribute {name!r}")
    for child in element:
        found.extend(problems(child, tag))
    return found
