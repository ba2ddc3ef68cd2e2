"""The FastAPI application: `create_app(settings)` (design doc §7).

Starting it opens the metadata store and applies its migrations, marks the runs a previous
process left behind, and serves `/health` and the REST API under `/api/v1` (OpenAPI at
`/api/v1/openapi.json`, interactive docs at `/api/v1/docs`), and the web console at `/`
(`console_assets`). Stopping it stops every run
with a drain and a checkpoint, so the jobs resume when started again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from fustgo import __version__
from fustgo.scheduler.core import Scheduler
from fustgo.server.alerts.monitor import Monitor
from fustgo.server.api import alerts as alerts_api
from fustgo.server.api import connections, health, jobs, schedule, triggers, validate
from fustgo.server.api import executions as executions_api
from fustgo.server.api import logs as logs_api
from fustgo.server.api import metrics as metrics_api
from fustgo.server.api import plugins as plugins_api
from fustgo.server.api import preview as preview_api
from fustgo.server.api import ws as ws_api
from fustgo.server.api.body import SCHEMA_REF
from fustgo.server.api.schemas.jobs import JobCreate, JobUpdate, ValidateRequest
from fustgo.server.console_assets import install_console
from fustgo.server.deps import AppState
from fustgo.server.errors import install_error_handlers
from fustgo.server.runs import RunManager
from fustgo.server.settings import ServerSettings
from fustgo.store.db import Store

API_PREFIX = "/api/v1"
_BODY_MODELS: list[type[BaseModel]] = [JobCreate, JobUpdate, ValidateRequest]
"""Bodies read by hand (JSON or YAML): their schemas are added to the OpenAPI document."""


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """A server for `settings` (defaults: SQLite in `.fustgo/`, the working directory)."""
    settings = settings or ServerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.db, base_dir=settings.base_dir)
        try:
            await asyncio.to_thread(store.migrate)
            app.state.plugin_switches = await asyncio.to_thread(
                plugins_api.PluginSwitches.load, store, settings
            )
            runs = RunManager(store, settings)
            await runs.recover()
            monitor = Monitor(store, runs, settings)
            app.state.scheduler = scheduler = Scheduler(
                store,
                runs,
                retention_days=settings.db.execution_retention_days,
                tick_seconds=settings.scheduler.tick_seconds,
            )
            app.state.fustgo = AppState(settings=settings, store=store, runs=runs)
            monitor.start()
            scheduler.start()
            try:
                yield
            finally:
                await scheduler.close()
                await monitor.stop()
                await runs.shutdown()
        finally:
            store.close()

    app = FastAPI(
        title="FustGo",
        version=__version__,
        description="Jobs, runs and connections of a FustGo server.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    for router in (jobs.router, executions_api.router, validate.router, connections.router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(plugins_api.router, prefix=API_PREFIX)
    app.include_router(preview_api.router, prefix=API_PREFIX)
    app.include_router(logs_api.router, prefix=API_PREFIX)
    app.include_router(ws_api.router, prefix=API_PREFIX)
    app.include_router(schedule.router, prefix=API_PREFIX)
    app.include_router(triggers.router, prefix=API_PREFIX)
    app.include_router(metrics_api.router, prefix=API_PREFIX)
    app.include_router(alerts_api.router, prefix=API_PREFIX)

    install_console(app, settings.console_dir)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in _BODY_MODELS:
            schema = model.model_json_schema(ref_template=SCHEMA_REF)
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        app.openapi_schema = document
    return app.openapi_schema
