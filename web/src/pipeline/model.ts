/**
 * The designer's graph of a pipeline file (ARCHITECTURE §3: the graph and the YAML map one
 * to one). This file is the contract between the YAML side (`pipeline/yaml.ts`) and the
 * canvas (`designer/`): a node is one plugin block of the file, an edge is "records flow from
 * this block to that one". Branches are forks: a `switch` output has one edge per case (the
 * case's condition on the edge) plus a `default` edge; a `broker` has one edge per output.
 * A `conditional` processor is one node (its branches are edited in its panel: they merge
 * back into the same chain).
 */

export type NodeKind = "input" | "processor" | "output";

export interface XY {
  x: number;
  y: number;
}

export interface PipelineNode {
  /** Stable for the life of the node (positions and selection follow it across edits). */
  id: string;
  kind: NodeKind;
  /** The block's `type:` (`mysql`, `filter`, `switch`, …); "" while not chosen yet. */
  plugin: string;
  /** The block's fields without `type` and without the children drawn as other nodes
   *  (`switch.cases[].processors/output`, `switch.default`, `broker.outputs`). */
  config: Record<string, unknown>;
  /** Where the block is in the file now: `input`, `pipeline.processors[1]`,
   *  `output.cases[0].processors[0]`, `output.cases[0].output`, `output.default.output`,
   *  `output.outputs[1]`. Diagnostics' paths and live stage stats are keyed by it. */
  path: string;
  position: XY;
}

export interface PipelineEdge {
  id: string;
  source: string;
  target: string;
  /** On an edge leaving a `switch`: the case's condition (SQL), or `default: true`. */
  condition?: string;
  default?: boolean;
}

export interface PipelineGraph {
  /** Every top-level key other than input/pipeline.processors/output (name, description,
   *  settings, dead_letter, pipeline's other keys…), kept as they are. */
  document: Record<string, unknown>;
  nodes: PipelineNode[];
  edges: PipelineEdge[];
}

/** What the designer stores in a job's `flow_diagram`: positions by node path, plus the
 *  viewport; enough to redraw the graph where the user left it. */
export interface FlowDiagram {
  version: 1;
  positions: Record<string, XY>;
  viewport?: { x: number; y: number; zoom: number };
}
