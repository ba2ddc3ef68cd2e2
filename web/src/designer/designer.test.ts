import { describe, expect, it } from "vitest";
import { statsFor } from "./canvas/liveStats";
import { recordsAt, type RunPreview } from "./panel/previewRecords";
import { childKeys, nodeSummary } from "./pluginLook";
import { idleRun } from "./state/useLiveRun";

const shown = (records: number) => ({ records, columns: [{ name: "a", type: "int64" }], rows: [[1]] });

describe("recordsAt", () => {
  const result: RunPreview = {
    input: { component: "input", ...shown(5) },
    stages: [{ component: "pipeline.processors[0]", ...shown(3) }],
    output: { component: "output", ...shown(2), leaves: { "output.cases[0].output": shown(1) } },
  };
  it("finds the input, a processor, the output and a branch's output", () => {
    expect(recordsAt(result, "input")?.records).toBe(5);
    expect(recordsAt(result, "pipeline.processors[0]")?.records).toBe(3);
    expect(recordsAt(result, "output")?.records).toBe(2);
    expect(recordsAt(result, "output.cases[0].output")?.records).toBe(1);
  });
  it("is null where nothing was captured", () => {
    expect(recordsAt(result, "output.default.output")).toBeNull();
  });
});

describe("statsFor", () => {
  it("uses per-stage numbers when the engine sends them", () => {
    const run = { ...idleRun("x"), stages: { "pipeline.processors[0]": { recordsOut: 7, recordsPerSecond: 3 } } };
    expect(statsFor(run, "pipeline.processors[0]", "processor")?.recordsOut).toBe(7);
    expect(statsFor(run, "input", "input")).toBeUndefined();
  });
  it("falls back to the run's totals on the input and the output", () => {
    const run = { ...idleRun("x"), recordsRead: 10, recordsWritten: 8, recordsFailed: 2, recordsPerSecond: 5 };
    expect(statsFor(run, "input", "input")).toEqual({ recordsOut: 10, recordsPerSecond: 5 });
    expect(statsFor(run, "output", "output")?.recordsFailed).toBe(2);
    expect(statsFor(run, "pipeline.processors[0]", "processor")).toBeUndefined();
    expect(statsFor(null, "input", "input")).toBeUndefined();
  });
});

describe("nodeSummary", () => {
  it("shows the condition, the table, the paths or the mappings", () => {
    expect(nodeSummary({ condition: "a > 1" })).toBe("a > 1");
    expect(nodeSummary({ write: { table: "orders" }, connection: { database: "x.db" } })).toBe("orders");
    expect(nodeSummary({ paths: ["a.csv", "b.csv"] })).toBe("a.csv +1");
    expect(nodeSummary({ field_mappings: { a: "b" } })).toBe("a→b");
    expect(nodeSummary({})).toBe("");
  });
  it("knows which keys of a forking output are drawn as nodes", () => {
    expect(childKeys("switch")).toEqual(["cases", "default"]);
    expect(childKeys("broker")).toEqual(["outputs"]);
    expect(childKeys("sqlite")).toEqual([]);
  });
});
