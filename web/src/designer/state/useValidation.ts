/**
 * Live validation: a pause after each change, the server checks the YAML (`/validate`, the
 * same diagnostics as `fustgo validate`); its findings are put on nodes, with what the graph
 * itself gets wrong (`graphProblems`) and YAML syntax errors.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { validateYaml, type Diagnostic } from "../../api/jobs";
import type { PipelineGraph } from "../../pipeline/model";
import { graphProblems, locateDiagnostics, type ParseProblem } from "../graph/adapter";
import type { NodeStatus, Problem } from "../types";

const VALIDATE_DEBOUNCE_MS = 600;

export interface Validation {
  problems: Problem[];
  errors: Problem[];
  warnings: Problem[];
  byNode: Map<string, NodeStatus>;
  byEdge: Map<string, Problem[]>;
  checking: boolean;
  /** The server could not be asked (network): shown, but not counted as the pipeline's fault. */
  failure: unknown;
  /** Validate now (the toolbar's button); resolves with the server's diagnostics. */
  validateNow: () => Promise<Diagnostic[]>;
}

export function useValidation(graph: PipelineGraph, yaml: string, yamlErrors: ParseProblem[]): Validation {
  const { t } = useTranslation("designer");
  const [diagnostics, setDiagnostics] = useState<Diagnostic[]>([]);
  const [checking, setChecking] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const sequence = useRef(0);
  const latest = useRef(yaml);
  latest.current = yaml;

  const run = async (text: string): Promise<Diagnostic[]> => {
    const mine = ++sequence.current;
    if (!text.trim()) {
      setDiagnostics([]);
      return [];
    }
    setChecking(true);
    try {
      const result = await validateYaml(text);
      if (mine === sequence.current) {
        setDiagnostics(result.diagnostics);
        setFailure(null);
      }
      return result.diagnostics;
    } catch (error) {
      if (mine === sequence.current) setFailure(error);
      throw error;
    } finally {
      if (mine === sequence.current) setChecking(false);
    }
  };

  useEffect(() => {
    const timer = window.setTimeout(() => void run(yaml).catch(() => undefined), VALIDATE_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
    // Re-validates only when the text changes.
  }, [yaml]);

  const problems = useMemo<Problem[]>(() => {
    const list: Problem[] = yamlErrors.map((error) => ({
      severity: "error", message: t("problems.yamlSyntax", { message: error.message }), line: error.line,
    }));
    // A blank canvas has its own hint; "no input / no output" would only be noise there.
    for (const problem of graph.nodes.length ? graphProblems(graph) : []) {
      list.push({
        severity: problem.severity, nodeId: problem.nodeId, edgeId: problem.edgeId,
        message: t(`pipeline:problems.${problem.code}`, { ...problem.params, defaultValue: problem.message }),
      });
    }
    list.push(...locateDiagnostics(graph, diagnostics));
    return list;
  }, [diagnostics, graph, t, yamlErrors]);

  const { byNode, byEdge } = useMemo(() => {
    const nodes = new Map<string, NodeStatus>();
    const edges = new Map<string, Problem[]>();
    for (const problem of problems) {
      if (problem.edgeId) edges.set(problem.edgeId, [...(edges.get(problem.edgeId) ?? []), problem]);
      if (!problem.nodeId) continue;
      const status = nodes.get(problem.nodeId) ?? { errors: [], warnings: [] };
      (problem.severity === "error" ? status.errors : status.warnings).push(problem);
      nodes.set(problem.nodeId, status);
    }
    return { byNode: nodes, byEdge: edges };
  }, [problems]);

  return {
    problems,
    errors: problems.filter((problem) => problem.severity === "error"),
    warnings: problems.filter((problem) => problem.severity === "warning"),
    byNode, byEdge, checking, failure,
    validateNow: () => run(latest.current),
  };
}
