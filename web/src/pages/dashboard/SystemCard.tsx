/** Host CPU, memory and disk of the server, and its workers. */
import { Badge, Card, Col, Empty, Progress, Row, Space, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { SystemMetrics, Worker } from "../../api/metrics";
import ErrorAlert from "../../components/ErrorAlert";
import { formatNumber } from "../../lib/format";
import type { Polled } from "../monitoring/usePolling";

const color = (percent: number) => (percent >= 90 ? "#cf1322" : percent >= 75 ? "#d48806" : "#1677ff");

function Gauge({ label, percent, detail, testId }: { label: string; percent: number; detail: string; testId: string }) {
  return (
    <div style={{ textAlign: "center" }} data-testid={testId}>
      <Progress type="dashboard" size={92} percent={Math.round(percent)} strokeColor={color(percent)}
        status="normal" format={(value) => `${value ?? 0}%`} />
      <div style={{ fontWeight: 500 }}>{label}</div>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{detail}</Typography.Text>
    </div>
  );
}

export const workerBadge = (status: string) =>
  (status === "busy" ? "processing" : status === "online" ? "success" : "error") as "processing" | "success" | "error";

export default function SystemCard({ system, workers }: { system: Polled<SystemMetrics>; workers: Polled<{ items: Worker[] }> }) {
  const { t } = useTranslation("dashboard");
  const data = system.data;
  const diskUsed = data?.disk.free_percent !== null && data?.disk.free_percent !== undefined ? 100 - data.disk.free_percent : 0;
  const gb = (mb: number) => formatNumber(mb / 1024, 1);
  return (
    <Card title={t("system.title")} size="small" loading={system.loading && !data} data-testid="dashboard-system"
      extra={data && <Typography.Text type="secondary">{data.hostname}</Typography.Text>}>
      {system.error ? <ErrorAlert error={system.error} onRetry={system.reload} /> : null}
      {data && (
        <Row gutter={8}>
          <Col span={8}><Gauge testId="system-cpu" label={t("system.cpu")} percent={data.cpu.percent}
            detail={t("system.cores", { count: data.cpu.cores })} /></Col>
          <Col span={8}><Gauge testId="system-memory" label={t("system.memory")} percent={data.memory.percent}
            detail={t("system.ofGb", { used: gb(data.memory.used_mb), total: gb(data.memory.total_mb) })} /></Col>
          <Col span={8}><Gauge testId="system-disk" label={t("system.disk")} percent={diskUsed}
            detail={t("system.freeGb", { free: gb(data.disk.free_mb) })} /></Col>
        </Row>
      )}
      <Typography.Title level={5} style={{ marginTop: 16, fontSize: 14 }}>{t("system.workers")}</Typography.Title>
      {workers.error ? <ErrorAlert error={workers.error} onRetry={workers.reload} /> : null}
      {workers.data && workers.data.items.length === 0 && (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("system.noWorkers")} />
      )}
      <Space direction="vertical" style={{ width: "100%" }} data-testid="dashboard-workers">
        {workers.data?.items.map((worker) => (
          <Space key={worker.worker_id} style={{ justifyContent: "space-between", width: "100%" }}>
            <Badge status={workerBadge(worker.status)} text={<Typography.Text ellipsis style={{ maxWidth: 180 }}>{worker.worker_id}</Typography.Text>} />
            <Typography.Text type="secondary">
              {t("system.slots", { used: worker.jobs.length, slots: worker.slots, queued: worker.queued })}
            </Typography.Text>
          </Space>
        ))}
      </Space>
    </Card>
  );
}
