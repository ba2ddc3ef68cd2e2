"""The server's monitoring in the background: metrics samples of every run, alert rules
evaluated every `evaluate_every` seconds, old samples thinned and purged every
`prune_every`. Started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from fustgo.server.alerts.evaluator import AlertEvaluator
from fustgo.server.metrics.recorder import MetricsSettings, prune_samples, recorder_factory
from fustgo.server.runs import RunManager
from fustgo.server.settings import ServerSettings
from fustgo.store.db import Store
from fustgo.store.tables import utc_now

log = logging.getLogger(__name__)

EVALUATE_EVERY_SECONDS = 30.0
PRUNE_EVERY_SECONDS = 3600.0


class Monitor:
    """Owns the background task; `start` once the store is migrated, `stop` before it closes."""

    def __init__(
        self,
        store: Store,
        runs: RunManager,
        settings: ServerSettings,
        *,
        metrics: MetricsSettings | None = None,
        evaluate_every: float = EVALUATE_EVERY_SECONDS,
        prune_every: float = PRUNE_EVERY_SECONDS,
    ) -> None:
        self.store = store
        self.metrics = metrics or MetricsSettings()
        self.evaluator = AlertEvaluator(store, disk_path=settings.base_dir)
        self.evaluate_every = evaluate_every
        self.prune_every = prune_every
        runs.observers.append(recorder_factory(store, self.metrics))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="fustgo monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        last_prune = -float("inf")
        while True:
            await asyncio.sleep(self.evaluate_every)
            try:
                await self.evaluator.evaluate()
            except Exception:  # a broken rule or store hiccup: log, try again next round
                log.exception("Evaluating alert rules failed.")
            if time.monotonic() - last_prune >= self.prune_every:
                last_prune = time.monotonic()
                try:
                    await asyncio.to_thread(self._prune)
                except Exception:
                    log.exception("Pruning metric samples failed.")

    def _prune(self) -> None:
        with self.store.session() as session:
            removed = prune_samples(session, utc_now(), self.metrics)
        if removed:
            log.info("Metrics: %d old sample(s) thinned out or purged.", removed)
