// @vitest-environment node
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Diagnostic } from "../api/jobs";
import { fieldErrors, mapDiagnostics, worstSeverity } from "./diagnostics";
import { yamlToGraph } from "./yaml";

const text = readFileSync(fileURLToPath(new URL("../../../examples/branch-flow/branch-flow.yaml", import.meta.url)), "utf8");
const { graph } = yamlToGraph(text);
const id = (path: string) => graph.nodes.find((node) => node.path === path)!.id;
const diag = (path: string, severity = "error"): Diagnostic => ({ level: severity, severity, path, file: null, line: 1, column: 1, message: `bad ${path}`, hint: null });

describe("mapDiagnostics", () => {
  it("maps to the longest node path and the field inside it", () => {
    const mapped = mapDiagnostics(graph, [
      diag("pipeline.processors[0].source_field"),
      diag("output.cases[0].output.write.mode"),
      diag("output.cases[1].processors[2]"),
      diag("input", "warning"),
      diag("output.cases[1].condition"),
      diag("settings.error_limit"),
      diag("name"),
      diag("dead_letter.path"),
    ]);
    expect(mapped.byNode.get(id("pipeline.processors[0]"))!.map((entry) => entry.field)).toEqual(["source_field"]);
    expect(mapped.byNode.get(id("output.cases[0].output"))!.map((entry) => entry.field)).toEqual(["write.mode"]);
    expect(mapped.byNode.get(id("output.cases[1].processors[2]"))!.map((entry) => entry.field)).toEqual([""]);
    expect(worstSeverity(mapped.byNode.get(id("input")))).toBe("warning");
    const caseEntry = mapped.byNode.get(id("output"))![0];
    expect(caseEntry.field).toBe("cases[1].condition");
    const edge = graph.edges.find((item) => item.source === id("output") && item.condition === "type = 'user'")!;
    expect(caseEntry.edgeId).toBe(edge.id);
    expect(mapped.byEdge.get(edge.id)).toHaveLength(1);
    expect(mapped.document.map((item) => item.path)).toEqual(["settings.error_limit", "name", "dead_letter.path"]);
    expect(fieldErrors(mapped.byNode.get(id("output.cases[0].output")))).toEqual({ "write.mode": "bad output.cases[0].output.write.mode" });
  });

  it("does not match a path prefix in the middle of a segment", () => {
    const mapped = mapDiagnostics(graph, [diag("inputs.x"), diag("pipeline.processors[1]0")]);
    expect(mapped.byNode.size).toBe(0);
    expect(mapped.document).toHaveLength(2);
  });
});
