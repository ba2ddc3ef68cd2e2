"""Environment variables in pipeline files: `${VAR}`, `${VAR:default}` and `$${` escapes.

Substitution happens inside string values only, after YAML parsing, so a variable can never
change the structure of the document; the result is always a string and the config models
coerce it (`port: "${PG_PORT:5432}"` becomes the integer 5432).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def substitute(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """`text` with every reference replaced, and a message for each one that failed.

    `${VAR:default}` uses the default when `VAR` is unset or empty (as in Benthos);
    `${VAR}` with `VAR` unset is a problem, replaced by an empty string so the caller
    can carry on and report every problem at once.
    """
    if "$" not in text:
        return text, []
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        body = match.group(1)
        if body is None:
            problems.append(
                f"Unclosed variable reference `{text[match.start() :]}`; close it with `}}` "
                "or write `$${` for a literal `${`"
            )
            return token
        name, has_default, default = body.partition(":")
        if not _NAME.fullmatch(name):
            problems.append(
                f"Invalid variable name `{name}` in `{token}`; names use letters, digits and "
                "`_` and do not start with a digit"
            )
            return ""
        value = env.get(name)
        if has_default:
            return value or default
        if value is None:
            problems.append(
                f"Environment variable `{name}` is not set; export it or write "
                f"`${{{name}:default}}`"
            )
            return ""
        return value

    return _TOKEN.sub(replace, text), problems
