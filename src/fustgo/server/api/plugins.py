"""`/api/v1/plugins`: the plugins this server offers, their config schemas, and switching
them on and off at run time (design doc §7.1, §5.3).

Every plugin ships in the package (or an installed third-party distribution), so the
switch is the only thing that changes at run time: it is persisted in the store's `plugins`
table, wins over the main config's `plugins:` section, and is applied to the registry that
validates and runs jobs, so the next validation or start sees it. Runs already going on
keep their plugins. Installing or uninstalling plugins through the API is not offered
(501, with what to do instead).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from fustgo.config.reference import with_type
from fustgo.plugins.registry import PLUGIN_KINDS, PluginInfo, PluginKind, Registry
from fustgo.server.api.schemas.plugins import (
    PluginDetails,
    PluginList,
    PluginSummary,
    SwitchOrigin,
)
from fustgo.server.errors import ERROR_RESPONSES, ErrorResponse, error_response
from fustgo.server.settings import ServerSettings
from fustgo.store.db import Store
from fustgo.store.errors import InvalidRequestError, NotFoundError
from fustgo.store.repositories import plugins as switches_repo

log = logging.getLogger(__name__)

router = APIRouter(prefix="/plugins", tags=["plugins"], responses=ERROR_RESPONSES)

NOT_OFFERED = {501: {"model": ErrorResponse, "description": "Not offered by this server"}}


@dataclass
class PluginSwitches:
    """The server's registry with its two layers of switches: the main config's (read at
    start) and the API's (persisted, applied on top)."""

    registry: Registry
    main_config_disabled: dict[PluginKind, set[str]]
    overrides: dict[tuple[PluginKind, str], bool] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, store: Store, settings: ServerSettings) -> PluginSwitches:
        """Give the server a registry of its own (so its switches never leak into the
        process-wide one) and apply the switches persisted in `store`."""
        registry = settings.registry.copy()
        settings.registry = registry
        disabled = {
            kind: {name for name in registry.names(kind) if not registry.is_enabled(kind, name)}
            for kind in PLUGIN_KINDS
        }
        switches = cls(registry=registry, main_config_disabled=disabled)
        with store.session() as session:
            rows = [(row.plugin_type, row.plugin_name, row.enabled) for row in
                    switches_repo.list_switches(session)]  # fmt: skip
        for kind, name, enabled in rows:
            if kind not in PLUGIN_KINDS or registry.find(kind, name) is None:  # type: ignore[arg-type]
                log.warning(
                    "The store switches the %s plugin `%s` %s, but no such plugin is "
                    "installed; the switch is ignored.",
                    kind,
                    name,
                    "on" if enabled else "off",
                )
                continue
            switches.overrides[(kind, name)] = enabled  # type: ignore[index]
        switches.apply()
        return switches

    def apply(self) -> None:
        """Set the registry's switches: the main config's, then the API's over them."""
        with self.lock:
            disabled = {kind: set(names) for kind, names in self.main_config_disabled.items()}
            for (kind, name), enabled in self.overrides.items():
                (disabled[kind].discard if enabled else disabled[kind].add)(name)
            self.registry.apply_switches(disabled={k: sorted(v) for k, v in disabled.items()})

    def origin(self, kind: PluginKind, name: str) -> SwitchOrigin:
        if (kind, name) in self.overrides:
            return "api"
        return "main_config" if name in self.main_config_disabled[kind] else "default"

    def summary(self, info: PluginInfo) -> dict[str, Any]:
        return {
            "kind": info.kind,
            "name": info.name,
            "family": info.family,
            "title": info.title,
            "capabilities": sorted(info.capabilities),
            "source": info.source,
            "enabled": self.registry.is_enabled(info.kind, info.name),
            "switched_by": self.origin(info.kind, info.name),
        }


def get_switches(request: Request) -> PluginSwitches:
    switches: PluginSwitches = request.app.state.plugin_switches
    return switches


Switches = Annotated[PluginSwitches, Depends(get_switches)]
KindQuery = Annotated[
    PluginKind | None,
    Query(description="The plugin's kind; needed when inputs and outputs share the name."),
]


@router.get("", response_model=PluginList, summary="List plugins")
def list_plugins(
    switches: Switches,
    *,
    kind: PluginKind | None = None,
    family: str | None = None,
    capability: Annotated[
        list[str] | None, Query(description="Keep plugins with every one of these.")
    ] = None,
    enabled: bool | None = None,
    q: Annotated[str | None, Query(description="Part of the name or title (any case).")] = None,
) -> PluginList:
    items = []
    for info in switches.registry.all(kind):
        summary = switches.summary(info)
        if family is not None and info.family != family:
            continue
        if capability and not set(capability) <= info.capabilities:
            continue
        if enabled is not None and summary["enabled"] != enabled:
            continue
        if q and q.lower() not in f"{info.name} {info.title}".lower():
            continue
        items.append(PluginSummary.model_validate(summary))
    return PluginList(items=items, total=len(items))


@router.post("", status_code=501, responses=NOT_OFFERED, summary="Install a plugin (not offered)")
def install_plugin() -> JSONResponse:
    return _not_offered("Installing plugins through the API is not offered")


@router.get("/{name}", response_model=PluginDetails, summary="Describe a plugin")
def get_plugin(name: str, switches: Switches, request: Request, kind: KindQuery = None) -> Any:
    info = _find(switches.registry, name, kind)
    return _details(switches, info, request)


@router.get(
    "/{name}/config-schema",
    summary="The JSON Schema of a plugin's config",
    response_model=dict[str, Any],
)
def config_schema(name: str, switches: Switches, kind: KindQuery = None) -> dict[str, Any]:
    """The schema a form is built from: one property per config field, with its type,
    default, description (the field's docstring) and UI hints; `type` is a const."""
    return _find(switches.registry, name, kind).config_schema()


@router.post("/{name}/enable", response_model=PluginDetails, summary="Switch a plugin on")
async def enable_plugin(
    name: str, switches: Switches, request: Request, kind: KindQuery = None
) -> Any:
    return await _switch(name, kind, True, switches, request)


@router.post("/{name}/disable", response_model=PluginDetails, summary="Switch a plugin off")
async def disable_plugin(
    name: str, switches: Switches, request: Request, kind: KindQuery = None
) -> Any:
    """New validations and runs refuse it (a job using it becomes a `draft` when saved,
    and cannot start); runs going on keep it."""
    return await _switch(name, kind, False, switches, request)


@router.delete(
    "/{name}", status_code=501, responses=NOT_OFFERED, summary="Uninstall a plugin (not offered)"
)
def uninstall_plugin(name: str) -> JSONResponse:
    return _not_offered(f"Uninstalling plugins (`{name}`) through the API is not offered")


async def _switch(
    name: str, kind: PluginKind | None, enabled: bool, switches: PluginSwitches, request: Request
) -> dict[str, Any]:
    info = _find(switches.registry, name, kind)
    store: Store = request.app.state.fustgo.store

    def save() -> None:
        with store.session() as session:
            switches_repo.set_switch(session, info.kind, info.name, enabled=enabled)

    await asyncio.to_thread(save)
    with switches.lock:
        switches.overrides[(info.kind, info.name)] = enabled
    switches.apply()
    log.info("The %s plugin `%s` was switched %s.", info.kind, info.name,
             "on" if enabled else "off")  # fmt: skip
    return _details(switches, info, request)


def _find(registry: Registry, name: str, kind: PluginKind | None) -> PluginInfo:
    kinds = (kind,) if kind is not None else PLUGIN_KINDS
    found = [info for each in kinds if (info := registry.find(each, name)) is not None]
    if len(found) == 1:
        return found[0]
    if found:
        choices = " or ".join(f"`?kind={info.kind}`" for info in found)
        raise InvalidRequestError(
            f"`{name}` is the name of {len(found)} plugins "
            f"({', '.join(info.kind for info in found)}); say which with {choices}.",
            field="kind",
        )
    close = [registry.suggest(each, name) for each in kinds]
    suggestions = sorted({s for s in close if s})
    hint = f" Did you mean {', '.join(f'`{s}`' for s in suggestions)}?" if suggestions else ""
    where = f"{kind} plugin" if kind else "plugin"
    raise NotFoundError(f"No {where} `{name}`.{hint} GET /api/v1/plugins lists them.")


def _details(switches: PluginSwitches, info: PluginInfo, request: Request) -> dict[str, Any]:
    url = request.url_for("config_schema", name=info.name).include_query_params(kind=info.kind)
    return {
        **switches.summary(info),
        "description": info.description,
        "examples": [with_type(info, example) for example in info.examples],
        "config_schema_url": str(url.path) + f"?{url.query}",
    }


def _not_offered(what: str) -> JSONResponse:
    return error_response(
        501,
        f"{what}: every plugin ships in the FustGo package or in an installed Python "
        "distribution, and the server cannot add or remove code while it runs.",
        hint="Install the distribution that provides the plugin (`pip install …`) in the "
        "server's environment and restart it; use POST /api/v1/plugins/{name}/enable and "
        "/disable to switch installed plugins on and off.",
    )
