"""Pydantic validation errors turned into located, readable diagnostics.

One diagnostic per problem, in the words of the pipeline file: "Missing required field
`table` in `input.query`", "`settings.parallelism` must be an integer, got `four`",
"Unknown field `tabel` in `input.query`" with "Did you mean `table`?". The model's JSON
Schema supplies the known field names and allowed values for the hints; union branches
that did not match are folded into one finding instead of one per branch.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from fustgo.config.models import Diagnostic, ValidationLevel
from fustgo.config.positions import Loc, SourceMap, format_loc, is_within

_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "bool_type": "`true` or `false`",
    "bool_parsing": "`true` or `false`",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dataclass_type": "a mapping",
    "date_type": "a date like `2024-01-31`",
    "date_parsing": "a date like `2024-01-31`",
    "date_from_datetime_parsing": "a date like `2024-01-31`",
    "datetime_type": "a date-time like `2024-01-31T08:00:00`",
    "datetime_parsing": "a date-time like `2024-01-31T08:00:00`",
    "datetime_from_date_parsing": "a date-time like `2024-01-31T08:00:00`",
    "time_parsing": "a time like `08:30:00`",
    "url_parsing": "a URL",
    "url_type": "a URL",
    "uuid_parsing": "a UUID",
    "none_required": "empty (`null`)",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "at least"),
    "greater_than": ("gt", "greater than"),
    "less_than_equal": ("le", "at most"),
    "less_than": ("lt", "less than"),
    "multiple_of": ("multiple_of", "a multiple of"),
}
_PREFIXES = re.compile(r"^(?:Value error|Assertion failed), ")
_SQL_DETAIL = re.compile(r"^Invalid SQL expression `.*?`: (.*)$", re.DOTALL)
_SECRET_NAME = re.compile(r"password|secret|token|api_?key|credential", re.IGNORECASE)


@dataclass(frozen=True)
class _Finding:
    """One pydantic error with its location cut down to keys that exist in the document."""

    error: dict[str, Any]
    loc: Loc
    branch: Loc | None
    """Where a union was tried, when the error comes from one of its branches."""
    tag: str | None


def model_diagnostics(
    error: ValidationError,
    *,
    model: type[BaseModel],
    prefix: Loc,
    data: Any,
    source: SourceMap,
    unresolved: Iterable[Loc] = (),
    where: str | None = None,
) -> list[Diagnostic]:
    """Diagnostics for `error`, raised validating `data` (found at `prefix`) with `model`.

    `where` names the root in messages when `prefix` is empty ("the pipeline file").
    Findings inside a value whose `${VAR}` could not be resolved are dropped: the
    variable's own diagnostic already explains them.
    """
    schema = _schema_of(model)
    findings = _fold_typos(
        _fold_unions([_locate(item, data) for item in error.errors(include_url=False)])
    )
    skipped = tuple(unresolved)
    diagnostics: list[Diagnostic] = []
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        full = (*prefix, *finding.loc)
        if any(is_within(full, loc) for loc in skipped):
            continue
        diagnostic = _diagnostic(finding, full=full, schema=schema, source=source, where=where)
        key = (diagnostic.path, diagnostic.message)
        if key not in seen:
            seen.add(key)
            diagnostics.append(diagnostic)
    return diagnostics


def _locate(error: dict[str, Any], data: Any) -> _Finding:
    """Drop the union-branch names pydantic puts in `loc` (`str`, `list[str]`, model names)."""
    node, kept = data, []
    branch: Loc | None = None
    tag: str | None = None
    loc = error["loc"]
    for index, part in enumerate(loc):
        if _has(node, part):
            kept.append(part)
            node = node[part]
        elif error["type"] == "missing" and index == len(loc) - 1:
            kept.append(part)
        elif branch is None:
            branch, tag = tuple(kept), str(part)
    return _Finding(error=error, loc=tuple(kept), branch=branch, tag=tag)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _fold_unions(findings: list[_Finding]) -> list[_Finding]:
    """Keep one explanation per union: a combined type error, or the closest branch."""
    result: list[_Finding] = []
    by_branch: dict[Loc, dict[str, list[_Finding]]] = {}
    for finding in findings:
        if finding.branch is None or finding.tag is None:
            result.append(finding)
        else:
            by_branch.setdefault(finding.branch, {}).setdefault(finding.tag, []).append(finding)
    for branch, tags in by_branch.items():
        groups = list(tags.values())
        if all(len(group) == 1 and group[0].loc == branch for group in groups):
            expected = [_EXPECTED.get(group[0].error["type"]) for group in groups]
            if all(expected):
                first = groups[0][0]
                combined = {
                    **first.error,
                    "type": "union_type",
                    "expected": list(dict.fromkeys(expected)),
                }
                result.append(_Finding(error=combined, loc=branch, branch=None, tag=None))
                continue
        result.extend(min(groups, key=len))
    return result


def _fold_typos(findings: list[_Finding]) -> list[_Finding]:
    """A misspelt required field is one problem (`tabel`), not a missing and an unknown one."""
    missing = [finding.loc for finding in findings if finding.error["type"] == "missing"]
    typos: set[Loc] = set()
    folded: list[_Finding] = []
    for finding in findings:
        required = _misspelt(finding, missing)
        if required is None:
            folded.append(finding)
            continue
        typos.add((*finding.loc[:-1], required))
        error = {**finding.error, "required": required}
        folded.append(_Finding(error=error, loc=finding.loc, branch=finding.branch, tag=None))
    return [
        finding
        for finding in folded
        if finding.error["type"] != "missing" or finding.loc not in typos
    ]


def _misspelt(finding: _Finding, missing: list[Loc]) -> str | None:
    """The missing required field an unknown field is probably a misspelling of."""
    if finding.error["type"] != "extra_forbidden" or not finding.loc:
        return None
    parent = finding.loc[:-1]
    candidates = [str(loc[-1]) for loc in missing if loc[:-1] == parent]
    match = difflib.get_close_matches(str(finding.loc[-1]), candidates, n=1, cutoff=0.6)
    return match[0] if match else None


def _diagnostic(
    finding: _Finding,
    *,
    full: Loc,
    schema: dict[str, Any],
    source: SourceMap,
    where: str | None,
) -> Diagnostic:
    error = finding.error
    kind = error["type"]
    path = format_loc(full)
    level: ValidationLevel = "structure"
    hint: str | None = None
    relative = finding.loc
    secret = _is_secret(schema, relative)
    got = _got(error.get("input"), secret)
    if kind == "missing":
        parent = full[:-1]
        owner = f"`{format_loc(parent)}`" if parent else (where or "the pipeline file")
        message = f"Missing required field `{full[-1]}` in {owner}"
        description = _description(schema, relative)
        hint = f"`{full[-1]}`: {description}" if description else None
        position = source.key_position(parent) if parent else source.value_position(())
    elif kind == "extra_forbidden":
        parent = full[:-1]
        owner = f"`{format_loc(parent)}`" if parent else (where or "the pipeline file")
        message = f"Unknown field `{full[-1]}` in {owner}"
        known = [name for name in _property_names(schema, relative[:-1]) if name != full[-1]]
        if "required" in error:
            hint = f"Did you mean `{error['required']}`? It is required."
        else:
            hint = _did_you_mean(str(full[-1]), known) or _known_fields(known)
        position = source.key_position(full)
    else:
        position = source.value_position(full)
        message, hint = _value_message(
            kind, error, path=path, got=got, schema=schema, relative=relative, secret=secret
        )
        if kind == "sql_syntax":
            level = "semantic"
    return Diagnostic.at(position, level=level, message=message, hint=hint, loc=path)


def _value_message(
    kind: str,
    error: dict[str, Any],
    *,
    path: str,
    got: str,
    schema: dict[str, Any],
    relative: Loc,
    secret: bool,
) -> tuple[str, str | None]:
    context = error.get("ctx") or {}
    if kind == "union_type":
        return f"`{path}` must be {' or '.join(error['expected'])}, got {got}", None
    if kind in ("literal_error", "enum"):
        allowed = _allowed_values(schema, relative)
        if allowed:
            listed = ", ".join(f"`{value}`" for value in allowed)
            value = error.get("input")
            hint = _did_you_mean(str(value), [str(item) for item in allowed])
            return f"`{path}` must be one of {listed}, got {got}", hint
        return f"`{path}` must be {context.get('expected', 'one of the allowed values')}", None
    if kind in _EXPECTED:
        hint = None
        if (
            kind == "string_type"
            and isinstance(error.get("input"), int | float | bool)
            and not secret
        ):
            hint = f'Quote it to make it a string: `"{_scalar_text(error["input"])}"`.'
        elif kind in ("dict_type", "model_type") and error.get("input") is None:
            hint = f"Write the fields of `{path}` under it, indented."
        return f"`{path}` must be {_EXPECTED[kind]}, got {got}", hint
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"`{path}` must be {words} {_scalar_text(context.get(key))}, got {got}", None
    if kind in ("too_short", "string_too_short", "too_long", "string_too_long"):
        unit = "character(s)" if kind.startswith("string") else "item(s)"
        bound = "at least" if kind.endswith("short") else "at most"
        limit = context.get("min_length" if kind.endswith("short") else "max_length")
        return f"`{path}` must have {bound} {limit} {unit}, got {got}", None
    if kind == "string_pattern_mismatch":
        return f"`{path}` must match the pattern `{context.get('pattern')}`, got {got}", None
    reason = _PREFIXES.sub("", str(error.get("msg", ""))).rstrip(".")
    if kind == "sql_syntax":
        detail = _SQL_DETAIL.match(reason)
        return (
            f"`{path}` is not a valid SQL expression: {detail[1] if detail else reason}",
            "Write a SQL expression such as `amount > 0 AND status = 'paid'`.",
        )
    return f"`{path}`: {reason}", None


def _got(value: Any, secret: bool) -> str:
    """How a bad input is quoted in a message (never the value of a secret)."""
    if secret:
        return "a value of the wrong type (not shown: it is a secret)"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = _scalar_text(value)
    return f"`{text[:57]}...`" if len(text) > 60 else f"`{text}`"


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _did_you_mean(value: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    return f"Did you mean `{matches[0]}`?" if matches else None


def _known_fields(names: list[str]) -> str | None:
    if not names:
        return None
    listed = ", ".join(f"`{name}`" for name in names[:15])
    return f"Known fields: {listed}{', …' if len(names) > 15 else ''}."


@lru_cache(maxsize=512)
def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    try:
        return model.model_json_schema()
    except Exception:  # a model with an unexportable type still validates; hints are a bonus
        return {}


def _expand(schema: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """`schema` with `$ref`s resolved and unions/intersections flattened."""
    result: list[dict[str, Any]] = []
    pending = [schema]
    while pending:
        node = pending.pop()
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            target = root.get("$defs", {}).get(reference.removeprefix("#/$defs/"))
            if isinstance(target, dict):
                pending.append(target)
        for combinator in ("anyOf", "oneOf", "allOf"):
            pending.extend(item for item in node.get(combinator, []) if isinstance(item, dict))
        result.append(node)
    return result


def schemas_at(root: dict[str, Any], loc: Loc) -> list[dict[str, Any]]:
    """Every sub-schema that may describe the value at `loc` (relative to `root`)."""
    current = _expand(root, root)
    for part in loc:
        following: list[dict[str, Any]] = []
        for node in current:
            if isinstance(part, int):
                items = node.get("items")
                if isinstance(items, dict):
                    following.extend(_expand(items, root))
                continue
            properties = node.get("properties", {})
            if part in properties:
                following.extend(_expand(properties[part], root))
            elif isinstance(node.get("additionalProperties"), dict):
                following.extend(_expand(node["additionalProperties"], root))
        current = following
    return current


def _property_names(root: dict[str, Any], loc: Loc) -> list[str]:
    names: list[str] = []
    for node in schemas_at(root, loc):
        names.extend(name for name in node.get("properties", {}) if name not in names)
    return names


def _allowed_values(root: dict[str, Any], loc: Loc) -> list[Any]:
    allowed: list[Any] = []
    for node in schemas_at(root, loc):
        values = node.get("enum", [node["const"]] if "const" in node else [])
        allowed.extend(value for value in values if value not in allowed)
    return allowed


def _description(root: dict[str, Any], loc: Loc) -> str | None:
    for node in schemas_at(root, loc):
        description = node.get("description")
        if isinstance(description, str) and description.strip():
            return description.strip().split("\n\n")[0].replace("\n", " ")
    return None


def _is_secret(root: dict[str, Any], loc: Loc) -> bool:
    if loc and isinstance(loc[-1], str) and _SECRET_NAME.search(loc[-1]):
        return True
    return any(
        node.get("writeOnly") or node.get("format") == "password" for node in schemas_at(root, loc)
    )
