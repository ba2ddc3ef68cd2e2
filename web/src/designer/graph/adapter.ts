/**
 * The designer's one seam onto the graph operations of `pipeline/` (owned by the pipeline
 * helper): what the canvas and panels call, in the shapes they want (a new node's id back,
 * edges and nodes removed together, many moves at once, problems with a severity).
 */
import type { Diagnostic } from "../../api/jobs";
import { mapDiagnostics } from "../../pipeline/diagnostics";
import { autoLayout } from "../../pipeline/layout";
import type { NodeKind, PipelineGraph, XY } from "../../pipeline/model";
import * as rules from "../../pipeline/rules";
import type { GraphProblem } from "../../pipeline/structure";
import { newNodeId } from "../../pipeline/yaml";
import type { Problem, Severity } from "../types";

export { NODE_HEIGHT, NODE_WIDTH } from "../../pipeline/layout";
export { canConnect, connect, setEdgeCondition, setNodePlugin, updateDocument, updateNodeConfig } from "../../pipeline/rules";
export type { ConnectCheck } from "../../pipeline/rules";
export { asFlowDiagram, emptyGraph, graphToDiagram, graphToYaml, yamlToGraph } from "../../pipeline/yaml";
export type { ParseProblem } from "../../pipeline/yaml";

export const layoutGraph = autoLayout;

export function addNode(graph: PipelineGraph, kind: NodeKind, plugin: string, position: XY,
                        config: Record<string, unknown> = {}): { graph: PipelineGraph; id: string } {
  const id = newNodeId(kind, graph.nodes.map((node) => node.id));
  return { graph: rules.addNode(graph, kind, plugin, position, id, config), id };
}

/** Removes nodes (with their edges; a removed step's neighbours are joined) and edges. */
export function removeNodes(graph: PipelineGraph, nodeIds: string[], edgeIds: string[] = []): PipelineGraph {
  const gone = new Set(nodeIds);
  let next = graph;
  // Edges of removed nodes go with them; only the other edges are cut one by one.
  for (const id of edgeIds) {
    const edge = next.edges.find((item) => item.id === id);
    if (edge && !gone.has(edge.source) && !gone.has(edge.target)) next = rules.disconnect(next, id);
  }
  return nodeIds.length ? rules.removeNodes(next, nodeIds) : next;
}

export function moveNodes(graph: PipelineGraph, moves: Record<string, XY>): PipelineGraph {
  let next = graph;
  for (const [id, position] of Object.entries(moves)) next = rules.moveNode(next, id, position);
  return next;
}

/** A placed-nowhere block is a warning (the file is fine without it); the rest are errors. */
const WARNING_CODES = new Set(["not_connected"]);

export interface DesignerGraphProblem {
  severity: Severity;
  code: string;
  message: string;
  params: Record<string, string>;
  nodeId?: string;
  edgeId?: string;
}

export function graphProblems(graph: PipelineGraph): DesignerGraphProblem[] {
  return rules.graphProblems(graph).map((problem: GraphProblem) => ({
    ...problem,
    severity: WARNING_CODES.has(problem.code) ? "warning" : "error",
  }));
}

/** Server diagnostics on the nodes (and switch edges) they are about. */
export function locateDiagnostics(graph: PipelineGraph, diagnostics: Diagnostic[]): Problem[] {
  const mapped = mapDiagnostics(graph, diagnostics);
  const problems: Problem[] = [];
  const problemOf = (diagnostic: Diagnostic): Problem => ({
    severity: diagnostic.severity === "error" ? "error" : "warning",
    message: diagnostic.message, hint: diagnostic.hint, path: diagnostic.path, line: diagnostic.line,
  });
  for (const [nodeId, entries] of mapped.byNode) {
    for (const entry of entries) {
      if (entry.diagnostic.severity === "info") continue;
      problems.push({ ...problemOf(entry.diagnostic), nodeId, edgeId: entry.edgeId, field: entry.field || undefined });
    }
  }
  for (const diagnostic of mapped.document) {
    if (diagnostic.severity !== "info") problems.push(problemOf(diagnostic));
  }
  return problems;
}
