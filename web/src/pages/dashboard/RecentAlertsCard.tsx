/** The latest alert events of every rule, firing first. */
import { Button, Card, Empty, List, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { listAlertEvents, listAlertRules, type AlertEvent } from "../../api/alerts";
import ErrorAlert from "../../components/ErrorAlert";
import { formatTime } from "../../lib/format";
import { usePolling } from "../monitoring/usePolling";

interface RuleEvent extends AlertEvent {
  alert_name: string;
}

const RULES_READ = 20;
const SHOWN = 6;

async function loadRecentEvents(): Promise<{ rules: number; events: RuleEvent[] }> {
  const rules = await listAlertRules({ page_size: 100 });
  const lists = await Promise.all(rules.items.slice(0, RULES_READ).map((rule) =>
    listAlertEvents(rule.alert_id, SHOWN).then((page) => page.items.map((event) => ({ ...event, alert_name: rule.alert_name })))));
  const events = lists.flat().sort((a, b) =>
    Number(b.status === "firing") - Number(a.status === "firing") || Date.parse(b.started_at) - Date.parse(a.started_at));
  return { rules: rules.total, events: events.slice(0, SHOWN) };
}

export default function RecentAlertsCard({ refreshMs }: { refreshMs: number }) {
  const { t } = useTranslation("dashboard");
  const navigate = useNavigate();
  const recent = usePolling(loadRecentEvents, refreshMs);
  const noRules = recent.data?.rules === 0;
  return (
    <Card title={t("alerts.title")} size="small" data-testid="dashboard-alerts"
      extra={<a onClick={() => navigate("/alerts")}>{t("alerts.all")}</a>}>
      {recent.error ? <ErrorAlert error={recent.error} onRetry={recent.reload} /> : null}
      <List loading={recent.loading && !recent.data} dataSource={recent.data?.events ?? []} rowKey="event_id" size="small"
        locale={{ emptyText: (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={noRules ? t("alerts.noRules") : t("alerts.empty")}>
            {noRules && <Button onClick={() => navigate("/alerts")}>{t("alerts.create")}</Button>}
          </Empty>
        ) }}
        renderItem={(event) => (
          <List.Item>
            <List.Item.Meta
              title={<span><Tag color={event.status === "firing" ? "red" : "green"}>{t(`alerts.${event.status === "firing" ? "firing" : "resolved"}`)}</Tag>{event.alert_name}</span>}
              description={<Typography.Text type="secondary" ellipsis={{ tooltip: event.message }}>{formatTime(event.started_at)} · {event.message}</Typography.Text>} />
          </List.Item>
        )} />
    </Card>
  );
}
