// @vitest-environment node
// Connection rules and the canvas's editing operations.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { PipelineGraph } from "./model";
import { addNode, canConnect, connect, disconnect, graphProblems, moveNode, removeNodes, setEdgeCondition, updateNodeConfig } from "./rules";
import { graphToYaml, yamlToGraph } from "./yaml";

const text = `# a chain
name: t
input:
  type: csv
  paths: [a.csv]
pipeline:
  processors:
    - type: filter   # keep paid
      condition: "status = 'paid'"
    - type: mapping
      drop: [status]
output:
  type: json
  path: out.jsonl
`;
const at = (graph: PipelineGraph, path: string) => graph.nodes.find((node) => node.path === path)!.id;

describe("canConnect", () => {
  const { graph } = yamlToGraph(text);
  const input = at(graph, "input");
  const filter = at(graph, "pipeline.processors[0]");
  const mapping = at(graph, "pipeline.processors[1]");
  const output = at(graph, "output");

  it("refuses edges into the input", () => {
    expect(canConnect(graph, filter, input)).toMatchObject({ ok: false, code: "into_input" });
  });
  it("refuses self loops and cycles", () => {
    expect(canConnect(graph, filter, filter)).toMatchObject({ ok: false, code: "self_loop" });
    const open = disconnect(graph, graph.edges.find((edge) => edge.source === mapping)!.id);
    expect(canConnect(open, mapping, filter)).toMatchObject({ ok: false });
    const freeFilter = disconnect(open, graph.edges.find((edge) => edge.target === filter)!.id);
    expect(canConnect(freeFilter, mapping, filter)).toMatchObject({ ok: false, code: "cycle" });
  });
  it("refuses a second outgoing edge in a chain and edges out of a plain output", () => {
    expect(canConnect(graph, input, mapping).ok).toBe(false);
    const added = addNode(graph, "output", "csv", { x: 0, y: 0 }, "extra");
    expect(canConnect(added, output, "extra")).toMatchObject({ ok: false, code: "from_output" });
    expect(canConnect(added, mapping, "extra")).toMatchObject({ ok: false, code: "one_outgoing" });
  });
  it("lets a switch fan out and a broker reach only outputs", () => {
    let g = addNode(graph, "output", "switch", { x: 0, y: 0 }, "sw");
    g = addNode(g, "processor", "filter", { x: 0, y: 0 }, "p");
    g = addNode(g, "output", "json", { x: 0, y: 0 }, "o1");
    g = addNode(g, "output", "broker", { x: 0, y: 0 }, "br");
    expect(canConnect(g, "sw", "p").ok).toBe(true);
    expect(canConnect(g, "sw", "o1").ok).toBe(true);
    expect(canConnect(g, "br", "p")).toMatchObject({ ok: false, code: "broker_to_processor" });
    expect(canConnect(g, "br", "o1").ok).toBe(true);
  });
});

describe("editing operations", () => {
  const { graph } = yamlToGraph(text);
  const filter = at(graph, "pipeline.processors[0]");
  const mapping = at(graph, "pipeline.processors[1]");

  it("removing a processor joins the chain around it", () => {
    const next = removeNodes(graph, [filter]);
    expect(next.nodes.find((node) => node.id === mapping)!.path).toBe("pipeline.processors[0]");
    expect(graphProblems(next)).toEqual([]);
    const written = graphToYaml(next, text);
    expect(parse(written).pipeline.processors).toEqual([{ type: "mapping", drop: ["status"] }]);
    expect(written).toContain("# a chain");
  });

  it("a dangling processor is reported and the rest still written", () => {
    let next = addNode(graph, "processor", "deduplicate", { x: 10, y: 10 }, "dd", { key: ["id"] });
    expect(next.nodes.find((node) => node.id === "dd")!.path).toBe("detached[0]");
    expect(graphProblems(next).map((problem) => problem.message)).toEqual(["processor `deduplicate` is not connected"]);
    expect(parse(graphToYaml(next, text))).toEqual(parse(text));
    // Insert it between mapping and output.
    const last = next.edges.find((edge) => edge.source === mapping)!;
    next = disconnect(next, last.id);
    expect(graphProblems(next).some((problem) => problem.code === "chain_without_output")).toBe(true);
    next = connect(next, mapping, "dd");
    next = connect(next, "dd", last.target);
    expect(graphProblems(next)).toEqual([]);
    expect(next.nodes.find((node) => node.id === "dd")!.path).toBe("pipeline.processors[2]");
    const written = graphToYaml(next, text);
    expect(parse(written).pipeline.processors[2]).toEqual({ type: "deduplicate", key: ["id"] });
    expect(written).toContain("# keep paid");
  });

  it("switch cases follow edge order and conditions", () => {
    let g = yamlToGraph("input: {type: csv, paths: [a.csv]}\noutput: {type: switch}\n").graph;
    const sw = at(g, "output");
    g = addNode(g, "output", "json", { x: 0, y: 0 }, "a", { path: "a.jsonl" });
    g = addNode(g, "output", "json", { x: 0, y: 0 }, "b", { path: "b.jsonl" });
    g = connect(g, sw, "a", { condition: "x > 1" });
    g = connect(g, sw, "b");
    expect(graphProblems(g).map((problem) => problem.code)).toEqual(["case_without_condition"]);
    g = setEdgeCondition(g, g.edges.find((edge) => edge.target === "b")!.id, null);
    expect(graphProblems(g)).toEqual([]);
    expect(g.nodes.find((node) => node.id === "b")!.path).toBe("output.default.output");
    expect(parse(graphToYaml(g))).toEqual({
      input: { type: "csv", paths: ["a.csv"] },
      output: { type: "switch", cases: [{ condition: "x > 1", output: { type: "json", path: "a.jsonl" } }], default: { output: { type: "json", path: "b.jsonl" } } },
    });
  });

  it("is pure", () => {
    const before = JSON.stringify(graph);
    updateNodeConfig(graph, filter, { condition: "true" });
    moveNode(graph, filter, { x: 1, y: 2 });
    removeNodes(graph, [filter]);
    expect(JSON.stringify(graph)).toBe(before);
  });
});
