/**
 * Auto-layout of the pipeline graph, left to right (dagre): used when a node has no saved
 * position (a file opened without a flow diagram, a block added in the YAML) and by the
 * canvas's "tidy up" action.
 */
import dagre from "@dagrejs/dagre";
import type { PipelineGraph, XY } from "./model";

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 72;

/** Top-left positions (React Flow's convention) of every node, laid out left → right. */
export function layoutPositions(graph: PipelineGraph, options: { rankSep?: number; nodeSep?: number } = {}): Map<string, XY> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", ranksep: options.rankSep ?? 80, nodesep: options.nodeSep ?? 40, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(graph.nodes.map((node) => node.id));
  for (const node of graph.nodes) g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of graph.edges) if (ids.has(edge.source) && ids.has(edge.target)) g.setEdge(edge.source, edge.target);
  dagre.layout(g);
  const positions = new Map<string, XY>();
  for (const node of graph.nodes) {
    const laid = g.node(node.id);
    positions.set(node.id, { x: Math.round(laid.x - NODE_WIDTH / 2), y: Math.round(laid.y - NODE_HEIGHT / 2) });
  }
  return positions;
}

/** The graph with every node at its auto-layout position. */
export function autoLayout(graph: PipelineGraph): PipelineGraph {
  const positions = layoutPositions(graph);
  return { ...graph, nodes: graph.nodes.map((node) => ({ ...node, position: positions.get(node.id) ?? node.position })) };
}
