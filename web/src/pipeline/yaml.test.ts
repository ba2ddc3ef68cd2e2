// @vitest-environment node
// Round trips of every example pipeline through the graph, and in-place edits that keep the
// rest of the file (comments, order, quoting) as it was.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { graphToDiagram, graphToYaml, yamlToGraph } from "./yaml";
import { updateNodeConfig } from "./rules";

const examples = fileURLToPath(new URL("../../../examples", import.meta.url));

function pipelineFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return pipelineFiles(path);
    // `*.test.yaml` are `fustgo test` specs (a `pipeline:` file reference and `tests:`).
    return name.endsWith(".yaml") && !name.endsWith(".test.yaml") ? [path] : [];
  });
}

const files = pipelineFiles(examples);

describe("examples round trip", () => {
  it("finds the examples", () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files.map((file) => [file.slice(examples.length + 1), file]))("%s", (_name, file) => {
    const text = readFileSync(file, "utf8");
    const { graph, errors } = yamlToGraph(text);
    expect(errors).toEqual([]);
    expect(graph.nodes.length).toBeGreaterThanOrEqual(2);
    // With the previous text: the very same text.
    expect(graphToYaml(graph, text)).toBe(text);
    // Written afresh: the same data.
    const fresh = graphToYaml(graph);
    expect(parse(fresh)).toEqual(parse(text));
    // And re-read with the first graph: same ids at the same paths.
    const again = yamlToGraph(fresh, { graph }).graph;
    expect(again.nodes.map((node) => [node.id, node.path])).toEqual(graph.nodes.map((node) => [node.id, node.path]));
  });
});

describe("branch-flow structure", () => {
  const text = readFileSync(join(examples, "branch-flow/branch-flow.yaml"), "utf8");
  const { graph } = yamlToGraph(text);
  const byPath = (path: string) => graph.nodes.find((node) => node.path === path)!;

  it("has the switch's nodes at their paths", () => {
    expect(graph.nodes.map((node) => node.path)).toEqual([
      "input",
      "pipeline.processors[0]",
      "pipeline.processors[1]",
      "pipeline.processors[2]",
      "output",
      "output.cases[0].processors[0]",
      "output.cases[0].processors[1]",
      "output.cases[0].processors[2]",
      "output.cases[0].output",
      "output.cases[1].processors[0]",
      "output.cases[1].processors[1]",
      "output.cases[1].processors[2]",
      "output.cases[1].output",
      "output.default.output",
    ]);
    expect(byPath("output").config).toEqual({});
    expect(byPath("output.cases[0].processors[1]").config.key).toBe("customer_id");
  });

  it("puts conditions on the switch's edges", () => {
    const sw = byPath("output").id;
    const out = graph.edges.filter((edge) => edge.source === sw);
    expect(out.map((edge) => [edge.target, edge.condition, edge.default])).toEqual([
      [byPath("output.cases[0].processors[0]").id, "type = 'order'", undefined],
      [byPath("output.cases[1].processors[0]").id, "type = 'user'", undefined],
      [byPath("output.default.output").id, undefined, true],
    ]);
  });

  it("keeps positions from the diagram by path, else lays out left to right", () => {
    const diagram = graphToDiagram(graph);
    expect(diagram.positions.input).toBeDefined();
    expect(diagram.positions.output.x).toBeGreaterThan(diagram.positions.input.x);
    const moved = { ...diagram, positions: { ...diagram.positions, input: { x: -500, y: 7 } } };
    const reread = yamlToGraph(text, { diagram: moved }).graph;
    expect(reread.nodes[0].position).toEqual({ x: -500, y: 7 });
  });
});

describe("broker", () => {
  const text = `input: {type: csv, paths: [a.csv]}
output:
  type: broker
  outputs:
    - type: json
      path: a.jsonl
    - type: switch
      cases:
        - condition: "x > 1"
          output: {type: csv, path: b.csv}
`;
  it("draws each output and nested switches", () => {
    const { graph } = yamlToGraph(text);
    expect(graph.nodes.map((node) => node.path)).toEqual([
      "input",
      "output",
      "output.outputs[0]",
      "output.outputs[1]",
      "output.outputs[1].cases[0].output",
    ]);
    expect(graph.edges.length).toBe(4);
    expect(graph.edges[3].condition).toBe("x > 1");
    expect(graphToYaml(graph, text)).toBe(text);
    expect(parse(graphToYaml(graph))).toEqual(parse(text));
  });
});

describe("editing", () => {
  const text = readFileSync(join(examples, "mysql-to-postgresql.yaml"), "utf8");

  it("changes only the edited line and keeps comments", () => {
    const { graph } = yamlToGraph(text);
    const output = graph.nodes.find((node) => node.path === "output")!;
    const write = output.config.write as Record<string, unknown>;
    const edited = updateNodeConfig(graph, output.id, { ...output.config, write: { ...write, mode: "insert" } });
    const result = graphToYaml(edited, text);
    const before = text.split("\n");
    const after = result.split("\n");
    expect(after.length).toBe(before.length);
    const changed = before.map((line, index) => [line, after[index]]).filter(([a, b]) => a !== b);
    expect(changed).toEqual([["    mode: upsert", "    mode: insert"]]);
    expect(result).toContain("# MySQL/MariaDB → PostgreSQL");
  });

  it("keeps a quoted string's quotes when its value changes", () => {
    const source = 'input: {type: csv, paths: ["a.csv"]}  # the input\noutput: {type: json, path: "o.jsonl"}\n';
    const { graph } = yamlToGraph(source);
    const out = graph.nodes[1];
    const result = graphToYaml(updateNodeConfig(graph, out.id, { path: "p.jsonl" }), source);
    expect(result).toBe('input: {type: csv, paths: ["a.csv"]}  # the input\noutput: {type: json, path: "p.jsonl"}\n');
  });

  it("reports YAML syntax errors with line and column and keeps the previous graph", () => {
    const { graph } = yamlToGraph(text);
    const bad = yamlToGraph("input:\n  type: csv\n   paths: [a\n", { graph });
    expect(bad.errors.length).toBeGreaterThan(0);
    expect(bad.errors[0].line).toBeGreaterThanOrEqual(2);
    expect(bad.errors[0].column).toBeGreaterThanOrEqual(1);
    expect(bad.graph).toBe(graph);
  });

  it("reuses ids by path and plugin when the text changes", () => {
    const first = yamlToGraph(text).graph;
    // A processor inserted before the filter: the filter moves to [1], keeping its id.
    const changed = text.replace("  processors:\n", "  processors:\n    - type: deduplicate\n      key: [id]\n");
    const second = yamlToGraph(changed, { graph: first }).graph;
    const filterBefore = first.nodes.find((node) => node.plugin === "filter")!;
    const filterAfter = second.nodes.find((node) => node.plugin === "filter")!;
    expect(filterAfter.id).toBe(filterBefore.id);
    expect(filterAfter.path).toBe("pipeline.processors[1]");
    expect(filterAfter.position).toEqual(filterBefore.position);
    expect(second.nodes.find((node) => node.plugin === "deduplicate")!.id).not.toBe(filterBefore.id);
  });
});
