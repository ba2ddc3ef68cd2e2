"""What json_decode says about a refused value: Arrow's messages in the words of the data.

Arrow names a value by its column path in the wrapper (`Column(/v/user/id)`) and its JSON
kind (`changed from number to string`); the dead letter should say "key `user.id` is a
string, not a number".
"""

from __future__ import annotations

import re

import pyarrow as pa

from fustgo.plugins.processors.json_codec.lines import TIME_DAY

_COLUMN = re.compile(r"Column\(/v((?:/[^)]*)?)\)")
_CHANGED = re.compile(r"(.+) changed from (\w+) to (\w+)")
_UNPARSED = re.compile(r"Failed to convert JSON to (.+?), couldn't parse:(.*)")
_UNCONVERTED = re.compile(r"Failed to convert JSON to (\w+(?:\([^)]*\))?): (.*)")
_ARROW_DECIMAL = re.compile(r"\bdecimal(?:128|256)\b(?!\()")
_UNPARSED_TEXT = re.compile(r"Failed to parse string: '(.*)' as a scalar of type (\w+).*")


def arrow_reason(message: str) -> str:
    """Arrow's parse error in the words of the decoded value (`key `user.id` is a string…`)."""
    text = re.sub(r" in row \d+$", "", message.removeprefix("JSON parse error: ")).rstrip(".")

    def where(match: re.Match[str]) -> str:
        path = match.group(1).strip("/").replace("/[]", "[]").replace("/", ".")
        return f"key `{path}`" if path else "the value"

    text = _COLUMN.sub(where, text)
    changed = _CHANGED.fullmatch(text)
    if changed:
        subject, expected, found = changed.groups()
        return f"{subject} is {_a(found)} {found}, not {_a(expected)} {expected}"
    unparsed = _UNPARSED.fullmatch(text)
    if unparsed:
        return f"`{unparsed[2]}` is not a valid {_logical_name(unparsed[1])}"
    text_date = _UNPARSED_TEXT.fullmatch(text)
    if text_date:
        value, arrow_name = text_date.groups()
        kind = "time" if value.startswith(TIME_DAY) else arrow_name.rstrip("0123456789")
        return f"`{value.removeprefix(TIME_DAY)}` is not a valid {kind}"
    unconverted = _UNCONVERTED.fullmatch(text)
    if unconverted:
        return f"{unconverted[2]} ({_logical_name(unconverted[1])})"
    return _ARROW_DECIMAL.sub("decimal", text)


def _logical_name(arrow_name: str) -> str:
    """The logical spelling of a type named in Arrow's messages (`decimal128(5, 2)`)."""
    decimal = re.fullmatch(r"decimal(?:128|256)\((\d+), ?(\d+)\)", arrow_name)
    return f"decimal({decimal[1]},{decimal[2]})" if decimal else arrow_name


def _a(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def unknown_keys(value: object, value_type: pa.DataType, path: str = "") -> list[str]:
    """Keys of a decoded value that its type does not have, as dotted paths."""
    if isinstance(value, dict) and pa.types.is_struct(value_type):
        known = {f.name: f.type for f in value_type}
        found: list[str] = []
        for key, item in value.items():
            if key not in known:
                found.append(f"{path}{key}")
            else:
                found.extend(unknown_keys(item, known[key], f"{path}{key}."))
        return found
    if isinstance(value, list) and pa.types.is_list(value_type):
        inner = f"{path[:-1]}[]." if path else "[]."
        return [key for item in value for key in unknown_keys(item, value_type.value_type, inner)]
    return []
