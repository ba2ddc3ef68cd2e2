/**
 * The canvas (React Flow): the graph's nodes and edges, dropping palette items, connecting
 * handles (checked with `canConnect`), moving, deleting, the context menu and live numbers.
 * The graph stays the truth; React Flow keeps only drag positions and selection meanwhile.
 */
import {
  applyEdgeChanges, applyNodeChanges, Background, Controls, MarkerType, MiniMap, ReactFlow,
  useReactFlow, type Connection, type EdgeChange, type FinalConnectionState, type NodeChange,
  type OnSelectionChangeParams,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { App, Empty } from "antd";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { useTranslation } from "react-i18next";
import type { PluginSummary } from "../../api/plugins";
import type { PipelineGraph, XY } from "../../pipeline/model";
import { addNode, canConnect, connect, moveNodes, NODE_HEIGHT, NODE_WIDTH, removeNodes } from "../graph/adapter";
import { KIND_COLORS } from "../pluginLook";
import { PLUGIN_MIME, type DraggedPlugin, type LiveRun, type NodeStatus, type Problem, type Selection } from "../types";
import ContextMenu, { type MenuTarget } from "./ContextMenu";
import { statsFor } from "./liveStats";
import FlowEdge, { type FlowEdgeType } from "./FlowEdge";
import PluginNode, { type PluginFlowNode } from "./PluginNode";

const nodeTypes = { plugin: PluginNode };
const edgeTypes = { flow: FlowEdge };

export interface FocusRequest {
  selection: Selection;
  nonce: number;
}

interface Props {
  graph: PipelineGraph;
  plugins: Map<string, PluginSummary>;
  byNode: Map<string, NodeStatus>;
  byEdge: Map<string, Problem[]>;
  live: LiveRun | null;
  focus: FocusRequest | null;
  onChange: (graph: PipelineGraph) => void;
  onSelect: (selection: Selection) => void;
  onConfigure: (nodeId: string) => void;
  onLayout: () => void;
}

export default function Canvas(props: Props) {
  const { graph, plugins, byNode, byEdge, live, focus, onChange, onSelect, onConfigure, onLayout } = props;
  const { t } = useTranslation("designer");
  const { message } = App.useApp();
  const flow = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const [nodes, setNodes] = useState<PluginFlowNode[]>([]);
  const [edges, setEdges] = useState<FlowEdgeType[]>([]);
  const [menu, setMenu] = useState<MenuTarget | null>(null);

  const pickEdge = useCallback((edgeId: string) => {
    setNodes((current) => current.map((node) => (node.selected ? { ...node, selected: false } : node)));
    setEdges((current) => current.map((edge) => ({ ...edge, selected: edge.id === edgeId })));
    onSelect({ type: "edge", id: edgeId });
  }, [onSelect]);

  // Graph (and its statuses / live numbers) → React Flow, keeping what is selected.
  useEffect(() => {
    setNodes((current) => {
      const selected = new Set(current.filter((node) => node.selected).map((node) => node.id));
      return graph.nodes.map((node) => {
        const info = plugins.get(`${node.kind}/${node.plugin}`);
        return {
          id: node.id, type: "plugin" as const, position: node.position, selected: selected.has(node.id),
          data: {
            node, title: info?.title ?? node.plugin, family: info?.family,
            status: byNode.get(node.id), stats: statsFor(live, node.path, node.kind),
          },
        };
      });
    });
  }, [graph, plugins, byNode, live]);

  useEffect(() => {
    const byId = new Map(graph.nodes.map((node) => [node.id, node]));
    setEdges((current) => {
      const selected = new Set(current.filter((edge) => edge.selected).map((edge) => edge.id));
      return graph.edges.map((edge) => {
        const source = byId.get(edge.source);
        const target = byId.get(edge.target);
        const stage = live && target ? live.stages[target.path] : undefined;
        const queue = live && target ? live.queues[target.path] : undefined;
        const fallbackRate = live && !Object.keys(live.stages).length && source?.kind === "input" ? live.recordsPerSecond : undefined;
        return {
          id: edge.id, source: edge.source, target: edge.target, type: "flow" as const,
          selected: selected.has(edge.id),
          markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16 },
          data: {
            condition: edge.condition, isDefault: edge.default, fromSwitch: source?.plugin === "switch",
            rate: stage?.recordsPerSecond ?? (live ? fallbackRate : undefined),
            fill: queue ? Math.min(1, queue.depth / queue.capacity) : undefined,
            invalid: (byEdge.get(edge.id) ?? []).some((problem) => problem.severity === "error"),
            onPick: pickEdge,
          },
        };
      });
    });
  }, [graph, byEdge, live, pickEdge]);

  // A selection asked from outside (validation list, new node): apply it to React Flow.
  useEffect(() => {
    if (!focus) return;
    const { selection } = focus;
    setNodes((current) => current.map((node) => ({ ...node, selected: selection.type === "node" && selection.id === node.id })));
    setEdges((current) => current.map((edge) => ({ ...edge, selected: selection.type === "edge" && selection.id === edge.id })));
    if (selection.type === "node") {
      const node = graph.nodes.find((item) => item.id === selection.id);
      if (node) {
        const zoom = flow.getZoom();
        void flow.setCenter(node.position.x + NODE_WIDTH / 2, node.position.y + NODE_HEIGHT / 2, { zoom, duration: 300 });
      }
    }
    // Only a new request moves the view, not each graph change.
  }, [focus]);

  const onNodesChange = useCallback((changes: NodeChange<PluginFlowNode>[]) => {
    setNodes((current) => applyNodeChanges(changes.filter((change) => change.type !== "remove"), current));
  }, []);
  const onEdgesChange = useCallback((changes: EdgeChange<FlowEdgeType>[]) => {
    setEdges((current) => applyEdgeChanges(changes.filter((change) => change.type !== "remove"), current));
  }, []);

  const onSelectionChange = useCallback(({ nodes: picked, edges: pickedEdges }: OnSelectionChangeParams) => {
    if (picked.length === 1 && pickedEdges.length === 0) onSelect({ type: "node", id: picked[0].id });
    else if (picked.length === 0 && pickedEdges.length === 1) onSelect({ type: "edge", id: pickedEdges[0].id });
    else onSelect({ type: "none" });
  }, [onSelect]);

  const onNodeDragStop = useCallback((_event: unknown, _node: PluginFlowNode, dragged: PluginFlowNode[]) => {
    const moves: Record<string, XY> = {};
    for (const node of dragged) {
      const before = graph.nodes.find((item) => item.id === node.id)?.position;
      if (!before || before.x !== node.position.x || before.y !== node.position.y) moves[node.id] = node.position;
    }
    if (Object.keys(moves).length) onChange(moveNodes(graph, moves));
  }, [graph, onChange]);

  const isValidConnection = useCallback((connection: Connection | FlowEdgeType) =>
    canConnect(graph, connection.source, connection.target).ok, [graph]);

  const onConnect = useCallback((connection: Connection) => {
    const next = connect(graph, connection.source, connection.target);
    if (next === graph) return;
    onChange(next);
    const source = graph.nodes.find((node) => node.id === connection.source);
    const edge = next.edges.find((item) => item.source === connection.source && item.target === connection.target);
    if (source?.plugin === "switch" && edge) window.setTimeout(() => pickEdge(edge.id), 0);
  }, [graph, onChange, pickEdge]);

  const onConnectEnd = useCallback((_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid || !state.fromNode || !state.toNode) return;
    const [source, target] = state.fromHandle?.type === "target"
      ? [state.toNode.id, state.fromNode.id] : [state.fromNode.id, state.toNode.id];
    const check = canConnect(graph, source, target);
    if (!check.ok) void message.warning(t("canvas.refused", { reason: t(`pipeline:rules.${check.code}`, { defaultValue: check.reason }) }));
  }, [graph, message, t]);

  const onDelete = useCallback(({ nodes: gone, edges: cut }: { nodes: PluginFlowNode[]; edges: FlowEdgeType[] }) => {
    if (!gone.length && !cut.length) return;
    onChange(removeNodes(graph, gone.map((node) => node.id), cut.map((edge) => edge.id)));
    onSelect({ type: "none" });
  }, [graph, onChange, onSelect]);

  const onDragOver = useCallback((event: DragEvent) => {
    if (!event.dataTransfer.types.includes(PLUGIN_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback((event: DragEvent) => {
    const raw = event.dataTransfer.getData(PLUGIN_MIME);
    if (!raw) return;
    event.preventDefault();
    const item = JSON.parse(raw) as DraggedPlugin;
    const point = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    const { graph: next, id } = addNode(graph, item.kind, item.name, { x: point.x - NODE_WIDTH / 2, y: point.y - NODE_HEIGHT / 2 });
    onChange(next);
    window.setTimeout(() => {
      setNodes((current) => current.map((node) => ({ ...node, selected: node.id === id })));
      onSelect({ type: "node", id });
    }, 0);
  }, [flow, graph, onChange, onSelect]);

  const openMenu = useCallback((event: React.MouseEvent | MouseEvent, nodeId?: string) => {
    event.preventDefault();
    const box = wrapper.current?.getBoundingClientRect();
    if (!box) return;
    setMenu({ x: event.clientX - box.left, y: event.clientY - box.top, nodeId });
  }, []);

  const duplicate = useCallback((nodeId: string) => {
    const node = graph.nodes.find((item) => item.id === nodeId);
    if (!node) return;
    const copy = structuredClone(node.config);
    onChange(addNode(graph, node.kind, node.plugin, { x: node.position.x + 40, y: node.position.y + 90 }, copy).graph);
  }, [graph, onChange]);

  const miniColor = useMemo(() => (node: PluginFlowNode) => KIND_COLORS[node.data.node.kind], []);

  return (
    <div className="fg-canvas" ref={wrapper} data-testid="canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<PluginFlowNode, FlowEdgeType>
        nodes={nodes} edges={edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes}
        onNodesChange={onNodesChange} onEdgesChange={onEdgesChange}
        onSelectionChange={onSelectionChange} onNodeDragStop={onNodeDragStop}
        isValidConnection={isValidConnection} onConnect={onConnect} onConnectEnd={onConnectEnd}
        onDelete={onDelete} deleteKeyCode={["Delete", "Backspace"]}
        onNodeDoubleClick={(_event, node) => onConfigure(node.id)}
        onNodeContextMenu={(event, node) => openMenu(event, node.id)}
        onPaneContextMenu={(event) => openMenu(event)}
        onPaneClick={() => setMenu(null)}
        defaultViewport={{ x: 40, y: 40, zoom: 1 }}
        minZoom={0.2} maxZoom={2} proOptions={{ hideAttribution: true }}>
        <Background gap={18} color="#d9d9d9" />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable nodeColor={miniColor} style={{ width: 160, height: 100 }} />
      </ReactFlow>
      {graph.nodes.length === 0 && (
        <div className="fg-canvas-empty" data-testid="canvas-empty">
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={
            <><strong>{t("canvas.emptyTitle")}</strong><br />{t("canvas.emptyHint")}</>} />
        </div>
      )}
      {menu && (
        <ContextMenu target={menu} onClose={() => setMenu(null)}
          onConfigure={onConfigure} onDuplicate={duplicate}
          onDelete={(nodeId) => { onChange(removeNodes(graph, [nodeId])); onSelect({ type: "none" }); }}
          onLayout={onLayout} onFit={() => void flow.fitView({ padding: 0.12, maxZoom: 1.1, minZoom: 0.55, duration: 300 })} />
      )}
    </div>
  );
}
