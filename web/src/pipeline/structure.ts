/**
 * The graph's file structure: walks a PipelineGraph the way the YAML nests it (input →
 * processors → output, switch cases/default, broker outputs) and returns the document as a
 * plain object, every placed node's path, and what keeps the graph from being a complete
 * pipeline. yaml.ts serializes the object; rules.ts uses the paths and the problems.
 */
import type { PipelineEdge, PipelineGraph, PipelineNode } from "./model";

/** Where a node that is in no block of the file is listed (`detached[0]`, …). */
export const DETACHED_PREFIX = "detached";

export type ProblemCode =
  | "no_input"
  | "extra_input"
  | "no_output"
  | "not_connected"
  | "chain_without_output"
  | "case_without_condition"
  | "branch_without_output"
  | "invalid_edge"
  | "no_plugin";

/** Why the graph is not (yet) a complete pipeline. `message` is English; the console
 *  translates `pipeline:problems.<code>` with `params`. */
export interface GraphProblem {
  code: ProblemCode;
  message: string;
  params: Record<string, string>;
  nodeId?: string;
  edgeId?: string;
}

export interface Assembled {
  /** The whole file as a plain object (what `yaml.parse` of the serialized file gives). */
  document: Record<string, unknown>;
  /** Node id → path, for the nodes placed in the file. */
  paths: Map<string, string>;
  problems: GraphProblem[];
}

/** Keys written before input/pipeline/output when the file is written from scratch. */
const HEADER_KEYS = new Set(["name", "description", "version", "labels", "settings", "variables", "connections"]);
/** Keys of a branching output that are drawn as edges, not kept in its config. */
export const CHILD_KEYS: Record<string, string[]> = { switch: ["cases", "default"], broker: ["outputs"] };

export function nodeLabel(node: PipelineNode): string {
  return node.plugin || node.kind;
}

function block(node: PipelineNode): Record<string, unknown> {
  // `type` first: the file reads (and validates) best that way.
  return { type: node.plugin, ...node.config };
}

/** Builds the file object from the graph. */
export function assemble(graph: PipelineGraph): Assembled {
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const outgoing = new Map<string, PipelineEdge[]>();
  const incoming = new Map<string, PipelineEdge[]>();
  for (const edge of graph.edges) {
    if (!byId.has(edge.source) || !byId.has(edge.target)) continue;
    (outgoing.get(edge.source) ?? outgoing.set(edge.source, []).get(edge.source)!).push(edge);
    (incoming.get(edge.target) ?? incoming.set(edge.target, []).get(edge.target)!).push(edge);
  }
  const paths = new Map<string, string>();
  const problems: GraphProblem[] = [];
  const problem = (code: ProblemCode, message: string, params: Record<string, string>, ids: { nodeId?: string; edgeId?: string } = {}) =>
    problems.push({ code, message, params, ...ids });
  const outs = (id: string) => outgoing.get(id) ?? [];
  const isBranching = (node: PipelineNode) => node.kind === "output" && node.plugin in CHILD_KEYS;

  /** Processors from `start` on, until an output (or a dead end). */
  const chainFrom = (start: PipelineNode | undefined, prefix: string) => {
    const processors: Record<string, unknown>[] = [];
    let node = start;
    let last: PipelineNode | undefined;
    const seen = new Set<string>();
    while (node && node.kind === "processor" && !seen.has(node.id) && !paths.has(node.id)) {
      seen.add(node.id);
      paths.set(node.id, `${prefix}[${processors.length}]`);
      processors.push(block(node));
      last = node;
      const next = outs(node.id).map((edge) => byId.get(edge.target)!).find((target) => !paths.has(target.id));
      node = next;
    }
    const output = node && node.kind === "output" && !paths.has(node.id) ? node : undefined;
    return { processors, output, last };
  };

  const buildOutput = (node: PipelineNode, path: string): Record<string, unknown> => {
    paths.set(node.id, path);
    const result = block(node);
    if (node.plugin === "switch") {
      const cases: Record<string, unknown>[] = [];
      let fallback: Record<string, unknown> | undefined;
      for (const edge of outs(node.id)) {
        const target = byId.get(edge.target)!;
        if (paths.has(target.id)) continue;
        const prefix = edge.default ? `${path}.default` : `${path}.cases[${cases.length}]`;
        const branch = buildBranch(target, prefix, edge);
        if (edge.default) fallback = branch;
        else {
          if (!edge.condition)
            problem("case_without_condition", `case ${cases.length + 1} of \`switch\` has no condition`, { index: String(cases.length + 1) }, { edgeId: edge.id });
          cases.push({ condition: edge.condition ?? "", ...branch });
        }
      }
      result.cases = cases;
      if (fallback) result.default = fallback;
    } else if (node.plugin === "broker") {
      const outputs: Record<string, unknown>[] = [];
      for (const edge of outs(node.id)) {
        const target = byId.get(edge.target)!;
        if (paths.has(target.id)) continue;
        if (target.kind !== "output") {
          problem("invalid_edge", `\`broker\` can only lead to outputs, not to \`${nodeLabel(target)}\``, { source: "broker", target: nodeLabel(target) }, { edgeId: edge.id });
          continue;
        }
        outputs.push(buildOutput(target, `${path}.outputs[${outputs.length}]`));
      }
      result.outputs = outputs;
    } else {
      for (const edge of outs(node.id)) {
        problem("invalid_edge", `output \`${nodeLabel(node)}\` cannot lead anywhere`, { source: nodeLabel(node), target: nodeLabel(byId.get(edge.target)!) }, { edgeId: edge.id });
      }
    }
    return result;
  };

  const buildBranch = (target: PipelineNode, prefix: string, edge: PipelineEdge): Record<string, unknown> => {
    const branch: Record<string, unknown> = {};
    const { processors, output, last } = chainFrom(target, `${prefix}.processors`);
    if (processors.length) branch.processors = processors;
    if (output) branch.output = buildOutput(output, `${prefix}.output`);
    else if (target.kind === "input") problem("invalid_edge", "an input cannot follow a switch", { source: "switch", target: "input" }, { edgeId: edge.id });
    else
      problem("branch_without_output", `the branch after \`${nodeLabel(last ?? target)}\` has no output`, { node: nodeLabel(last ?? target) }, { nodeId: (last ?? target).id });
    return branch;
  };

  // The main chain.
  const inputs = graph.nodes.filter((node) => node.kind === "input");
  const input = inputs.find((node) => outs(node.id).length > 0) ?? inputs[0];
  for (const extra of inputs) {
    if (extra !== input) problem("extra_input", `a pipeline has one input; \`${nodeLabel(extra)}\` is extra`, { node: nodeLabel(extra) }, { nodeId: extra.id });
  }
  if (!input) problem("no_input", "the pipeline has no input", {});
  let inputBlock: Record<string, unknown> | undefined;
  let processors: Record<string, unknown>[] = [];
  let mainOutput: PipelineNode | undefined;
  if (input) {
    paths.set(input.id, "input");
    inputBlock = block(input);
    const first = outs(input.id).map((edge) => byId.get(edge.target)!)[0];
    const chain = chainFrom(first, "pipeline.processors");
    processors = chain.processors;
    mainOutput = chain.output;
    if (!mainOutput && first && first.kind === "output" && !paths.has(first.id)) mainOutput = first;
    if (!mainOutput && chain.last)
      problem("chain_without_output", `processor \`${nodeLabel(chain.last)}\` is not connected to an output`, { node: nodeLabel(chain.last) }, { nodeId: chain.last.id });
  }
  if (!mainOutput) {
    // An output nothing leads to yet is still the file's output.
    const branchTargets = new Set(graph.edges.filter((edge) => byId.get(edge.source) && isBranching(byId.get(edge.source)!)).map((edge) => edge.target));
    mainOutput = graph.nodes.find((node) => node.kind === "output" && !branchTargets.has(node.id) && !(incoming.get(node.id)?.length))
      ?? graph.nodes.find((node) => node.kind === "output" && !branchTargets.has(node.id));
    if (mainOutput && input) problem("not_connected", `output \`${nodeLabel(mainOutput)}\` is not connected`, { kind: "output", node: nodeLabel(mainOutput) }, { nodeId: mainOutput.id });
  }
  if (!mainOutput) problem("no_output", "the pipeline has no output", {});
  const outputBlock = mainOutput ? buildOutput(mainOutput, "output") : undefined;

  // Nodes in no block.
  let detached = 0;
  for (const node of graph.nodes) {
    if (!node.plugin) problem("no_plugin", `a ${node.kind} has no plugin chosen`, { kind: node.kind }, { nodeId: node.id });
    if (paths.has(node.id)) continue;
    paths.set(node.id, `${DETACHED_PREFIX}[${detached++}]`);
    problem("not_connected", `${node.kind} \`${nodeLabel(node)}\` is not connected`, { kind: node.kind, node: nodeLabel(node) }, { nodeId: node.id });
  }

  // The file: header keys, then input/pipeline/output, then the rest (dead_letter, …).
  const document: Record<string, unknown> = {};
  const rest = graph.document.pipeline;
  const pipelineRest = typeof rest === "object" && rest !== null && !Array.isArray(rest) ? (rest as Record<string, unknown>) : undefined;
  // `pipeline:` with no processors stays as the file had it (absent, or its other keys).
  const pipeline = processors.length || pipelineRest ? { processors, ...(pipelineRest ?? {}) } : rest;
  let placed = false;
  const place = () => {
    if (placed) return;
    placed = true;
    if (inputBlock) document.input = inputBlock;
    if (pipeline !== undefined) document.pipeline = pipeline;
    if (outputBlock) document.output = outputBlock;
  };
  for (const [key, value] of Object.entries(graph.document)) {
    if (key === "pipeline" || key === "input" || key === "output") continue;
    if (!HEADER_KEYS.has(key)) place();
    document[key] = value;
  }
  place();
  return { document, paths, problems };
}
