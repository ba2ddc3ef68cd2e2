"""`job_progress` events of a running job carry each stage's counters and rate (by its
path in the pipeline file) and how full the queues between stages are, for the
designer's live graph."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.test_ws import clients, create_job, live_server, receive, receive_until, send

pytestmark = pytest.mark.integration

ROUTED = """\
name: routed
settings: {batch_size: 50, error_limit: {records: 10000}}
input:
  type: generate
  count: 1500
  rate_per_sec: 2000
  fields:
    id: {kind: sequence, start: 1}
pipeline:
  processors:
    - {type: filter, condition: "id > 100"}
output:
  type: switch
  cases:
    - condition: "id <= 800"
      output: {type: json, path: low.jsonl}
    - condition: "id > 800"
      processors:
        - {type: filter, condition: "id <= 1400"}
      output: {type: json, path: high.jsonl}
"""

PATHS = {
    "input",
    "pipeline.processors[0]",
    "output",
    "output.cases[0].output",
    "output.cases[1].processors[0]",
    "output.cases[1].output",
}


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("ws-stages")) as found:
        yield found


def test_progress_carries_stages_and_queues(address: str) -> None:
    async def scenario() -> None:
        async with clients(address) as (http, ws):
            job_id = await create_job(http, ROUTED, "routed")
            await send(ws, {"type": "subscribe", "job_id": job_id})
            assert (await receive(ws))["type"] == "subscribed"
            await http.post(f"/api/v1/jobs/{job_id}/start")

            def final(message: dict[str, Any]) -> bool:
                return message["type"] == "job_progress" and message["data"]["final"]

            events = await receive_until(ws, final)
            live = [e["data"] for e in events if e["type"] == "job_progress"][:-1]
            assert len(live) >= 3
            for data in live:
                assert set(data["stages"]) == PATHS
                for stage in data["stages"].values():
                    assert set(stage) == {
                        "records_in", "records_out", "records_failed", "records_per_second",
                    }  # fmt: skip
                assert set(data["queues"]) == {"pipeline.processors[0]", "output"}
                for queue in data["queues"].values():
                    assert queue["depth"] >= 0 and queue["capacity"] > 0
                assert data["queues"]["output"]["unit"] == "records"
                assert data["queues"]["pipeline.processors[0]"]["unit"] == "batches"
            # Counters only grow; some interval saw records flow into the filter.
            reads = [d["stages"]["input"]["records_out"] for d in live]
            assert reads == sorted(reads)
            assert max(d["stages"]["pipeline.processors[0]"]["records_per_second"] for d in live)
            assert all(d["stages"]["input"]["records_out"] == d["records_read"] for d in live)
            end = events[-1]["data"]["stages"]
            assert end["pipeline.processors[0]"]["records_out"] == 1400
            assert end["output"]["records_out"] == 1400
            assert end["output.cases[0].output"]["records_out"] == 700
            assert end["output.cases[1].processors[0]"]["records_in"] == 700
            assert end["output.cases[1].output"]["records_out"] == 600

    asyncio.run(scenario())
