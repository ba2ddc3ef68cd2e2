/** The selected connection: a switch case's condition (or the default branch), or just
 *  where it goes, with a way to remove it. */
import { ArrowRightOutlined, DisconnectOutlined } from "@ant-design/icons";
import { Button, Form, Input, Radio, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { PipelineEdge, PipelineNode } from "../../pipeline/model";
import type { Problem } from "../types";
import ProblemList from "./ProblemList";

interface Props {
  edge: PipelineEdge;
  source?: PipelineNode;
  target?: PipelineNode;
  problems: Problem[];
  onCondition: (condition: string | null) => void;
  onRemove: () => void;
}

export default function EdgePanel({ edge, source, target, problems, onCondition, onRemove }: Props) {
  const { t } = useTranslation("designer");
  const fromSwitch = source?.plugin === "switch";
  return (
    <div className="fg-panel-inner" data-testid="edge-panel">
      <div className="fg-panel-head">
        <div className="fg-panel-title">
          <Typography.Text strong>{fromSwitch ? t("edge.caseTitle") : t("edge.title")}</Typography.Text>
          <div className="fg-edge-ends">
            <code>{source?.plugin || "?"}</code> <ArrowRightOutlined /> <code>{target?.plugin || "?"}</code>
          </div>
        </div>
        <Button danger icon={<DisconnectOutlined />} onClick={onRemove} data-testid="edge-remove">{t("edge.remove")}</Button>
      </div>
      <ProblemList problems={problems} />
      {fromSwitch ? (
        <Form layout="vertical">
          <Form.Item label={t("edge.branch")}>
            <Radio.Group value={edge.default ? "default" : "case"} data-testid="edge-branch"
              onChange={(event) => onCondition(event.target.value === "default" ? null : edge.condition ?? "")}
              options={[{ value: "case", label: t("edge.case") }, { value: "default", label: t("edge.default") }]} />
          </Form.Item>
          {!edge.default && (
            <Form.Item label={t("edge.condition")} extra={t("edge.conditionHelp")}
              validateStatus={problems.some((problem) => problem.severity === "error") ? "error" : undefined}>
              <Input.TextArea className="fg-mono" autoSize={{ minRows: 2, maxRows: 8 }} value={edge.condition ?? ""}
                placeholder="type = 'order'" data-testid="edge-condition"
                onChange={(event) => onCondition(event.target.value)} />
            </Form.Item>
          )}
        </Form>
      ) : (
        <Typography.Paragraph type="secondary">{t("edge.plain")}</Typography.Paragraph>
      )}
    </div>
  );
}
