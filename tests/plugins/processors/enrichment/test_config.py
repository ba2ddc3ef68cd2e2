"""The enrichment config: the lookup union, cross-field checks, JSON Schema, secrets."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from fustgo.plugins.processors.enrichment import EnrichmentConfig
from fustgo.plugins.processors.enrichment.postgresql import PostgresqlLookup
from fustgo.plugins.processors.enrichment.sqlite import SqliteLookup
from fustgo.plugins.registry import default_registry

pytestmark = pytest.mark.unit

STATIC = {"type": "static", "rows": [{"id": 1, "v": "x"}]}


def valid(body: dict[str, Any]) -> EnrichmentConfig:
    return EnrichmentConfig.model_validate(body)


def test_key_is_one_name_or_a_list() -> None:
    assert valid({"key": "id", "lookup": STATIC}).key == ["id"]
    assert valid({"key": ["a", "b"], "lookup": {**STATIC, "key": ["id", "v"]}}).key == ["a", "b"]
    with pytest.raises(ValidationError, match="at least 1 item"):
        valid({"key": [], "lookup": STATIC})


def test_sql_driver_selects_the_model_and_secrets_stay_secret() -> None:
    config = valid(
        {
            "key": "id",
            "lookup": {
                "type": "sql",
                "driver": "postgresql",
                "connection": {"database": "crm", "user": "etl", "password": "hunter2"},
                "table": "customers",
            },
        }
    )
    assert isinstance(config.lookup, PostgresqlLookup)
    assert isinstance(config.lookup.connection.password, SecretStr)
    assert "hunter2" not in repr(config)
    sqlite = valid(
        {
            "key": "id",
            "lookup": {
                "type": "sql",
                "driver": "sqlite",
                "connection": {"database": "x.db"},
                "query": "SELECT * FROM t",
            },
        }
    )
    assert isinstance(sqlite.lookup, SqliteLookup)
    with pytest.raises(ValidationError, match="driver"):
        valid({"key": "id", "lookup": {"type": "sql", "driver": "oracle", "table": "t"}})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"lookup": {**STATIC, "key": ["a", "b"]}}, "`lookup.key` names 2 column"),
        ({"lookup": {"type": "redis"}}, "a `redis` lookup needs `fields`"),
        ({"lookup": STATIC, "fields": []}, "`fields` is empty"),
        ({"lookup": STATIC, "fields": {"a": "x", "b": "x"}}, "same target name"),
        ({"lookup": STATIC, "fields": ["v"], "types": {"w": "int64"}}, r"`types` names \['w'\]"),
        ({"lookup": STATIC, "types": {"v": "integerish"}}, "integerish"),
        ({"lookup": STATIC, "on_missing": "drop"}, "on_missing"),
        ({"lookup": {"type": "static", "rows": [{"id": 1}, {"id": "a"}]}}, "do not form a table"),
        ({"lookup": {"type": "static", "rows": []}}, "at least 1 item"),
        (
            {"lookup": {"type": "sql", "driver": "sqlite", "connection": {"database": "x.db"}}},
            "exactly one of `table` and `query`",
        ),
        (
            {
                "lookup": {
                    "type": "sql",
                    "driver": "sqlite",
                    "connection": {"database": "x.db"},
                    "query": " ; ",
                }
            },
            "`query` is empty",
        ),
        ({"lookup": {"type": "nosql"}}, "does not match any of the expected tags"),
        ({"lookup": STATIC, "cache": {"ttl": "soon"}}, "is not a duration"),
        ({"lookup": STATIC, "extra": 1}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_configs_say_why(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        valid({"key": "id", **body})


def test_defaults() -> None:
    config = valid({"key": "id", "lookup": STATIC})
    assert config.on_missing == "null"
    assert config.cache.enabled is True
    assert config.cache.ttl == 300.0
    assert config.cache.max_entries == 100_000
    assert config.retry.max_retries == 3
    assert valid({"key": "id", "lookup": STATIC, "cache": {"ttl": "10m"}}).cache.ttl == 600.0


def test_json_schema_has_the_lookup_union_and_writeonly_secrets() -> None:
    info = default_registry().get("processor", "enrichment")
    schema = info.config_schema()
    assert schema["required"] == ["type", "key", "lookup"]
    text = str(schema)
    for kind in ("static", "file", "sql", "redis", "http"):
        assert f"'{kind}'" in text
    assert "'postgresql'" in text and "'sqlite'" in text
    assert "writeOnly" in text
    for example in info.examples:
        valid({k: v for k, v in example.items() if k != "type"})
