"""Level-5 validation: ask each plugin of a valid pipeline whether it can reach its system.

Optional (`fustgo validate --check-connections`) because it needs the network and the
credentials. A failure is a warning naming the component, never a traceback: the file is
valid, the world around it may not be ready yet. A component whose database has a catalog
(`fustgo.plugins.catalog`) also reports what answered: product, version, user, latency.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fustgo.config.models import ComponentSpec, Diagnostic, PipelineSpec
from fustgo.config.positions import SourceMap, parse_loc
from fustgo.engine.errors import FustgoError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.catalog import ServerInfo, catalog_for


@dataclass(frozen=True)
class ConnectionCheck:
    """The connection check of one component."""

    component: ComponentSpec
    error: str | None
    """Why it cannot connect, in one sentence; None when it can."""
    server: ServerInfo | None = None
    """What answered, for a component with a catalog that connected."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.component.path,
            "type": self.component.type,
            "ok": self.error is None,
            "error": self.error,
            "server": self.server.to_json() if self.server is not None else None,
        }

    def describe(self) -> str:
        """`input` (`postgresql`): PostgreSQL 15.10 at … — or that it connected."""
        what = self.server.describe() if self.server is not None else "connected"
        return f"`{self.component.path}` (`{self.component.type}`): {what}"


async def probe_connections(
    spec: PipelineSpec, *, timeout_seconds: float = 30.0
) -> list[ConnectionCheck]:
    """Every component's connection check, run concurrently, in pipeline order."""
    components = [spec.input, *spec.processors, spec.output]
    if spec.dead_letter is not None:
        components.append(spec.dead_letter)
    return list(
        await asyncio.gather(
            *(_check(component, spec, timeout_seconds) for component in components)
        )
    )


async def check_connections(
    spec: PipelineSpec,
    *,
    source: SourceMap | None = None,
    timeout_seconds: float = 30.0,
) -> list[Diagnostic]:
    """One warning per component whose `check_connection()` fails, checked concurrently.

    `source` (the report's source map) locates each warning at its component in the file.
    """
    checks = await probe_connections(spec, timeout_seconds=timeout_seconds)
    return connection_warnings(checks, spec, source)


def connection_warnings(
    checks: list[ConnectionCheck], spec: PipelineSpec, source: SourceMap | None = None
) -> list[Diagnostic]:
    """The failed checks as warnings located at their components."""
    return [
        _diagnostic(check.component, check.error, spec, source)
        for check in checks
        if check.error is not None
    ]


async def _check(component: ComponentSpec, spec: PipelineSpec, timeout: float) -> ConnectionCheck:
    name = f"`{component.path}` (`{component.type}`)"
    context = PluginContext(
        pipeline_name=spec.name,
        component_path=component.path,
        base_dir=spec.base_dir,
        batch_size=spec.settings.batch_size,
    )
    try:
        plugin = component.info.cls(component.config, context)
        await asyncio.wait_for(plugin.check_connection(), timeout=timeout)
    except TimeoutError:
        error = f"{name} did not answer its connection check within {timeout:g}s"
        return ConnectionCheck(component, error)
    except FustgoError as exc:
        return ConnectionCheck(component, f"{name} cannot connect: {exc}")
    except Exception as exc:  # a plugin bug must not turn validation into a traceback
        error = f"{name} failed its connection check with {type(exc).__name__}: {exc}"
        return ConnectionCheck(component, error)
    return ConnectionCheck(component, None, await _server(plugin, timeout))


async def _server(plugin: Any, timeout: float) -> ServerInfo | None:
    """What answered; None when the plugin has no catalog or the catalog cannot tell (an
    output's SQLite file that the run will create): the plugin's own check has passed."""
    catalog = catalog_for(plugin)
    if catalog is None:
        return None

    async def test() -> ServerInfo:
        async with catalog:
            return await catalog.test()

    try:
        return await asyncio.wait_for(test(), timeout=timeout)
    except (TimeoutError, FustgoError):
        return None


def _diagnostic(
    component: ComponentSpec, message: str, spec: PipelineSpec, source: SourceMap | None
) -> Diagnostic:
    loc = parse_loc(component.path)
    position = source.key_position(loc) if source is not None and loc is not None else None
    return Diagnostic.at(
        position,
        level="connection",
        severity="warning",
        message=message,
        hint="Check that the system is running and reachable from here, and the credentials.",
        loc=component.path,
        file=str(spec.source_file) if spec.source_file else None,
    )
