/** Tab 2: source columns against target columns, side by side (design doc §6.5). */
import { ArrowRightOutlined, BulbOutlined, SwapOutlined } from "@ant-design/icons";
import { Alert, Button, Card, Col, Empty, Row, Space, Table, Tag, Tooltip, Typography } from "antd";
import { useState, type HTMLAttributes } from "react";
import { useTranslation } from "react-i18next";
import type { Connection } from "../../api/connections";
import { compareSchemas, type CompareResult, type CompareRow, type CompareStatus } from "../../api/preview";
import ErrorAlert from "../../components/ErrorAlert";
import { STATUS_LOOK, STATUS_ORDER } from "./compareStatus";
import EndpointPicker, { toRef, type Endpoint } from "./EndpointPicker";

interface Props {
  connections: Connection[] | null;
  source: Endpoint;
  target: Endpoint;
  onSource: (value: Endpoint) => void;
  onTarget: (value: Endpoint) => void;
}

export function StatusTag({ status }: { status: CompareStatus }) {
  const { t } = useTranslation("preview");
  const look = STATUS_LOOK[status];
  return <Tag color={look.color} icon={look.icon} data-status={status}>{t(`compare.status.${status}`)}</Tag>;
}

function Missing() {
  return <Typography.Text type="secondary">–</Typography.Text>;
}

export default function SchemaCompareTab({ connections, source, target, onSource, onTarget }: Props) {
  const { t } = useTranslation("preview");
  const [result, setResult] = useState<CompareResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [only, setOnly] = useState<CompareStatus | null>(null);

  const sourceRef = toRef(source);
  const targetRef = toRef({ ...target, what: "table" });
  const run = async () => {
    if (!sourceRef || !targetRef) return;
    setLoading(true);
    setError(null);
    setOnly(null);
    try {
      setResult(await compareSchemas(sourceRef, targetRef));
    } catch (reason) {
      setResult(null);
      setError(reason);
    } finally {
      setLoading(false);
    }
  };

  const rows = (result?.columns ?? []).filter((row) => !only || row.status === only);
  return (
    <Space direction="vertical" style={{ width: "100%" }} size={16}>
      <Row gutter={16} align="stretch">
        <Col span={11}>
          <Card size="small" title={t("compare.source")} style={{ height: "100%" }}>
            <EndpointPicker value={source} onChange={onSource} connections={connections} testid="compare-source" />
          </Card>
        </Col>
        <Col span={2} style={{ display: "flex", flexDirection: "column", alignItems: "center", justifyContent: "center", gap: 12 }}>
          <ArrowRightOutlined style={{ fontSize: 22, color: "#8c8c8c" }} />
          <Tooltip title={t("compare.swap")}>
            <Button shape="circle" icon={<SwapOutlined />} onClick={() => { onSource(target); onTarget(source); }} aria-label={t("compare.swap")} />
          </Tooltip>
        </Col>
        <Col span={11}>
          <Card size="small" title={t("compare.target")} style={{ height: "100%" }}>
            <EndpointPicker value={target} onChange={onTarget} connections={connections} allowSql={false} testid="compare-target" />
          </Card>
        </Col>
      </Row>
      <div style={{ textAlign: "center" }}>
        <Button type="primary" size="large" icon={<SwapOutlined />} onClick={() => void run()} loading={loading}
          disabled={!sourceRef || !targetRef} data-testid="compare-run">{t("compare.run")}</Button>
      </div>
      <ErrorAlert error={error} onRetry={() => void run()} />
      {!result && !error && <Card><Empty description={t("compare.empty")} /></Card>}
      {result && (
        <Card size="small" data-testid="compare-result" title={
          <Space wrap size={[6, 6]} data-testid="compare-counts">
            <Typography.Text>{t("compare.summary", { count: result.columns.length })}</Typography.Text>
            {STATUS_ORDER.filter((status) => result.counts[status]).map((status) => (
              <Tag key={status} color={STATUS_LOOK[status].color} icon={STATUS_LOOK[status].icon}
                style={{ cursor: "pointer", outline: only === status ? "2px solid #1677ff" : undefined }}
                onClick={() => setOnly(only === status ? null : status)} data-testid={`compare-count-${status}`}>
                {t(`compare.status.${status}`)}: {result.counts[status]}
              </Tag>
            ))}
            {only && <Button size="small" type="link" onClick={() => setOnly(null)}>{t("compare.showAll")}</Button>}
          </Space>
        }>
          {!result.target_exists && <Alert type="info" showIcon style={{ marginBottom: 12 }} message={result.message} />}
          {Object.keys(result.mapping).length > 0 && (
            <Alert type="info" showIcon icon={<BulbOutlined />} style={{ marginBottom: 12 }} data-testid="compare-mapping"
              message={<Space wrap size={[4, 4]}>{t("compare.mapping")}{Object.entries(result.mapping).map(([from, to]) => (
                <Tag key={from} bordered={false}><code>{from}</code> → <code>{to}</code></Tag>
              ))}</Space>} />
          )}
          <Table<CompareRow>
            data-testid="compare-table"
            size="small"
            pagination={false}
            scroll={{ x: 1100 }}
            rowKey={(row, index) => `${row.source?.name ?? ""}|${row.target?.name ?? ""}|${index}`}
            dataSource={rows}
            onRow={(row) => ({ style: { background: STATUS_LOOK[row.status].row || undefined },
              "data-testid": `compare-row-${row.source?.name ?? row.target?.name}` } as HTMLAttributes<HTMLElement>)}
            columns={[
              { title: t("compare.sourceColumn"), key: "sname", width: 160, render: (_, row) => (row.source ? <Typography.Text strong>{row.source.name}</Typography.Text> : <Missing />) },
              {
                title: t("compare.sourceType"), key: "stype", width: 190,
                render: (_, row) => (row.source ? <Typography.Text code>{row.source.type ?? "?"}</Typography.Text> : <Missing />),
              },
              {
                title: t("compare.targetColumn"), key: "tname", width: 210,
                render: (_, row) => (row.target ? (
                  <Space size={4} wrap={false} style={{ whiteSpace: "nowrap" }}>
                    <Typography.Text strong>{row.target.name}</Typography.Text>
                    {row.match === "suggested" && <Tag color="blue" bordered={false} icon={<BulbOutlined />}>{t("compare.suggested")}</Tag>}
                  </Space>
                ) : <Missing />),
              },
              {
                title: t("compare.targetType"), key: "ttype", width: 210,
                render: (_, row) => (row.target ? (
                  <Typography.Text code>{row.target.type ?? "?"}{row.target.nullable ? "" : " NOT NULL"}</Typography.Text>
                ) : <Missing />),
              },
              { title: t("compare.statusTitle"), dataIndex: "status", width: 170, render: (status: CompareStatus) => <StatusTag status={status} /> },
              {
                title: t("compare.notes"), dataIndex: "messages",
                render: (messages: string[]) => messages.map((text, index) => (
                  <div key={index} style={{ fontSize: 12 }}>{text}</div>
                )),
              },
            ]} />
        </Card>
      )}
    </Space>
  );
}
