/** A connection: a switch case's condition as its label, the live rate, and back-pressure
 *  (how full the queue it feeds is) as its color and width. */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type Edge, type EdgeProps } from "@xyflow/react";
import { memo } from "react";
import { useTranslation } from "react-i18next";
import { formatRate } from "../../lib/format";

export interface FlowEdgeData extends Record<string, unknown> {
  condition?: string;
  isDefault?: boolean;
  fromSwitch?: boolean;
  rate?: number;
  /** 0..1: how full the queue this edge feeds is. */
  fill?: number;
  invalid?: boolean;
  onPick?: (edgeId: string) => void;
}

export type FlowEdgeType = Edge<FlowEdgeData, "flow">;

function pressureColor(fill: number | undefined): string | undefined {
  if (fill === undefined) return undefined;
  if (fill >= 0.8) return "#f5222d";
  if (fill >= 0.5) return "#fa8c16";
  return "#52c41a";
}

function FlowEdgeView(props: EdgeProps<FlowEdgeType>) {
  const { t } = useTranslation("designer");
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected, markerEnd } = props;
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const color = data?.invalid ? "#f5222d" : selected ? "#1677ff" : pressureColor(data?.fill) ?? "#8c8c8c";
  const width = data?.fill !== undefined ? 1.5 + data.fill * 3.5 : selected ? 2.5 : 1.5;
  const condition = data?.fromSwitch ? (data.isDefault ? t("edge.default") : data.condition || t("edge.noCondition")) : null;
  const rate = data?.rate !== undefined ? formatRate(data.rate) : null;
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd}
        style={{ stroke: color, strokeWidth: width, strokeDasharray: data?.invalid ? "5 4" : undefined }} />
      {(condition || rate) && (
        <EdgeLabelRenderer>
          <div className={`fg-edge-label nodrag nopan${selected ? " fg-edge-label-selected" : ""}${data?.invalid ? " fg-edge-label-invalid" : ""}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            data-testid={`edge-label-${id}`}
            onClick={() => data?.onPick?.(id)}>
            {condition && <span className="fg-edge-condition" title={condition}>{condition}</span>}
            {rate && <span className="fg-edge-rate" data-testid="edge-rate">{rate}</span>}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export default memo(FlowEdgeView);
