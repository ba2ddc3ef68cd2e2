/** The workers that run jobs (standalone: the server process itself). */
import { Badge, Card, Empty, Table } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useTranslation } from "react-i18next";
import type { Worker } from "../../api/metrics";
import ErrorAlert from "../../components/ErrorAlert";
import { formatNumber, formatTime } from "../../lib/format";
import { workerBadge } from "../dashboard/SystemCard";
import type { Polled } from "./usePolling";

export default function WorkersTable({ workers }: { workers: Polled<{ items: Worker[] }> }) {
  const { t } = useTranslation("monitoring");
  const columns: ColumnsType<Worker> = [
    { title: t("workers.id"), dataIndex: "worker_id", ellipsis: true },
    { title: t("workers.status"), dataIndex: "status", width: 120,
      render: (status: string) => <Badge status={workerBadge(status)} text={t(`workers.states.${status}`, { defaultValue: status })} /> },
    { title: t("workers.mode"), dataIndex: "mode", width: 120 },
    { title: t("workers.jobs"), width: 130, render: (_, worker) => `${worker.jobs.length} / ${worker.slots}` },
    { title: t("workers.queued"), dataIndex: "queued", width: 90, align: "right" },
    { title: t("workers.cpu"), dataIndex: "cpu_cores", width: 90, align: "right" },
    { title: t("workers.memory"), dataIndex: "memory_mb", width: 120, align: "right", render: (mb: number) => `${formatNumber(mb / 1024, 1)} GB` },
    { title: t("workers.heartbeat"), dataIndex: "last_heartbeat", width: 170, render: (value: string) => formatTime(value) },
  ];
  return (
    <Card size="small" title={t("workers.title")} data-testid="monitoring-workers">
      {workers.error ? <ErrorAlert error={workers.error} onRetry={workers.reload} /> : null}
      <Table<Worker> size="small" rowKey="worker_id" loading={workers.loading && !workers.data}
        dataSource={workers.data?.items ?? []} columns={columns} pagination={false} tableLayout="fixed"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("workers.empty")} /> }} />
    </Card>
  );
}
