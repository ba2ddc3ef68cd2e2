"""The plugin registry: every input, processor and output, by kind and name.

Built-in plugins are declared by name in `fustgo.plugins.builtin` and their module is
imported the first time one of them is asked for (its decorators then register it), so a
run imports only the plugins its pipeline names; listing or documenting them all imports
them all. Third-party packages add plugins through the entry-point group `fustgo.plugins`:
each entry point names a module (imported, so its decorators run) or a callable that takes
the registry. Registering and listing plugins imports no driver library.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar

from fustgo.engine.errors import ConfigError
from fustgo.plugins.api import Input, Output, Plugin, Processor
from fustgo.plugins.spec import PluginConfig

PluginKind = Literal["input", "processor", "output"]
PLUGIN_KINDS: tuple[PluginKind, ...] = ("input", "processor", "output")
ENTRY_POINT_GROUP = "fustgo.plugins"

KNOWN_CAPABILITIES = frozenset(
    {
        "split",  # the input cuts its source into parallel splits
        "incremental",  # the input can read only what changed since a column value
        "streaming",  # the input is unbounded (never ends by itself)
        "acks",  # the input commits offsets / deletes messages on ack
        "resume",  # the input resumes a split from a checkpoint
        "upsert",  # the output can update rows by key (replays are harmless)
        "stateful",  # the processor holds state across batches
    }
)

log = logging.getLogger(__name__)
PluginT = TypeVar("PluginT", bound=type[Plugin[Any]])


@dataclass(frozen=True)
class PluginInfo:
    """Everything known about a plugin without instantiating it."""

    kind: PluginKind
    name: str
    cls: type[Plugin[Any]]
    config: type[PluginConfig]
    family: str
    title: str
    description: str
    examples: tuple[dict[str, Any], ...] = ()
    capabilities: frozenset[str] = frozenset()
    source: str = "builtin"
    """`builtin`, or the distribution name of the third-party package."""

    def config_schema(self) -> dict[str, Any]:
        """The JSON Schema of this plugin's config (with `type` as a const)."""
        schema = self.config.model_json_schema()
        schema["title"] = self.title
        schema.setdefault("description", self.description)
        properties = {"type": {"const": self.name, "description": "Selects this plugin."}}
        properties.update(schema.get("properties", {}))
        schema["properties"] = properties
        schema["required"] = ["type", *schema.get("required", [])]
        return schema


@dataclass
class Registry:
    """Plugins by kind and name, with the enabled/disabled switches of the main config."""

    _plugins: dict[PluginKind, dict[str, PluginInfo]] = field(
        default_factory=lambda: {kind: {} for kind in PLUGIN_KINDS}
    )
    _disabled: dict[PluginKind, set[str]] = field(
        default_factory=lambda: {kind: set() for kind in PLUGIN_KINDS}
    )
    _declared: dict[PluginKind, dict[str, str]] = field(
        default_factory=lambda: {kind: {} for kind in PLUGIN_KINDS}
    )
    """Plugins known by name whose module is not imported yet (name → module)."""
    _entry_points_loaded: bool = False

    def declare(self, kind: PluginKind, name: str, module: str) -> None:
        """Make `name` known; its module is imported (and registers it) when first used."""
        if name not in self._plugins[kind]:
            self._declared[kind][name] = module

    def _resolve(self, kind: PluginKind, name: str) -> PluginInfo | None:
        info = self._plugins[kind].get(name)
        module = self._declared[kind].pop(name, None)
        if info is None and module is not None:
            importlib.import_module(module)
            info = self._plugins[kind].get(name)
            if info is None:
                raise ConfigError(
                    f"Module `{module}` is declared to provide the {kind} plugin `{name}` but "
                    "did not register it; this is a bug in FustGo's built-in plugin table."
                )
        return info

    def _known(self, kind: PluginKind) -> set[str]:
        return set(self._plugins[kind]) | set(self._declared[kind])

    def add(self, info: PluginInfo) -> None:
        existing = self._plugins[info.kind].get(info.name)
        if existing is not None and existing.cls is not info.cls:
            raise ConfigError(
                f"Two {info.kind} plugins are named `{info.name}` ({existing.source} and "
                f"{info.source}); rename one of them."
            )
        unknown = info.capabilities - KNOWN_CAPABILITIES
        if unknown:
            raise ConfigError(
                f"Plugin `{info.name}` declares unknown capabilities {sorted(unknown)}; "
                f"known: {sorted(KNOWN_CAPABILITIES)}."
            )
        self._plugins[info.kind][info.name] = info
        self._declared[info.kind].pop(info.name, None)

    def get(self, kind: PluginKind, name: str) -> PluginInfo:
        """The plugin, or a `ConfigError` that suggests the closest name."""
        info = self._resolve(kind, name)
        if info is None:
            hint = self.suggest(kind, name)
            suffix = f" Did you mean `{hint}`?" if hint else ""
            raise ConfigError(
                f"Unknown {kind} plugin `{name}`.{suffix} `fustgo plugins list` shows them all."
            )
        if name in self._disabled[kind]:
            raise ConfigError(
                f"The {kind} plugin `{name}` is disabled by `plugins` in the main config; "
                "enable it there to use it."
            )
        return info

    def find(self, kind: PluginKind, name: str) -> PluginInfo | None:
        return self._resolve(kind, name)

    def is_enabled(self, kind: PluginKind, name: str) -> bool:
        return name in self._known(kind) and name not in self._disabled[kind]

    def suggest(self, kind: PluginKind, name: str) -> str | None:
        """The registered name closest to a misspelled one, if any is close."""
        matches = difflib.get_close_matches(name, sorted(self._known(kind)), n=1, cutoff=0.6)
        return matches[0] if matches else None

    def names(self, kind: PluginKind) -> list[str]:
        return sorted(self._known(kind))

    def all(self, kind: PluginKind | None = None) -> list[PluginInfo]:
        """Every plugin (of one kind), importing the modules of those not loaded yet."""
        kinds = (kind,) if kind else PLUGIN_KINDS
        for each in kinds:
            for name in list(self._declared[each]):
                self._resolve(each, name)
        return [self._plugins[k][n] for k in kinds for n in sorted(self._plugins[k])]

    def copy(self) -> Registry:
        """An independent registry with the same plugins and switches, so switches changed
        on the copy (a server's, at run time) leave this one alone. Imports every plugin
        module first: declared ones register in the process-wide registry, not a copy."""
        self.all()
        return Registry(
            _plugins={kind: dict(plugins) for kind, plugins in self._plugins.items()},
            _disabled={kind: set(names) for kind, names in self._disabled.items()},
            _entry_points_loaded=True,
        )

    def apply_switches(
        self,
        enabled: dict[PluginKind, Iterable[str]] | None = None,
        disabled: dict[PluginKind, Iterable[str]] | None = None,
    ) -> None:
        """Apply `plugins.enabled` / `plugins.disabled` of the main config (design doc §5.3).

        A kind listed under `enabled` keeps only the named plugins; names under `disabled`
        are switched off. Unknown names are errors, so a typo cannot silently disable nothing.
        """
        self._disabled = {kind: set() for kind in PLUGIN_KINDS}
        for kind, names in (enabled or {}).items():
            wanted = set(names)
            self._check_known(kind, wanted, "plugins.enabled")
            self._disabled[kind] |= self._known(kind) - wanted
        for kind, names in (disabled or {}).items():
            unwanted = set(names)
            self._check_known(kind, unwanted, "plugins.disabled")
            self._disabled[kind] |= unwanted

    def _check_known(self, kind: PluginKind, names: set[str], where: str) -> None:
        for name in sorted(names - self._known(kind)):
            hint = self.suggest(kind, name)
            suffix = f" Did you mean `{hint}`?" if hint else ""
            raise ConfigError(f"`{where}.{kind}` names an unknown plugin `{name}`.{suffix}")

    def load_entry_points(self) -> None:
        """Import third-party plugins from the `fustgo.plugins` entry-point group, once."""
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry_point.load()
            except Exception as exc:  # a broken third-party plugin must not break the CLI
                log.warning(
                    "Plugin entry point %s could not be loaded and is skipped: %s",
                    entry_point.name,
                    exc,
                )
                continue
            if callable(loaded) and not isinstance(loaded, type):
                loaded(self)


REGISTRY = Registry()
"""The process-wide registry the decorators fill."""


class _Registrar:
    """The `@register_<kind>(name, config=…, family=…)` decorator of one plugin kind."""

    def __init__(self, kind: PluginKind, base: type[Plugin[Any]], default_family: str = "") -> None:
        self.kind = kind
        self.base = base
        self.default_family = default_family
        self.__doc__ = f"Register a `{base.__name__}` subclass under `name` (the YAML `type:`)."

    def __call__(
        self,
        name: str,
        *,
        config: type[PluginConfig],
        family: str = "",
        title: str | None = None,
        description: str | None = None,
        examples: Iterable[dict[str, Any]] = (),
        capabilities: Iterable[str] = (),
        registry: Registry | None = None,
    ) -> Callable[[PluginT], PluginT]:
        family = family or self.default_family
        if not family:
            raise TypeError(f"The {self.kind} plugin `{name}` must name its `family`.")

        def decorate(cls: PluginT) -> PluginT:
            if not issubclass(cls, self.base):
                raise TypeError(
                    f"{cls.__name__} must subclass {self.base.__name__} to be a {self.kind}."
                )
            module = cls.__module__
            info = PluginInfo(
                kind=self.kind,
                name=name,
                cls=cls,
                config=config,
                family=family,
                title=title or name.replace("_", " ").title(),
                description=(description or config.__doc__ or cls.__doc__ or "").strip(),
                examples=tuple(examples),
                capabilities=frozenset(capabilities),
                source="builtin" if module.startswith("fustgo.") else module.split(".")[0],
            )
            cls.info = info
            (registry or REGISTRY).add(info)
            return cls

        return decorate


register_input = _Registrar("input", Input)
register_processor = _Registrar("processor", Processor, default_family="transform")
register_output = _Registrar("output", Output)


def default_registry() -> Registry:
    """The registry with every built-in plugin and the installed third-party ones."""
    from fustgo.plugins.builtin import declare_builtins

    declare_builtins(REGISTRY)
    REGISTRY.load_entry_points()
    return REGISTRY
