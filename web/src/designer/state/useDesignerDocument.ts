/**
 * The pipeline being designed: the graph (what the canvas draws) and the YAML text (what the
 * editor shows), kept in step. A graph edit rewrites the YAML from the previous text (so
 * comments survive); a YAML edit redraws the graph after a pause, keeping ids and positions.
 * Undo/redo steps through {graph, yaml} snapshots (pipeline/history.ts: edits with the same
 * key, typing in one field, are one step).
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { PipelineGraph } from "../../pipeline/model";
import { History } from "../../pipeline/history";
import { emptyGraph, graphToYaml, yamlToGraph, type ParseProblem } from "../graph/adapter";

interface Snapshot {
  graph: PipelineGraph;
  yaml: string;
}

const YAML_DEBOUNCE_MS = 400;

export type GraphChange = PipelineGraph | ((graph: PipelineGraph) => PipelineGraph);

export interface DesignerDocument {
  graph: PipelineGraph;
  yaml: string;
  yamlErrors: ParseProblem[];
  dirty: boolean;
  canUndo: boolean;
  canRedo: boolean;
  /** A graph edit; the YAML follows. Same `key` as the last edit: one undo step. */
  apply: (change: GraphChange, key?: string) => void;
  /** A YAML edit; the graph follows after a pause. */
  editYaml: (text: string) => void;
  /** A fresh document (a loaded job, an imported file); clears the history. */
  load: (graph: PipelineGraph, yaml: string) => void;
  markSaved: () => void;
  undo: () => void;
  redo: () => void;
}

export function useDesignerDocument(): DesignerDocument {
  const history = useRef(new History<Snapshot>({ graph: emptyGraph(), yaml: "" }));
  const [present, setPresent] = useState<Snapshot>(history.current.present);
  /** The text in the editor: ahead of `present.yaml` while a YAML edit waits to be parsed. */
  const [yaml, setYaml] = useState("");
  const [yamlErrors, setYamlErrors] = useState<ParseProblem[]>([]);
  const [dirty, setDirty] = useState(false);
  const yamlRef = useRef("");
  const timer = useRef<number | null>(null);

  const show = useCallback((snapshot: Snapshot, text = snapshot.yaml) => {
    setPresent(snapshot);
    yamlRef.current = text;
    setYaml(text);
  }, []);

  const cancelPending = useCallback(() => {
    if (timer.current !== null) window.clearTimeout(timer.current);
    timer.current = null;
  }, []);

  const apply = useCallback((change: GraphChange, key?: string) => {
    cancelPending();
    const current = history.current.present;
    const graph = typeof change === "function" ? change(current.graph) : change;
    if (graph === current.graph) return;
    const snapshot = { graph, yaml: graphToYaml(graph, yamlRef.current || current.yaml) };
    history.current.push(snapshot, key);
    setYamlErrors([]);
    show(snapshot);
    setDirty(true);
  }, [cancelPending, show]);

  const editYaml = useCallback((text: string) => {
    if (text === yamlRef.current) return;
    yamlRef.current = text;
    setYaml(text);
    setDirty(true);
    cancelPending();
    timer.current = window.setTimeout(() => {
      timer.current = null;
      const current = history.current.present;
      const result = yamlToGraph(text, { graph: current.graph });
      setYamlErrors(result.errors);
      if (result.errors.length) return;
      const snapshot = { graph: result.graph, yaml: text };
      history.current.push(snapshot, "yaml");
      setPresent(snapshot);
    }, YAML_DEBOUNCE_MS);
  }, [cancelPending]);

  const load = useCallback((graph: PipelineGraph, text: string) => {
    cancelPending();
    setYamlErrors([]);
    show(history.current.reset({ graph, yaml: text }));
    setDirty(false);
  }, [cancelPending, show]);

  const undo = useCallback(() => {
    cancelPending();
    setYamlErrors([]);
    show(history.current.undo());
    setDirty(true);
  }, [cancelPending, show]);

  const redo = useCallback(() => {
    cancelPending();
    setYamlErrors([]);
    show(history.current.redo());
    setDirty(true);
  }, [cancelPending, show]);

  const markSaved = useCallback(() => setDirty(false), []);
  useEffect(() => cancelPending, [cancelPending]);

  return {
    graph: present.graph, yaml, yamlErrors, dirty, apply, editYaml, load, markSaved, undo, redo,
    canUndo: history.current.canUndo,
    canRedo: history.current.canRedo,
  };
}
