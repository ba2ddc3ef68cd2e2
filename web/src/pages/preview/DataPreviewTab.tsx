/** Tab 1: the first N rows of a table or query with their schema and per-column statistics. */
import { EyeOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Col, Empty, Row, Segmented, Select, Space, Statistic, Tabs, Typography } from "antd";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { Connection } from "../../api/connections";
import { previewSource, previewTarget, ROW_LIMITS, type PreviewResult } from "../../api/preview";
import DataTable from "../../components/DataTable";
import ErrorAlert from "../../components/ErrorAlert";
import { formatNumber } from "../../lib/format";
import EndpointPicker, { toRef, type Endpoint } from "./EndpointPicker";
import SchemaTable from "./SchemaTable";
import StatsTable from "./StatsTable";

interface Props {
  connections: Connection[] | null;
  endpoint: Endpoint;
  onEndpoint: (value: Endpoint) => void;
}

export default function DataPreviewTab({ connections, endpoint, onEndpoint }: Props) {
  const { t } = useTranslation("preview");
  const [side, setSide] = useState<"source" | "target">("source");
  const [limit, setLimit] = useState(100);
  const [result, setResult] = useState<PreviewResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  const ref = toRef(side === "target" ? { ...endpoint, what: "table" } : endpoint);
  const run = async () => {
    if (!ref) return;
    setLoading(true);
    setError(null);
    try {
      setResult(await (side === "source" ? previewSource : previewTarget)(ref, limit));
    } catch (reason) {
      setResult(null);
      setError(reason);
    } finally {
      setLoading(false);
    }
  };

  // The header shows the database's type when the catalog knows it, else FustGo's.
  const columns = useMemo(() => {
    const declared = new Map((result?.schema ?? []).map((item) => [item.name, item]));
    return (result?.columns ?? []).map((column) => ({ name: column.name, type: declared.get(column.name)?.type ?? column.type }));
  }, [result]);

  const title = result?.table ? [result.table.schema, result.table.name].filter(Boolean).join(".") : result?.sql ? t("result.query") : "";

  return (
    <Row gutter={16} wrap={false}>
      <Col flex="340px">
        <Card size="small" title={t("preview.where")}>
          <Space direction="vertical" style={{ width: "100%" }} size={12}>
            <Segmented<"source" | "target"> block value={side} onChange={setSide} data-testid="preview-side"
              options={[{ value: "source", label: t("preview.source") }, { value: "target", label: t("preview.target") }]} />
            <EndpointPicker value={endpoint} onChange={onEndpoint} connections={connections} allowSql={side === "source"}
              testid="preview-endpoint" onSubmit={() => void run()} />
            <Space style={{ width: "100%", justifyContent: "space-between" }}>
              <Space size={6}>
                <Typography.Text type="secondary">{t("preview.rows")}</Typography.Text>
                <Select size="small" value={limit} onChange={setLimit} style={{ width: 90 }} data-testid="preview-limit"
                  options={ROW_LIMITS.map((value) => ({ value, label: formatNumber(value) }))} />
              </Space>
              <Button type="primary" icon={<EyeOutlined />} onClick={() => void run()} loading={loading} disabled={!ref}
                data-testid="preview-run">{t("preview.run")}</Button>
            </Space>
          </Space>
        </Card>
      </Col>
      <Col flex="auto" style={{ minWidth: 0 }}>
        <ErrorAlert error={error} onRetry={() => void run()} />
        {!result && !error && (
          <Card><Empty description={t("preview.empty")} /></Card>
        )}
        {result && !result.exists && (
          <Alert type="info" showIcon message={t("result.notCreated")} description={result.message} data-testid="preview-not-created" />
        )}
        {result && result.exists && (
          <Card size="small" data-testid="preview-result"
            title={<Space><Typography.Text strong>{title}</Typography.Text></Space>}>
            <Space size={32} style={{ marginBottom: 12 }} wrap>
              <Statistic title={t("result.shown")} value={result.row_count} formatter={(value) => formatNumber(Number(value))} />
              {result.table?.rows_estimate !== null && result.table?.rows_estimate !== undefined && (
                <Statistic title={t("result.estimate")} value={result.table.rows_estimate} formatter={(value) => `≈ ${formatNumber(Number(value))}`} />
              )}
              <Statistic title={t("result.columns")} value={result.columns.length} />
              {result.rejected > 0 && <Statistic title={t("result.rejected")} value={result.rejected} valueStyle={{ color: "#cf1322" }} />}
            </Space>
            {result.timed_out && <Alert type="warning" showIcon style={{ marginBottom: 8 }} message={t("result.timedOut")} />}
            {[...result.notes, ...result.errors].map((note, index) => (
              <Alert key={index} type={index < result.notes.length ? "info" : "warning"} showIcon style={{ marginBottom: 8 }} message={note} />
            ))}
            <Tabs size="small" items={[
              {
                key: "rows", label: t("result.rows"),
                children: <DataTable columns={columns} rows={result.rows} schema={result.schema} stats={result.stats}
                  data-testid="preview-table" empty={<Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("result.noRows")} />} />,
              },
              { key: "schema", label: t("result.schema"), children: <SchemaTable schema={result.schema} /> },
              { key: "stats", label: t("result.stats"), children: <StatsTable stats={result.stats} /> },
            ]} />
          </Card>
        )}
      </Col>
    </Row>
  );
}
