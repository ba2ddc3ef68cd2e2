/**
 * Alert rules (design §6.6, server/alerts/): the list with an enable switch and when each
 * last fired, an editor drawer, a test send, each rule's events (expand a row), delete.
 */
import { DeleteOutlined, EditOutlined, PlusOutlined, SendOutlined } from "@ant-design/icons";
import { App, Badge, Button, Empty, Popconfirm, Space, Switch, Table, Tag, Tooltip, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import {
  deleteAlertRule, listAlertEvents, listAlertRules, testAlertRule, updateAlertRule, type AlertRule, type Channel,
} from "../../api/alerts";
import { listJobs, type JobSummary } from "../../api/jobs";
import ErrorAlert from "../../components/ErrorAlert";
import { formatTime } from "../../lib/format";
import { usePolling } from "../monitoring/usePolling";
import RuleEditor from "./RuleEditor";
import RuleEvents from "./RuleEvents";

const REFRESH_MS = 15_000;

interface Row extends AlertRule {
  last_fired: string | null;
}

async function loadRules(): Promise<{ rules: Row[]; jobs: JobSummary[] }> {
  const [rules, jobs] = await Promise.all([listAlertRules({ page_size: 500 }), listJobs({ page_size: 500, sort: "job_name" })]);
  const rows = await Promise.all(rules.items.map((rule) =>
    listAlertEvents(rule.alert_id, 1).then((events) => ({ ...rule, last_fired: events.items[0]?.started_at ?? null }))));
  return { rules: rows, jobs: jobs.items };
}

export default function AlertsPage() {
  const { t } = useTranslation("alerts");
  const { message, modal } = App.useApp();
  const data = usePolling(loadRules, REFRESH_MS);
  const [editing, setEditing] = useState<AlertRule | null>(null);
  const [editorOpen, setEditorOpen] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<string[]>([]);
  const jobs = data.data?.jobs ?? [];
  const jobName = (jobId: string) => jobs.find((job) => job.job_id === jobId)?.job_name ?? jobId;

  const open = (rule: AlertRule | null) => { setEditing(rule); setEditorOpen(true); };

  const act = async (rule: AlertRule, what: () => Promise<void>) => {
    setBusy(rule.alert_id);
    try {
      await what();
    } catch (error) {
      message.error(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(null);
      data.reload();
    }
  };

  const sendTest = (rule: AlertRule) => act(rule, async () => {
    const result = await testAlertRule(rule.alert_id);
    if (result.ok) {
      message.success(t("test.ok", { count: result.deliveries.length }));
      return;
    }
    modal.error({
      title: t("test.failed"),
      width: 560,
      content: (
        <ul style={{ paddingLeft: 18 }} data-testid="test-result">
          {result.deliveries.map((delivery) => (
            <li key={delivery.channel}>
              <Typography.Text type={delivery.ok ? "success" : "danger"}>{delivery.ok ? "✓" : "✗"} {delivery.channel}</Typography.Text>
              {delivery.error && <div style={{ color: "#595959", wordBreak: "break-word" }}>{delivery.error}</div>}
            </li>
          ))}
        </ul>
      ),
    });
  });

  const channelTag = (channel: Channel, index: number) => (channel.type === "email"
    ? <Tooltip key={index} title={channel.to.join(", ")}><Tag>{t("channel.emailTo", { count: channel.to.length })}</Tag></Tooltip>
    : <Tag key={index} color="blue">{t(`formats.${channel.format}`)}</Tag>);

  const columns: ColumnsType<Row> = [
    { title: t("list.name"), dataIndex: "alert_name", width: 200, ellipsis: true, render: (name: string, rule) => (
      <Space size={6}>
        {rule.firing.length > 0 && <Tooltip title={rule.firing.map((event) => event.message).join("\n")}><Badge status="error" /></Tooltip>}
        <a onClick={() => open(rule)}>{name}</a>
      </Space>
    ) },
    { title: t("list.type"), dataIndex: "alert_type", width: 140, render: (type: string) => t(`types.${type}`) },
    { title: t("list.target"), width: 150, ellipsis: true, render: (_, rule) => {
      if (rule.alert_type === "disk_space") return rule.condition.path ?? t("list.serverFolder");
      const jobId = rule.condition.job_id;
      return jobId ? <Link to={`/jobs/${jobId}`}>{jobName(jobId)}</Link> : <Typography.Text type="secondary">{t("list.allJobs")}</Typography.Text>;
    } },
    { title: t("list.condition"), ellipsis: { showTitle: false }, render: (_, rule) => {
      const text = t(`summary.${rule.alert_type}`, { ...rule.condition });
      return <Tooltip title={text}><span>{text}</span></Tooltip>;
    } },
    { title: t("list.channels"), width: 150, render: (_, rule) => <Space size={[0, 4]} wrap>{rule.action.channels.map(channelTag)}</Space> },
    { title: t("list.enabled"), dataIndex: "enabled", width: 90, render: (enabled: boolean, rule) => (
      <Switch size="small" checked={enabled} loading={busy === rule.alert_id} data-testid={`rule-enabled-${rule.alert_id}`}
        aria-label={t("list.enabled")}
        onChange={(checked) => void act(rule, async () => { await updateAlertRule(rule.alert_id, { enabled: checked }); })} />
    ) },
    { title: t("list.lastFired"), dataIndex: "last_fired", width: 150, render: (value: string | null) =>
      (value ? formatTime(value) : <Typography.Text type="secondary">{t("list.never")}</Typography.Text>) },
    { title: "", width: 120, render: (_, rule) => (
      <Space size={0}>
        {/* Native titles: an antd tooltip left open by a modal would cover the delete confirm. */}
        <Button type="text" icon={<EditOutlined />} aria-label={t("common:actions.edit")} title={t("common:actions.edit")} onClick={() => open(rule)} />
        <Button type="text" icon={<SendOutlined />} aria-label={t("test.send")} title={t("test.send")} loading={busy === rule.alert_id}
          data-testid={`rule-test-${rule.alert_id}`} onClick={() => void sendTest(rule)} />
        <Popconfirm placement="left" title={t("list.deleteConfirm", { name: rule.alert_name })} okText={t("common:actions.delete")} okButtonProps={{ danger: true }}
          cancelText={t("common:actions.cancel")}
          onConfirm={() => act(rule, async () => { await deleteAlertRule(rule.alert_id); message.success(t("list.deleted")); })}>
          <Button type="text" danger icon={<DeleteOutlined />} aria-label={t("common:actions.delete")} title={t("common:actions.delete")} data-testid={`rule-delete-${rule.alert_id}`} />
        </Popconfirm>
      </Space>
    ) },
  ];

  return (
    <div data-testid="alerts-page">
      <div className="fg-page-title">
        <h1>{t("common:nav.alerts")}</h1>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => open(null)} data-testid="new-rule">{t("list.new")}</Button>
      </div>
      {data.error ? <ErrorAlert error={data.error} onRetry={data.reload} /> : null}
      <Table<Row> rowKey="alert_id" loading={data.loading && !data.data} dataSource={data.data?.rules ?? []} columns={columns}
        tableLayout="fixed" pagination={{ pageSize: 20, hideOnSinglePage: true }} data-testid="rules-table"
        expandable={{
          expandedRowKeys: expanded,
          onExpandedRowsChange: (keys) => setExpanded(keys as string[]),
          expandedRowRender: (rule) => <RuleEvents alertId={rule.alert_id} />,
        }}
        locale={{ emptyText: (
          <Empty description={t("list.empty")}>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => open(null)}>{t("list.new")}</Button>
          </Empty>
        ) }} />
      <Typography.Paragraph type="secondary" style={{ marginTop: 12 }}>{t("list.hint")}</Typography.Paragraph>
      <RuleEditor open={editorOpen} rule={editing} jobs={jobs} onClose={() => setEditorOpen(false)}
        onSaved={() => { setEditorOpen(false); data.reload(); }} />
    </div>
  );
}
