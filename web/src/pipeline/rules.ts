/**
 * What the canvas may do to the graph: connection rules (`canConnect`) and the editing
 * operations, all pure (a new graph each time, `path`s recomputed from the structure so
 * diagnostics and stats stay keyed right). A graph that is not a complete pipeline yet is
 * allowed; `graphProblems` says what is missing.
 */
import type { NodeKind, PipelineEdge, PipelineGraph, PipelineNode, XY } from "./model";
import { assemble, type GraphProblem } from "./structure";
import { edgeId, newNodeId } from "./yaml";

export type { GraphProblem } from "./structure";

export interface ConnectCheck {
  ok: boolean;
  /** English reason; `code` is the i18n key under `pipeline:rules.` */
  reason?: string;
  code?: string;
}

const refuse = (code: string, reason: string): ConnectCheck => ({ ok: false, code, reason });

/** A branching output (its outgoing edges are cases / fan-out targets). */
export const isBranching = (node: PipelineNode | undefined) => !!node && node.kind === "output" && (node.plugin === "switch" || node.plugin === "broker");

function reaches(graph: PipelineGraph, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const edge of graph.edges) if (edge.source === id) stack.push(edge.target);
  }
  return false;
}

/** Whether an edge source → target may be drawn. */
export function canConnect(graph: PipelineGraph, sourceId: string, targetId: string): ConnectCheck {
  const source = graph.nodes.find((node) => node.id === sourceId);
  const target = graph.nodes.find((node) => node.id === targetId);
  if (!source || !target) return refuse("unknown_node", "unknown node");
  if (sourceId === targetId) return refuse("self_loop", "a block cannot lead to itself");
  if (target.kind === "input") return refuse("into_input", "nothing can lead into an input");
  if (source.kind === "output" && !isBranching(source)) return refuse("from_output", "an output is the end of the pipeline");
  if (graph.edges.some((edge) => edge.source === sourceId && edge.target === targetId)) return refuse("duplicate", "these blocks are already connected");
  if (source.plugin === "broker" && target.kind !== "output") return refuse("broker_to_processor", "a broker leads only to outputs");
  if (!isBranching(source) && graph.edges.some((edge) => edge.source === sourceId))
    return refuse("one_outgoing", `\`${source.plugin || source.kind}\` already leads somewhere; records flow in one chain`);
  if (graph.edges.some((edge) => edge.target === targetId)) return refuse("one_incoming", `\`${target.plugin || target.kind}\` already has an incoming connection`);
  if (reaches(graph, targetId, sourceId)) return refuse("cycle", "this connection would make a loop");
  return { ok: true };
}

/** The graph with every node's `path` recomputed from its structure. */
export function reindexPaths(graph: PipelineGraph): PipelineGraph {
  const { paths } = assemble(graph);
  let changed = false;
  const nodes = graph.nodes.map((node) => {
    const path = paths.get(node.id) ?? node.path;
    if (path === node.path) return node;
    changed = true;
    return { ...node, path };
  });
  return changed ? { ...graph, nodes } : graph;
}

/** What keeps the graph from being a complete pipeline (empty when it is one). */
export function graphProblems(graph: PipelineGraph): GraphProblem[] {
  return assemble(graph).problems;
}

/** Adds a block; `id` defaults to a fresh one (the new node is the graph's last). */
export function addNode(graph: PipelineGraph, kind: NodeKind, plugin: string, position: XY, id?: string, config: Record<string, unknown> = {}): PipelineGraph {
  const node: PipelineNode = {
    id: id ?? newNodeId(kind, graph.nodes.map((item) => item.id)),
    kind,
    plugin,
    config,
    path: "",
    position,
  };
  return reindexPaths({ ...graph, nodes: [...graph.nodes, node] });
}

/** Removes blocks and their edges; a removed processor's neighbours are joined again (the
 *  incoming edge's condition carries over), so deleting a step keeps the chain whole. */
export function removeNodes(graph: PipelineGraph, ids: string[]): PipelineGraph {
  const gone = new Set(ids);
  let edges = graph.edges;
  for (const node of graph.nodes) {
    if (!gone.has(node.id) || node.kind !== "processor") continue;
    const into = edges.filter((edge) => edge.target === node.id);
    const out = edges.filter((edge) => edge.source === node.id);
    edges = edges.filter((edge) => edge.source !== node.id && edge.target !== node.id);
    if (into.length === 1 && out.length === 1 && into[0].source !== out[0].target) {
      const { source } = into[0];
      const { target } = out[0];
      if (!edges.some((edge) => edge.source === source && edge.target === target)) {
        // Stays at the incoming edge's place: a switch's cases keep their order.
        const joined: PipelineEdge = { ...into[0], id: edgeId(source, target), target };
        const at = graph.edges.indexOf(into[0]);
        const before = graph.edges.slice(0, at).filter((edge) => edges.includes(edge)).length;
        edges = [...edges.slice(0, before), joined, ...edges.slice(before)];
      }
    }
  }
  edges = edges.filter((edge) => !gone.has(edge.source) && !gone.has(edge.target));
  return reindexPaths({ ...graph, nodes: graph.nodes.filter((node) => !gone.has(node.id)), edges });
}

/** Draws source → target if `canConnect` allows it; else returns `graph` itself. An edge out
 *  of a `switch` gets `condition` (or `default: true`). */
export function connect(graph: PipelineGraph, source: string, target: string, opts: { condition?: string; default?: boolean } = {}): PipelineGraph {
  if (!canConnect(graph, source, target).ok) return graph;
  const from = graph.nodes.find((node) => node.id === source);
  const edge: PipelineEdge = { id: edgeId(source, target), source, target };
  if (from?.plugin === "switch" && from.kind === "output") {
    const hasDefault = graph.edges.some((item) => item.source === source && item.default);
    if (opts.default && !hasDefault) edge.default = true;
    else edge.condition = opts.condition ?? "";
  }
  return reindexPaths({ ...graph, edges: [...graph.edges, edge] });
}

export function disconnect(graph: PipelineGraph, id: string): PipelineGraph {
  return reindexPaths({ ...graph, edges: graph.edges.filter((edge) => edge.id !== id) });
}

/** Replaces a block's fields (without `type`). */
export function updateNodeConfig(graph: PipelineGraph, id: string, config: Record<string, unknown>): PipelineGraph {
  return { ...graph, nodes: graph.nodes.map((node) => (node.id === id ? { ...node, config } : node)) };
}

/** Changes a block's plugin (`type`); its fields are kept unless `config` is given. */
export function setNodePlugin(graph: PipelineGraph, id: string, plugin: string, config?: Record<string, unknown>): PipelineGraph {
  return reindexPaths({ ...graph, nodes: graph.nodes.map((node) => (node.id === id ? { ...node, plugin, config: config ?? node.config } : node)) });
}

/** Sets a switch edge's case condition; `null` makes it the default branch (one per switch). */
export function setEdgeCondition(graph: PipelineGraph, id: string, condition: string | null): PipelineGraph {
  const target = graph.edges.find((edge) => edge.id === id);
  if (!target) return graph;
  const edges = graph.edges.map((edge) => {
    if (edge.id === id) {
      const { condition: _c, default: _d, ...rest } = edge;
      return condition === null ? { ...rest, default: true } : { ...rest, condition };
    }
    // Only one default: the one it replaces becomes a case without a condition.
    if (condition === null && edge.source === target.source && edge.default) {
      const { default: _d, ...rest } = edge;
      return { ...rest, condition: "" };
    }
    return edge;
  });
  return reindexPaths({ ...graph, edges });
}

export function moveNode(graph: PipelineGraph, id: string, position: XY): PipelineGraph {
  return { ...graph, nodes: graph.nodes.map((node) => (node.id === id ? { ...node, position } : node)) };
}

/** Replaces the document-level keys (name, settings, dead_letter, …). */
export function updateDocument(graph: PipelineGraph, document: Record<string, unknown>): PipelineGraph {
  return { ...graph, document };
}
