/**
 * YAML ⇄ graph (ARCHITECTURE §3: one to one). `yamlToGraph` reads a pipeline file into the
 * designer's graph, keeping node ids and positions across re-parses; `graphToYaml` writes the
 * graph back, editing the previous text's YAML document in place so comments, key order and
 * formatting of the untouched parts survive a canvas edit.
 */
import {
  Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  parseDocument,
  Scalar,
  type Node as YamlNode,
  type Pair,
  type YAMLMap,
  type YAMLSeq,
} from "yaml";
import type { FlowDiagram, NodeKind, PipelineEdge, PipelineGraph, PipelineNode, XY } from "./model";
import { autoLayout } from "./layout";
import { assemble, CHILD_KEYS } from "./structure";

/** A YAML syntax problem, 1-based line and column. */
export interface ParseProblem {
  message: string;
  line: number;
  column: number;
}

export const emptyGraph = (): PipelineGraph => ({ document: {}, nodes: [], edges: [] });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A fresh node id (`processor-k3f9a2`). */
export function newNodeId(kind: NodeKind, taken?: Iterable<string>): string {
  const used = new Set(taken ?? []);
  for (;;) {
    const id = `${kind}-${Math.random().toString(36).slice(2, 8)}`;
    if (!used.has(id)) return id;
  }
}

export const edgeId = (source: string, target: string) => `${source}->${target}`;

interface Draft {
  kind: NodeKind;
  plugin: string;
  config: Record<string, unknown>;
  path: string;
}
interface DraftEdge {
  source: number;
  target: number;
  condition?: string;
  default?: boolean;
}

/** Reads the file object into nodes (in file order) and edges between their indexes. */
function readDocument(root: Record<string, unknown>) {
  const drafts: Draft[] = [];
  const links: DraftEdge[] = [];
  const add = (kind: NodeKind, value: unknown, path: string, omit: string[] = []): number => {
    const source = isObject(value) ? value : {};
    const config: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(source)) if (key !== "type" && !omit.includes(key)) config[key] = item;
    drafts.push({ kind, plugin: typeof source.type === "string" ? source.type : "", config, path });
    return drafts.length - 1;
  };
  /** A chain of processors; returns [first, last] node indexes (undefined when empty). */
  const chain = (list: unknown, prefix: string, from: number | undefined, edge: Omit<DraftEdge, "source" | "target"> = {}) => {
    let previous = from;
    let first: number | undefined;
    let attrs = edge;
    (Array.isArray(list) ? list : []).forEach((item, index) => {
      const node = add("processor", item, `${prefix}[${index}]`);
      if (previous !== undefined) links.push({ source: previous, target: node, ...attrs });
      attrs = {};
      first ??= node;
      previous = node;
    });
    return { first, last: previous, consumed: first !== undefined };
  };
  const output = (value: unknown, path: string, from: number | undefined, edge: Omit<DraftEdge, "source" | "target"> = {}) => {
    const plugin = isObject(value) && typeof value.type === "string" ? value.type : "";
    const node = add("output", value, path, CHILD_KEYS[plugin] ?? []);
    if (from !== undefined) links.push({ source: from, target: node, ...edge });
    if (!isObject(value)) return;
    const branch = (part: unknown, prefix: string, attrs: Omit<DraftEdge, "source" | "target">) => {
      const body = isObject(part) ? part : {};
      const { last, consumed } = chain(body.processors, `${prefix}.processors`, node, attrs);
      if (body.output !== undefined) output(body.output, `${prefix}.output`, last, consumed ? {} : attrs);
    };
    if (plugin === "switch") {
      (Array.isArray(value.cases) ? value.cases : []).forEach((item, index) => {
        const condition = isObject(item) && item.condition != null ? String(item.condition) : "";
        branch(item, `${path}.cases[${index}]`, { condition });
      });
      if (isObject(value.default)) branch(value.default, `${path}.default`, { default: true });
    } else if (plugin === "broker") {
      (Array.isArray(value.outputs) ? value.outputs : []).forEach((item, index) => output(item, `${path}.outputs[${index}]`, node));
    }
  };

  const document: Record<string, unknown> = {};
  let input: number | undefined;
  for (const [key, value] of Object.entries(root)) {
    if (key === "input") input = add("input", value, "input");
    else if (key === "pipeline" && isObject(value)) {
      const { processors: _processors, ...rest } = value;
      document.pipeline = rest;
    } else if (key !== "output") document[key] = value;
  }
  const pipeline = isObject(root.pipeline) ? root.pipeline : {};
  const { last } = chain(pipeline.processors, "pipeline.processors", input);
  if (root.output !== undefined) output(root.output, "output", last);
  return { document, drafts, links };
}

/** Path distance for matching a re-parsed node to the previous one of the same plugin. */
function pathDistance(a: string, b: string): number {
  const numbers = (path: string) => (path.match(/\d+/g) ?? []).map(Number);
  const shape = (path: string) => path.replace(/\d+/g, "#");
  const na = numbers(a);
  const nb = numbers(b);
  const diff = na.reduce((sum, value, index) => sum + Math.abs(value - (nb[index] ?? 0)), 0);
  return (shape(a) === shape(b) ? 0 : 1000) + diff;
}

/** Gives each draft the id of the matching previous node (same path and plugin, then the
 *  same plugin at the nearest path), else a new one. */
function assignIds(drafts: Draft[], previous: PipelineNode[]): string[] {
  const ids: (string | undefined)[] = drafts.map(() => undefined);
  const free = new Set(previous.map((node) => node.id));
  drafts.forEach((draft, index) => {
    const match = previous.find((node) => free.has(node.id) && node.path === draft.path && node.plugin === draft.plugin && node.kind === draft.kind);
    if (match) {
      ids[index] = match.id;
      free.delete(match.id);
    }
  });
  drafts.forEach((draft, index) => {
    if (ids[index]) return;
    let best: PipelineNode | undefined;
    for (const node of previous) {
      if (!free.has(node.id) || node.plugin !== draft.plugin || node.kind !== draft.kind) continue;
      if (!best || pathDistance(node.path, draft.path) < pathDistance(best.path, draft.path)) best = node;
    }
    if (best) {
      ids[index] = best.id;
      free.delete(best.id);
    }
  });
  const taken = new Set([...previous.map((node) => node.id), ...ids.filter((id): id is string => !!id)]);
  return drafts.map((draft, index) => {
    if (ids[index]) return ids[index]!;
    const id = newNodeId(draft.kind, taken);
    taken.add(id);
    return id;
  });
}

/** The 1-based line/column of a yaml error. */
function problemOf(error: { message: string; linePos?: [{ line: number; col: number }] | [{ line: number; col: number }, { line: number; col: number }] }): ParseProblem {
  const position = error.linePos?.[0];
  return { message: error.message.split("\n")[0], line: position?.line ?? 1, column: position?.col ?? 1 };
}

/**
 * Parses a pipeline file into the graph. On a syntax error the graph is `previous.graph`
 * (the canvas keeps showing the last good state) and `errors` says where.
 */
export function yamlToGraph(
  text: string,
  previous: { graph?: PipelineGraph; diagram?: FlowDiagram } = {},
): { graph: PipelineGraph; errors: ParseProblem[] } {
  const fallback = previous.graph ?? emptyGraph();
  const doc = parseDocument(text);
  if (doc.errors.length) return { graph: fallback, errors: doc.errors.map(problemOf) };
  const root: unknown = doc.toJS();
  if (root == null) return { graph: emptyGraph(), errors: [] };
  if (!isObject(root)) {
    const position = doc.contents && isNode(doc.contents) && doc.contents.range ? doc.contents.range[0] : 0;
    const before = text.slice(0, position).split("\n");
    return {
      graph: fallback,
      errors: [{ message: "A pipeline file is a mapping (input:, pipeline:, output:)", line: before.length, column: before[before.length - 1].length + 1 }],
    };
  }
  const { document, drafts, links } = readDocument(root);
  const previousNodes = previous.graph?.nodes ?? [];
  const ids = assignIds(drafts, previousNodes);
  const positions = new Map(previousNodes.map((node) => [node.id, node.position]));
  const missing = new Set<string>();
  const nodes: PipelineNode[] = drafts.map((draft, index) => {
    const id = ids[index];
    const position: XY | undefined = positions.get(id) ?? previous.diagram?.positions?.[draft.path];
    if (!position) missing.add(id);
    return { id, kind: draft.kind, plugin: draft.plugin, config: draft.config, path: draft.path, position: position ?? { x: 0, y: 0 } };
  });
  const edges: PipelineEdge[] = links.map((link) => {
    const source = ids[link.source];
    const target = ids[link.target];
    const edge: PipelineEdge = { id: edgeId(source, target), source, target };
    if (link.default) edge.default = true;
    else if (link.condition !== undefined) edge.condition = link.condition;
    return edge;
  });
  let graph: PipelineGraph = { document, nodes, edges };
  if (missing.size) {
    const laid = autoLayout(graph);
    graph = { ...graph, nodes: nodes.map((node, index) => (missing.has(node.id) ? { ...node, position: laid.nodes[index].position } : node)) };
  }
  return { graph, errors: [] };
}

// ---- writing ------------------------------------------------------------------------

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return Number.isNaN(a) && Number.isNaN(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, index) => deepEqual(item, other[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => key in right && deepEqual(left[key], right[key]));
}

type Commented = { comment?: string | null; commentBefore?: string | null; spaceBefore?: boolean };

/** What a patch did: scalar values changed in place (spliced into the text), or more. */
interface Patching {
  doc: Document;
  scalars: { node: Scalar; value: unknown }[];
  structural: boolean;
}

function toJs(doc: Document, node: unknown): unknown {
  return isNode(node) ? node.toJS(doc) : node;
}

/** A new node for `value`, carrying the replaced node's comments and blank line. */
function replacement(doc: Document, old: unknown, value: unknown): YamlNode {
  const created = doc.createNode(value) as YamlNode;
  if (isNode(old)) {
    const from = old as Commented;
    const to = created as Commented;
    to.comment = from.comment;
    to.commentBefore = from.commentBefore;
    to.spaceBefore = from.spaceBefore;
    if ((isMap(old) || isSeq(old)) && (isMap(created) || isSeq(created))) created.flow = old.flow;
  }
  return created;
}

const BLOCK_SCALARS = new Set(["BLOCK_LITERAL", "BLOCK_FOLDED"]);

/** Makes `node` hold `value`, changing as little of it as possible; returns the node to keep. */
function patch(state: Patching, node: unknown, value: unknown): unknown {
  const { doc } = state;
  if (deepEqual(toJs(doc, node), value)) return node;
  if (isMap(node) && isObject(value)) {
    patchMap(state, node, value);
    return node;
  }
  if (isSeq(node) && Array.isArray(value)) {
    patchSeq(state, node, value);
    return node;
  }
  if (isScalar(node) && (value === null || typeof value !== "object")) {
    // Same scalar node: keeps its comments; the quoting style only while it stays a string.
    const spliceable =
      !!node.range && !BLOCK_SCALARS.has(node.type ?? "") && !(typeof value === "string" && value.includes("\n")) && !node.anchor;
    if (typeof node.value !== "string" || typeof value !== "string") node.type = undefined;
    node.value = value;
    if (spliceable) state.scalars.push({ node, value });
    else state.structural = true;
    return node;
  }
  state.structural = true;
  return replacement(doc, node, value);
}

function keyOf(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function patchMap(state: Patching, map: YAMLMap, value: Record<string, unknown>) {
  const kept = map.items.filter((pair) => Object.prototype.hasOwnProperty.call(value, String(keyOf(pair))));
  if (kept.length !== map.items.length) state.structural = true;
  map.items = kept;
  for (const [key, item] of Object.entries(value)) {
    const pair = map.items.find((candidate) => String(keyOf(candidate)) === key);
    if (pair) pair.value = patch(state, pair.value, item);
    else {
      map.items.push(state.doc.createPair(key, item) as Pair);
      state.structural = true;
    }
  }
}

function patchSeq(state: Patching, seq: YAMLSeq, value: unknown[]) {
  // Items equal at both ends stay as they are; the middle is patched pairwise, so one
  // inserted or removed processor leaves the others (and their comments) untouched.
  const { doc } = state;
  const items = seq.items;
  if (items.length !== value.length) state.structural = true;
  let head = 0;
  while (head < items.length && head < value.length && deepEqual(toJs(doc, items[head]), value[head])) head++;
  let tail = 0;
  while (
    tail < items.length - head &&
    tail < value.length - head &&
    deepEqual(toJs(doc, items[items.length - 1 - tail]), value[value.length - 1 - tail])
  )
    tail++;
  const oldMiddle = items.slice(head, items.length - tail);
  const newMiddle = value.slice(head, value.length - tail);
  const middle: unknown[] = newMiddle.map((item, index) =>
    index < oldMiddle.length ? patch(state, oldMiddle[index], item) : doc.createNode(item),
  );
  seq.items = [...items.slice(0, head), ...middle, ...items.slice(items.length - tail)];
}

/** A scalar as it would be written inside a flow collection (safe in block context too). */
function scalarSource(node: Scalar): string {
  const holder = new Document([null]);
  const seq = holder.contents as YAMLSeq;
  seq.flow = true;
  const scalar = new Scalar(node.value);
  scalar.type = node.type;
  seq.items = [scalar];
  const text = holder.toString({ flowCollectionPadding: false, lineWidth: 0 }).trim();
  return text.slice(1, -1);
}

const FRESH_OPTIONS = { lineWidth: 0, indentSeq: true, flowCollectionPadding: false } as const;

/**
 * The graph as a pipeline file. With `previousText` (parseable), that text's document is
 * edited in place: only the changed keys are rewritten; else the file is written afresh
 * (`type:` first in every block).
 */
export function graphToYaml(graph: PipelineGraph, previousText?: string): string {
  const { document } = assemble(graph);
  if (previousText !== undefined && previousText.trim()) {
    const doc = parseDocument(previousText);
    if (!doc.errors.length && isMap(doc.contents)) {
      const state: Patching = { doc, scalars: [], structural: false };
      patchMap(state, doc.contents, document);
      if (state.structural) return doc.toString(FRESH_OPTIONS);
      // Only values changed: splice them into the text, leaving every other byte alone.
      let text = previousText;
      const edits = [...state.scalars].sort((a, b) => b.node.range![0] - a.node.range![0]);
      for (const { node } of edits) text = text.slice(0, node.range![0]) + scalarSource(node) + text.slice(node.range![1]);
      return text;
    }
  }
  if (!Object.keys(document).length) return "";
  return new Document(document).toString(FRESH_OPTIONS);
}

/** What the designer saves in `flow_diagram`: positions by path (detached nodes left out). */
export function graphToDiagram(graph: PipelineGraph, viewport?: FlowDiagram["viewport"]): FlowDiagram {
  const positions: Record<string, XY> = {};
  for (const node of graph.nodes) {
    if (node.path && !node.path.startsWith("detached")) positions[node.path] = { x: node.position.x, y: node.position.y };
  }
  return viewport ? { version: 1, positions, viewport } : { version: 1, positions };
}

/** Reads a job's stored `flow_diagram` (anything) as a FlowDiagram, or undefined. */
export function asFlowDiagram(value: unknown): FlowDiagram | undefined {
  if (!isObject(value) || !isObject(value.positions)) return undefined;
  const positions: Record<string, XY> = {};
  for (const [path, position] of Object.entries(value.positions)) {
    if (isObject(position) && typeof position.x === "number" && typeof position.y === "number") positions[path] = { x: position.x, y: position.y };
  }
  const viewport = isObject(value.viewport) ? (value.viewport as FlowDiagram["viewport"]) : undefined;
  return viewport ? { version: 1, positions, viewport } : { version: 1, positions };
}
