/**
 * What reaches one node on the input's first records (`POST /preview/run`): the pipeline as
 * it is now in the designer, saved or not, runs without writing, and the records at this
 * node's point are shown with their column types.
 */
import { EyeOutlined } from "@ant-design/icons";
import { Alert, Button, Empty, InputNumber, Space, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { previewDraft } from "../../api/jobs";
import ErrorAlert from "../../components/ErrorAlert";
import { formatNumber } from "../../lib/format";
import type { PipelineNode } from "../../pipeline/model";
import { recordsAt, type RunPreview } from "./previewRecords";

function cell(value: unknown): string {
  if (value === null || value === undefined) return "∅";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

interface Props {
  node: PipelineNode;
  draftYaml: () => string;
}

export default function PreviewTab({ node, draftYaml }: Props) {
  const { t } = useTranslation("designer");
  const [limit, setLimit] = useState(20);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<RunPreview | null>(null);

  const run = async () => {
    setLoading(true);
    setError(null);
    try {
      setResult((await previewDraft(draftYaml(), limit)) as RunPreview);
    } catch (failure) {
      setError(failure);
    } finally {
      setLoading(false);
    }
  };

  const shown = result ? recordsAt(result, node.path) : null;
  return (
    <div className="fg-preview" data-testid="node-preview">
      <Space wrap style={{ marginBottom: 12 }}>
        <Button type="primary" icon={<EyeOutlined />} loading={loading} onClick={() => void run()} data-testid="preview-run">
          {t("preview.run")}
        </Button>
        <span>{t("preview.limit")}</span>
        <InputNumber size="small" min={1} max={500} value={limit} onChange={(value) => setLimit(value ?? 20)} style={{ width: 80 }} />
      </Space>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>{t("preview.note")}</Typography.Paragraph>
      <ErrorAlert error={error} onRetry={() => void run()} />
      {result?.error && <Alert type="warning" showIcon message={result.error} style={{ marginBottom: 12 }} />}
      {!result && !loading && !error && (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("preview.idle")} />
      )}
      {result && (!shown || !shown.records) && (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("preview.noneHere")} data-testid="preview-empty" />
      )}
      {shown && shown.records > 0 && (
        <>
          <Typography.Text type="secondary" data-testid="preview-count">
            {t("preview.count", { n: formatNumber(shown.records) })}
            {shown.records_in !== undefined && ` · ${t("preview.inOut", { in: formatNumber(shown.records_in), out: formatNumber(shown.records_out) })}`}
          </Typography.Text>
          <Table size="small" bordered scroll={{ x: "max-content", y: 360 }} pagination={false} style={{ marginTop: 8 }}
            rowKey={(_row, index) => String(index)} data-testid="preview-table"
            dataSource={shown.rows.map((row) => ({ row }))}
            columns={shown.columns.map((column, index) => ({
              key: column.name,
              title: <span className="fg-preview-col">{column.name}<Tag className="fg-type-tag">{column.type}</Tag></span>,
              render: (_value: unknown, record: { row: unknown[] }) => (
                <span className={record.row[index] === null ? "fg-null" : undefined}>{cell(record.row[index])}</span>
              ),
            }))} />
        </>
      )}
    </div>
  );
}
