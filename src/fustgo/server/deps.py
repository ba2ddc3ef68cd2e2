"""What request handlers depend on: the server's state, set up by `create_app`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from fustgo.server.runs import RunManager
from fustgo.server.settings import ServerSettings
from fustgo.store.db import Store


@dataclass
class AppState:
    """One server's store, settings and runs (on `app.state.fustgo`)."""

    settings: ServerSettings
    store: Store
    runs: RunManager


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.fustgo
    return state


def get_runs(request: Request) -> RunManager:
    return get_state(request).runs


ServerState = Annotated[AppState, Depends(get_state)]
Runs = Annotated[RunManager, Depends(get_runs)]
