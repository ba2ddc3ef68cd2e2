"""What a server is started with: the main config's `db:` and plugin switches, and where
relative paths of job configs resolve."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fustgo.config.app import (
    DatabaseSettings,
    SchedulerSettings,
    apply_plugin_switches,
    load_app_config,
)
from fustgo.config.render import render_text
from fustgo.engine.errors import ConfigError
from fustgo.plugins.registry import Registry, default_registry

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass
class ServerSettings:
    """Everything `create_app` needs; `from_main_config` reads it from `fustgo.yaml`."""

    db: DatabaseSettings = field(default_factory=DatabaseSettings)
    base_dir: Path = field(default_factory=Path.cwd)
    """Relative paths in job configs (files, SQLite databases, `!include`s) resolve here,
    and `!include` may not leave it. The main config's folder, else the working directory."""
    registry: Registry = field(default_factory=default_registry)
    """The plugins jobs may use, with the main config's switches applied."""
    config_file: str | None = None
    """The main config read, for messages."""
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    """The worker pool's size and the scheduler's tick (the main config's `scheduler:`)."""
    console_dir: Path | None = None
    """The built web console served at `/`. None: `$FUSTGO_CONSOLE_DIR`, else the
    package's `server/console/` (where `make console` builds it); see `console_assets`."""

    @classmethod
    def from_main_config(cls, path: Path | None) -> ServerSettings:
        """Settings from the main config at `path` (None: defaults, working directory).

        Raises `ConfigError` with every diagnostic when the file is invalid."""
        if path is None:
            return cls()
        config, report = load_app_config(path)
        registry = default_registry()
        if config is not None:
            report.diagnostics.extend(apply_plugin_switches(config, registry, report.source))
        if config is None or not report.ok:
            rendered = render_text(report, file=str(path)).plain.rstrip()
            raise ConfigError(f"The main config `{path}` is invalid:\n{rendered}")
        return cls(
            db=config.db,
            base_dir=path.parent.resolve(),
            registry=registry,
            config_file=str(path),
            scheduler=config.scheduler,
        )
