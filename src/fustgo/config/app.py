"""The main config file (`fustgo.yaml`): settings of the installation, not of one pipeline.

Optional. Found at `--config PATH`, else `$FUSTGO_CONFIG`, else `./fustgo.yaml` when that
exists. It switches plugins on and off (design doc §5.3) and says where the server keeps
its metadata (`db:`, design doc §8.1); it is read with the same
loader as pipeline files, so `${VAR}`, `!include` and located diagnostics work the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fustgo.config.document import DocumentReader
from fustgo.config.model_errors import model_diagnostics
from fustgo.config.models import Diagnostic, ValidationReport
from fustgo.config.positions import SourceMap, format_loc
from fustgo.plugins.registry import PLUGIN_KINDS, PluginKind, Registry, default_registry

APP_CONFIG_ENV = "FUSTGO_CONFIG"
DEFAULT_APP_CONFIG = Path("fustgo.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class PluginNames(_Strict):
    """Plugin names by kind; a kind left out is not affected."""

    input: list[str] | None = None
    """Input plugins."""
    processor: list[str] | None = None
    """Processor plugins."""
    output: list[str] | None = None
    """Output plugins."""

    def by_kind(self) -> dict[PluginKind, list[str]]:
        listed = {"input": self.input, "processor": self.processor, "output": self.output}
        return {kind: names for kind, names in listed.items() if names is not None}


class PluginSwitches(_Strict):
    """Which built-in and installed plugins may be used (design doc §5.3)."""

    enabled: PluginNames = PluginNames()
    """For each kind listed, only these plugins are available."""
    disabled: PluginNames = PluginNames()
    """These plugins are switched off."""


DatabaseType = Literal["sqlite", "postgresql", "mysql"]


class DatabaseSettings(_Strict):
    """The server's metadata store: jobs, executions, checkpoints, connections (design §8.1)."""

    type: DatabaseType = "sqlite"
    """`sqlite` (one file, no server: the default), `postgresql` or `mysql` (also MariaDB)."""
    path: str = ".fustgo/fustgo.db"
    """The SQLite file (`type: sqlite`); relative to the main config's folder, else to the
    working directory."""
    url: str | None = None
    """The database URL for `postgresql` and `mysql`, e.g.
    `postgresql://fustgo:${PG_PASSWORD}@db:5432/fustgo` or `mysql://root@127.0.0.1/fustgo`."""
    execution_retention_days: int = Field(default=30, ge=1)
    """Executions older than this many days are purged (design §8.1 keeps 30)."""

    @model_validator(mode="after")
    def _url_matches_type(self) -> Self:
        if self.type == "sqlite":
            if self.url is not None:
                raise ValueError("`db.url` is for `postgresql` and `mysql`; SQLite takes `path`")
            return self
        if not self.url:
            raise ValueError(
                f"`db.type: {self.type}` needs `db.url`, e.g. "
                f"`{self.type}://user:${{PASSWORD}}@host/fustgo`"
            )
        scheme = self.url.split("://", 1)[0].split("+", 1)[0]
        expected = {"postgresql": ("postgresql", "postgres"), "mysql": ("mysql", "mariadb")}
        if scheme not in expected[self.type]:
            raise ValueError(f"`db.url` starts with `{scheme}://` but `db.type` is `{self.type}`")
        return self


class SchedulerSettings(_Strict):
    """How `fustgo serve` runs jobs: its worker pool and its scheduler (design §5.4, §5.5)."""

    max_concurrent_runs: int = Field(default=4, ge=1, le=256)
    """Runs going on at once; more wait in the queue, higher `priority` first."""
    tick_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often the scheduler looks for due runs, timeouts and retries."""


class AppConfig(_Strict):
    """The main config file of a FustGo installation."""

    plugins: PluginSwitches = PluginSwitches()
    """Plugins switched on and off for every pipeline."""
    db: DatabaseSettings = DatabaseSettings()
    """Where `fustgo serve` keeps its metadata."""
    scheduler: SchedulerSettings = SchedulerSettings()
    """How `fustgo serve` runs jobs: concurrency, scheduler tick."""


def app_config_path(
    option: Path | None = None, *, env: Mapping[str, str] | None = None
) -> Path | None:
    """The main config to read: `--config`, else `$FUSTGO_CONFIG`, else `./fustgo.yaml`."""
    if option is not None:
        return option
    named = (os.environ if env is None else env).get(APP_CONFIG_ENV)
    if named:
        return Path(named)
    return DEFAULT_APP_CONFIG if DEFAULT_APP_CONFIG.is_file() else None


def load_app_config(
    path: Path, *, env: Mapping[str, str] | None = None
) -> tuple[AppConfig | None, ValidationReport]:
    """The main config at `path`, or None with the diagnostics that explain why not."""
    label = str(path)
    source = SourceMap()
    report = ValidationReport(source=source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = (
            "does not exist"
            if isinstance(error, FileNotFoundError)
            else f"cannot be read ({error})"
        )
        report.diagnostics.append(
            Diagnostic(
                level="syntax",
                message=f"Main config `{label}` {reason}",
                hint=f"Pass an existing file to `--config` or unset `{APP_CONFIG_ENV}`.",
                file=label,
            )
        )
        return None, report
    reader = DocumentReader(env=os.environ if env is None else env, source=source)
    document = reader.read(
        text, label=label, directory=path.parent.resolve(), real_path=path.resolve()
    )
    report.diagnostics.extend(reader.diagnostics)
    if reader.diagnostics:
        return None, report
    try:
        return AppConfig.model_validate(document or {}), report
    except ValidationError as error:
        report.diagnostics.extend(
            model_diagnostics(
                error,
                model=AppConfig,
                prefix=(),
                data=document,
                source=source,
                where="the main config",
            )
        )
        return None, report


def apply_plugin_switches(
    config: AppConfig, registry: Registry, source: SourceMap | None = None
) -> list[Diagnostic]:
    """Switch plugins on and off in `registry`; unknown names are errors, never ignored."""
    diagnostics: list[Diagnostic] = []
    switches: dict[str, dict[PluginKind, list[str]]] = {}
    for section in ("enabled", "disabled"):
        names: PluginNames = getattr(config.plugins, section)
        switches[section] = {}
        for kind, listed in names.by_kind().items():
            known = [name for name in listed if registry.find(kind, name) is not None]
            switches[section][kind] = known
            for index, name in enumerate(listed):
                if name not in known:
                    loc = ("plugins", section, kind, index)
                    diagnostics.append(_unknown_plugin(registry, kind, name, loc, source))
    registry.apply_switches(enabled=switches["enabled"], disabled=switches["disabled"])
    return sorted(diagnostics, key=lambda item: (item.line or 0, item.column or 0))


def configured_registry(
    option: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> tuple[Registry, ValidationReport, str | None]:
    """The plugin registry with the main config's switches applied.

    Returns the registry, the main config's diagnostics and its file name (None when there
    is no main config). A main config that cannot be read leaves the registry as it was.
    """
    registry = registry or default_registry()
    path = app_config_path(option, env=env)
    if path is None:
        return registry, ValidationReport(), None
    config, report = load_app_config(path, env=env)
    if config is not None:
        report.diagnostics.extend(apply_plugin_switches(config, registry, report.source))
    return registry, report, str(path)


def _unknown_plugin(
    registry: Registry,
    kind: PluginKind,
    name: str,
    loc: tuple[str | int, ...],
    source: SourceMap | None,
) -> Diagnostic:
    suggestion = registry.suggest(kind, name)
    position = source.value_position(loc) if source is not None else None
    others = [other for other in PLUGIN_KINDS if other != kind and registry.find(other, name)]
    if suggestion:
        hint = f"Did you mean `{suggestion}`?"
    elif others:
        hint = f"`{name}` is a plugin of kind `{others[0]}`; list it under `{others[0]}:`."
    else:
        hint = f"`fustgo plugins list --kind {kind}` shows the {kind} plugins."
    return Diagnostic.at(
        position,
        level="semantic",
        message=f"`{format_loc(loc[:-1])}` names an unknown {kind} plugin `{name}`",
        hint=hint,
        loc=loc,
    )
