"""Level-5 validation: ask each plugin of a valid pipeline whether it can reach its system.

Optional (`fustgo validate --check-connections`) because it needs the network and the
credentials. A failure is a warning naming the component, never a traceback: the file is
valid, the world around it may not be ready yet.
"""

from __future__ import annotations

import asyncio

from fustgo.config.models import ComponentSpec, Diagnostic, PipelineSpec
from fustgo.config.positions import SourceMap, parse_loc
from fustgo.engine.errors import FustgoError
from fustgo.plugins.api import PluginContext


async def check_connections(
    spec: PipelineSpec,
    *,
    source: SourceMap | None = None,
    timeout_seconds: float = 30.0,
) -> list[Diagnostic]:
    """One warning per component whose `check_connection()` fails, checked concurrently.

    `source` (the report's source map) locates each warning at its component in the file.
    """
    components = [spec.input, *spec.processors, spec.output]
    if spec.dead_letter is not None:
        components.append(spec.dead_letter)
    found = await asyncio.gather(
        *(_check(component, spec, timeout_seconds) for component in components)
    )
    return [
        _diagnostic(component, message, spec, source)
        for component, message in zip(components, found, strict=True)
        if message is not None
    ]


async def _check(component: ComponentSpec, spec: PipelineSpec, timeout: float) -> str | None:
    """None when the plugin can connect, else why not, in one sentence."""
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
        return f"{name} did not answer its connection check within {timeout:g}s"
    except FustgoError as error:
        return f"{name} cannot connect: {error}"
    except Exception as error:  # a plugin bug must not turn validation into a traceback
        return f"{name} failed its connection check with {type(error).__name__}: {error}"
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
