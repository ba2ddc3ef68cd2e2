/** A rule's events, newest first: firing or resolved, when, and how each delivery went. */
import { Empty, Table, Tag, Tooltip, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useTranslation } from "react-i18next";
import { listAlertEvents, type AlertEvent } from "../../api/alerts";
import ErrorAlert from "../../components/ErrorAlert";
import { formatTime } from "../../lib/format";
import { usePolling } from "../monitoring/usePolling";

const REFRESH_MS = 15_000;

export default function RuleEvents({ alertId }: { alertId: string }) {
  const { t } = useTranslation("alerts");
  const events = usePolling(() => listAlertEvents(alertId, 50), REFRESH_MS, [alertId]);
  const columns: ColumnsType<AlertEvent> = [
    { title: t("events.status"), dataIndex: "status", width: 100,
      render: (status: string) => <Tag color={status === "firing" ? "red" : "green"}>{t(`events.${status === "firing" ? "firing" : "resolved"}`)}</Tag> },
    { title: t("events.subject"), dataIndex: "subject", width: 180, ellipsis: true },
    { title: t("events.message"), dataIndex: "message", ellipsis: { showTitle: false },
      render: (text: string) => <Tooltip title={text}><span>{text}</span></Tooltip> },
    { title: t("events.started"), dataIndex: "started_at", width: 170, render: (value: string) => formatTime(value) },
    { title: t("events.resolvedAt"), dataIndex: "resolved_at", width: 170, render: (value: string | null) => formatTime(value) },
    { title: t("events.delivery"), width: 130, render: (_, event) => {
      if (!event.notified_at && !event.deliveries?.length) return <Typography.Text type="secondary">{t("events.notSent")}</Typography.Text>;
      const failed = (event.deliveries ?? []).filter((delivery) => !delivery.ok);
      return failed.length
        ? <Tooltip title={failed.map((delivery) => `${delivery.channel}: ${delivery.error ?? ""}`).join("\n")}><Tag color="error">{t("events.failedCount", { count: failed.length })}</Tag></Tooltip>
        : <Tag color="success">{t("events.delivered")}</Tag>;
    } },
  ];
  return (
    <div data-testid={`rule-events-${alertId}`}>
      {events.error ? <ErrorAlert error={events.error} onRetry={events.reload} /> : null}
      <Table<AlertEvent> size="small" rowKey="event_id" loading={events.loading && !events.data}
        dataSource={events.data?.items ?? []} columns={columns} pagination={false} tableLayout="fixed"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("events.empty")} /> }} />
    </div>
  );
}
