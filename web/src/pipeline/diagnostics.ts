/**
 * Server diagnostics (`fustgo validate`: `pipeline.processors[0].condition`, `output.write.mode`,
 * `input`) → the node they are about (longest node path that prefixes the diagnostic's) and
 * the field path inside that node, for the canvas badges and the property form's field errors.
 * Paths about the file as a whole (`name`, `settings.*`) go to the document bucket.
 */
import type { Diagnostic } from "../api/jobs";
import type { PipelineGraph } from "./model";

export interface NodeDiagnostic {
  diagnostic: Diagnostic;
  /** Field path inside the node (`write.mode`, `cases[0].condition`); "" for the node itself. */
  field: string;
  /** A switch case's condition is drawn on its edge. */
  edgeId?: string;
}

export interface MappedDiagnostics {
  byNode: Map<string, NodeDiagnostic[]>;
  byEdge: Map<string, NodeDiagnostic[]>;
  /** About the file itself (name, settings, dead_letter, …) or about no block known. */
  document: Diagnostic[];
}

/** `path` starts with `prefix` at a segment boundary. */
function underPath(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  const next = path.charAt(prefix.length);
  return next === "" || next === "." || next === "[";
}

function fieldAfter(path: string, prefix: string): string {
  const rest = path.slice(prefix.length);
  return rest.startsWith(".") ? rest.slice(1) : rest;
}

export function mapDiagnostics(graph: PipelineGraph, diagnostics: Diagnostic[]): MappedDiagnostics {
  const byNode = new Map<string, NodeDiagnostic[]>();
  const byEdge = new Map<string, NodeDiagnostic[]>();
  const document: Diagnostic[] = [];
  const nodes = graph.nodes.filter((node) => node.path && !node.path.startsWith("detached"));
  for (const diagnostic of diagnostics) {
    const path = diagnostic.path ?? "";
    let best: (typeof nodes)[number] | undefined;
    for (const node of nodes) {
      if (underPath(path, node.path) && (!best || node.path.length > best.path.length)) best = node;
    }
    if (!best) {
      document.push(diagnostic);
      continue;
    }
    const field = fieldAfter(path, best.path);
    const entry: NodeDiagnostic = { diagnostic, field };
    const caseMatch = /^cases\[(\d+)\]\.condition$/.exec(field);
    if (caseMatch && best.plugin === "switch") {
      const caseEdges = graph.edges.filter((edge) => edge.source === best!.id && !edge.default);
      const edge = caseEdges[Number(caseMatch[1])];
      if (edge) {
        entry.edgeId = edge.id;
        (byEdge.get(edge.id) ?? byEdge.set(edge.id, []).get(edge.id)!).push(entry);
      }
    }
    (byNode.get(best.id) ?? byNode.set(best.id, []).get(best.id)!).push(entry);
  }
  return { byNode, byEdge, document };
}

/** A node's diagnostics as SchemaForm `errors` (field path → message; first one wins). */
export function fieldErrors(entries: NodeDiagnostic[] | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const { field, diagnostic } of entries ?? []) {
    if (!field || field in errors) continue;
    errors[field] = diagnostic.hint ? `${diagnostic.message} (${diagnostic.hint})` : diagnostic.message;
  }
  return errors;
}

/** The worst severity among a node's diagnostics, for its badge. */
export function worstSeverity(entries: NodeDiagnostic[] | undefined): "error" | "warning" | "info" | undefined {
  let worst: "error" | "warning" | "info" | undefined;
  for (const { diagnostic } of entries ?? []) {
    const severity = diagnostic.severity === "error" ? "error" : diagnostic.severity === "warning" ? "warning" : "info";
    if (severity === "error") return "error";
    if (severity === "warning" || !worst) worst = severity;
  }
  return worst;
}
