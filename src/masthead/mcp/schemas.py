"""Input schemas for the tools, derived from the platform rules (`registry.RULES`) so that an
agent sees the same enums and bounds that validation applies, and no list is typed twice."""

from __future__ import annotations

from typing import Any, get_args

from masthead.domain.rules import FieldRule, Kind
from masthead.platforms.registry import RULES, SOCIAL, TARGET_TYPES
from masthead.services.slot_requests import Day

Schema = dict[str, Any]


def obj(properties: dict[str, Schema], *required: str) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def integer(description: str, minimum: int, maximum: int | None = None) -> Schema:
    schema: Schema = {"type": "integer", "description": description, "minimum": minimum}
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def numeric_id(description: str) -> Schema:
    return string(description, pattern=r"^[0-9]+$")


def instant(description: str) -> Schema:
    return string(description, format="date-time")


def platform(description: str, *, webhook: bool = False) -> Schema:
    return string(description, enum=list(TARGET_TYPES if webhook else SOCIAL))


DAYS: list[str] = list(get_args(Day))

SLOT_TARGET = obj(
    {
        "platform": platform("The account's platform.", webhook=True),
        "accountId": numeric_id("An account id from blotato_list_accounts."),
        "subaccountId": string("A page or board id from blotato_list_accounts, if any."),
    },
    "platform",
    "accountId",
)


def _field_schema(rule: FieldRule) -> Schema:
    match rule.kind:
        case Kind.BOOLEAN:
            return {"type": "boolean"}
        case Kind.ENUM:
            return {"type": "string", "enum": list(rule.choices)}
        case Kind.NUMERIC_ID:
            return {"type": "string", "pattern": r"^[0-9]+$"}
        case Kind.HTTP_URL | Kind.WEBHOOK_URL:
            return {"type": "string", "format": "uri"}
        case Kind.INTEGER | Kind.MEDIA_INDEX:
            return {"type": "integer", "minimum": rule.minimum}
        case Kind.STRING_LIST:
            schema: Schema = {"type": "array", "items": {"type": "string", "minLength": 1}}
            if rule.max_items is not None:
                schema["maxItems"] = rule.max_items
            return schema
        case Kind.OBJECT:
            return obj({sub.name: _field_schema(sub) for sub in rule.fields})
    return {"type": "string"}


def _merge(first: Schema, second: Schema) -> Schema:
    """One argument used by several platforms: the union of their choices."""
    if "enum" in first and "enum" in second:
        merged = dict(first)
        merged["enum"] = list(dict.fromkeys([*first["enum"], *second["enum"]]))
        return merged
    if "maxItems" in first and "maxItems" not in second:
        return second
    return first


def _rule_note(name: str, rule: FieldRule) -> str:
    note = name + (" (required)" if rule.required else "")
    if rule.choices:
        note += f": {' | '.join(rule.choices)}"
    if rule.max_length is not None:
        note += f", at most {rule.max_length} characters"
    if rule.max_items is not None:
        note += f", at most {rule.max_items} items"
    return note


def target_fields() -> dict[str, Schema]:
    """Every target field of the nine platforms, as flattened tool arguments. Each says which
    platforms it applies to (and their limits); on any other platform it is ignored."""
    schemas: dict[str, Schema] = {}
    notes: dict[str, list[str]] = {}
    for name in SOCIAL:
        for rule in RULES[name].fields:
            schema = _field_schema(rule)
            schemas[rule.name] = (
                _merge(schemas[rule.name], schema) if rule.name in schemas else schema
            )
            notes.setdefault(rule.name, []).append(_rule_note(name, rule))
    return {
        name: {**schema, "description": "Applies to " + "; ".join(notes[name]) + "."}
        for name, schema in schemas.items()
    }


def applies(platform_name: str, field: str) -> bool:
    rules = RULES.get(platform_name)
    return rules is not None and rules.field_rule(field) is not None


def thread_platforms() -> list[str]:
    return [name for name in SOCIAL if RULES[name].threads]


def required_summary() -> str:
    """`platform: field, field` for every platform that requires target fields."""
    parts = []
    for name in SOCIAL:
        required = [rule.name for rule in RULES[name].fields if rule.required]
        if required:
            parts.append(f"{name} needs {', '.join(required)}")
    return "; ".join(parts)
