"""The registry: names, capabilities, did-you-mean, switches and third-party entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fustgo.engine.batch import Batch
from fustgo.engine.errors import ConfigError
from fustgo.plugins.api import Processor
from fustgo.plugins.registry import Registry, register_input, register_processor
from fustgo.plugins.spec import PluginConfig

pytestmark = pytest.mark.unit


class Empty(PluginConfig):
    """Nothing to set."""


def make_registry() -> Registry:
    registry = Registry()

    @register_processor("uppercase", config=Empty, registry=registry, examples=[{}])
    class Uppercase(Processor[Empty]):
        def process(self, batch: Batch) -> list[Batch]:
            return [batch]

    @register_processor("lowercase", config=Empty, registry=registry)
    class Lowercase(Processor[Empty]):
        def process(self, batch: Batch) -> list[Batch]:
            return [batch]

    return registry


def test_lookup_and_suggestion() -> None:
    registry = make_registry()
    assert registry.get("processor", "uppercase").family == "transform"
    with pytest.raises(ConfigError, match=r"Unknown processor plugin `uppercas`\. Did you mean"):
        registry.get("processor", "uppercas")
    assert registry.suggest("processor", "zzz") is None


def test_a_plugin_must_subclass_its_kind_and_name_a_family() -> None:
    registry = Registry()
    with pytest.raises(TypeError, match="must subclass Input"):
        register_input("odd", config=Empty, family="x", registry=registry)(Processor)
    with pytest.raises(TypeError, match="must name its `family`"):
        register_input("odd", config=Empty, registry=registry)


def test_duplicate_names_and_unknown_capabilities_are_refused() -> None:
    registry = make_registry()
    with pytest.raises(ConfigError, match="Two processor plugins are named `uppercase`"):

        @register_processor("uppercase", config=Empty, registry=registry)
        class Other(Processor[Empty]):
            pass

    with pytest.raises(ConfigError, match="unknown capabilities"):

        @register_processor("fancy", config=Empty, registry=registry, capabilities={"teleport"})
        class Fancy(Processor[Empty]):
            pass


def test_switches_enable_and_disable() -> None:
    registry = make_registry()
    registry.apply_switches(enabled={"processor": ["uppercase"]})
    assert registry.is_enabled("processor", "uppercase")
    assert not registry.is_enabled("processor", "lowercase")
    with pytest.raises(ConfigError, match="disabled by `plugins`"):
        registry.get("processor", "lowercase")
    registry.apply_switches(disabled={"processor": ["uppercase"]})
    assert registry.is_enabled("processor", "lowercase")
    with pytest.raises(ConfigError, match="Did you mean `lowercase`"):
        registry.apply_switches(disabled={"processor": ["lowercse"]})


THIRD_PARTY_MODULE = '''
"""A third-party plugin package, installed only for this test."""
from fustgo.plugins.api import Processor
from fustgo.plugins.registry import register_processor
from fustgo.plugins.spec import PluginConfig


class ReverseConfig(PluginConfig):
    """Reverses nothing, but proves it was loaded."""


@register_processor("reverse_rows", config=ReverseConfig, examples=[{"type": "reverse_rows"}])
class ReverseRows(Processor[ReverseConfig]):
    def process(self, batch):
        return [batch]
'''


@pytest.mark.integration
def test_third_party_plugins_load_from_the_entry_point_group(tmp_path: Path) -> None:
    (tmp_path / "acme_plugins.py").write_text(THIRD_PARTY_MODULE, encoding="utf-8")
    dist = tmp_path / "acme_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[fustgo.plugins]\nacme = acme_plugins\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    listed = subprocess.run(
        [sys.executable, "-m", "fustgo.cli", "plugins", "list", "--format", "json"],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    )  # fmt: skip
    plugins = json.loads(listed.stdout)
    entries = plugins if isinstance(plugins, list) else plugins["plugins"]
    mine = [p for p in entries if p["name"] == "reverse_rows"]
    assert mine, f"the entry-point plugin is missing from: {[p['name'] for p in entries]}"
    assert mine[0]["kind"] == "processor"


def test_the_builtin_table_matches_what_each_module_registers() -> None:
    import importlib

    from fustgo.plugins.builtin import BUILTIN
    from fustgo.plugins.registry import REGISTRY, default_registry

    default_registry()
    for plugins in BUILTIN.values():
        for module in set(plugins.values()):
            importlib.import_module(module)
    for kind, plugins in BUILTIN.items():
        registered = {
            info.name: info.cls.__module__
            for info in REGISTRY.all(kind)
            if info.source == "builtin"
        }
        assert registered == plugins, kind


def test_a_run_imports_only_the_plugins_it_names() -> None:
    code = (
        "import sys\n"
        "from fustgo.plugins.registry import default_registry\n"
        "registry = default_registry()\n"
        "registry.get('input', 'csv'); registry.get('output', 'sqlite')\n"
        "assert 'kafka' in registry.names('input')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('fustgo.plugins.')\n"
        "                and ('.inputs.' in m or '.outputs.' in m or '.processors.' in m))\n"
        "print(' '.join(loaded))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "fustgo.plugins.inputs.files.csv" in found
    assert "fustgo.plugins.outputs.sqlite" in found
    assert not [m for m in found if "kafka" in m or "postgresql" in m or "processors." in m]
