/** The right-hand panel: the selected node, the selected connection, or the pipeline. */
import { CloseOutlined } from "@ant-design/icons";
import { Button } from "antd";
import { useTranslation } from "react-i18next";
import type { PluginSummary } from "../../api/plugins";
import type { PipelineGraph } from "../../pipeline/model";
import type { Problem, Selection } from "../types";
import EdgePanel from "./EdgePanel";
import NodePanel from "./NodePanel";
import PipelinePanel from "./PipelinePanel";

interface Props {
  graph: PipelineGraph;
  selection: Selection;
  plugins: PluginSummary[];
  problems: Problem[];
  tab: string;
  onTab: (tab: string) => void;
  /** The pipeline as it is now in the designer (saved or not), for previews. */
  draftYaml: () => string;
  onConfig: (nodeId: string, config: Record<string, unknown>) => void;
  onPlugin: (nodeId: string, plugin: string) => void;
  onDeleteNode: (nodeId: string) => void;
  onCondition: (edgeId: string, condition: string | null) => void;
  onRemoveEdge: (edgeId: string) => void;
  onDocument: (document: Record<string, unknown>, key: string) => void;
  onClose?: () => void;
}

export default function PropertyPanel(props: Props) {
  const { t } = useTranslation("designer");
  const { graph, selection, plugins, problems } = props;
  let body;
  if (selection.type === "node") {
    const node = graph.nodes.find((item) => item.id === selection.id);
    if (node) {
      body = (
        <NodePanel key={node.id} node={node} plugins={plugins} tab={props.tab} onTab={props.onTab}
          problems={problems.filter((problem) => problem.nodeId === node.id && !problem.edgeId)}
          onConfig={(config) => props.onConfig(node.id, config)} onPlugin={(plugin) => props.onPlugin(node.id, plugin)}
          onDelete={() => props.onDeleteNode(node.id)} draftYaml={props.draftYaml} />
      );
    }
  } else if (selection.type === "edge") {
    const edge = graph.edges.find((item) => item.id === selection.id);
    if (edge) {
      body = (
        <EdgePanel edge={edge} source={graph.nodes.find((node) => node.id === edge.source)}
          target={graph.nodes.find((node) => node.id === edge.target)}
          problems={problems.filter((problem) => problem.edgeId === edge.id)}
          onCondition={(condition) => props.onCondition(edge.id, condition)} onRemove={() => props.onRemoveEdge(edge.id)} />
      );
    }
  }
  body ??= (
    <PipelinePanel document={graph.document} plugins={plugins} onChange={props.onDocument}
      problems={problems.filter((problem) => !problem.nodeId && !problem.edgeId)} />
  );
  return (
    <aside className={`fg-panel${selection.type === "node" && props.tab === "preview" ? " fg-panel-wide" : ""}`} data-testid="property-panel">
      {props.onClose && (
        <Button type="text" size="small" className="fg-panel-close" icon={<CloseOutlined />} onClick={props.onClose} aria-label={t("live.close")} />
      )}
      {body}
    </aside>
  );
}
