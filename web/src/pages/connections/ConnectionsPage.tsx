/** /connections: the saved data sources previews and jobs use, with their last test. */
import { DatabaseOutlined, PlusOutlined, ReloadOutlined } from "@ant-design/icons";
import { App, Button, Card, Empty, Popconfirm, Space, Table, Tag, Tooltip, Typography } from "antd";
import { useCallback, useEffect, useState, type HTMLAttributes } from "react";
import { useTranslation } from "react-i18next";
import {
  connectionSummary, deleteConnection, listConnections, rememberTest, rememberedTests, testConnection,
  type Connection, type RememberedTest,
} from "../../api/connections";
import ErrorAlert from "../../components/ErrorAlert";
import { formatTime } from "../../lib/format";
import ConnectionDrawer from "./ConnectionDrawer";
import { ms } from "./TestResult";

function LastTest({ test }: { test: RememberedTest | undefined }) {
  const { t } = useTranslation("connections");
  if (!test) return <Typography.Text type="secondary">{t("test.never")}</Typography.Text>;
  const when = formatTime(test.at);
  if (!test.ok || !test.server) {
    return (
      <Tooltip title={test.error}>
        <div><Tag color="error">{t("test.failedShort")}</Tag></div>
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>{when}</Typography.Text>
      </Tooltip>
    );
  }
  return (
    <Tooltip title={`${test.server.address ?? ""} · ${t("test.latency")} ${ms(test.server.latency_ms)}`}>
      <div><Tag color="success">{test.server.product} {test.server.version}</Tag></div>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>{when}</Typography.Text>
    </Tooltip>
  );
}

export default function ConnectionsPage() {
  const { t } = useTranslation("connections");
  const { message } = App.useApp();
  const [items, setItems] = useState<Connection[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tests, setTests] = useState(rememberedTests);
  const [testing, setTesting] = useState<string | null>(null);
  const [drawer, setDrawer] = useState<{ open: boolean; editing: Connection | null }>({ open: false, editing: null });

  const load = useCallback(() => {
    setLoading(true);
    setError(null);
    listConnections()
      .then((page) => setItems(page.items))
      .catch((reason: unknown) => setError(reason))
      .finally(() => setLoading(false));
  }, []);
  useEffect(load, [load]);

  const test = async (connection: Connection) => {
    setTesting(connection.connection_id);
    try {
      const result = await testConnection(connection.connection_id);
      rememberTest(connection.connection_id, result);
      setTests(rememberedTests());
      if (result.ok) void message.success(t("test.ok", { product: result.server?.product ?? "", version: result.server?.version ?? "" }));
      else void message.error(result.error ?? t("test.failed"));
    } catch (reason) {
      void message.error(reason instanceof Error ? reason.message : String(reason));
    } finally {
      setTesting(null);
    }
  };

  const remove = async (connection: Connection) => {
    try {
      await deleteConnection(connection.connection_id);
      void message.success(t("deleted", { name: connection.name }));
      load();
    } catch (reason) {
      setError(reason);
    }
  };

  const create = () => setDrawer({ open: true, editing: null });

  return (
    <div data-testid="connections-page">
      <div className="fg-page-title">
        <h1><DatabaseOutlined /> {t("title")}</h1>
        <Space>
          <Button icon={<ReloadOutlined />} onClick={load} loading={loading}>{t("common:actions.refresh")}</Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={create} data-testid="connection-create">{t("create")}</Button>
        </Space>
      </div>
      <Typography.Paragraph type="secondary">{t("intro")}</Typography.Paragraph>
      <ErrorAlert error={error} onRetry={load} />
      <Card size="small" styles={{ body: { padding: 12 } }}>
        <Table<Connection>
          data-testid="connections-table"
          rowKey="connection_id"
          tableLayout="fixed"
          loading={loading && !items}
          dataSource={items ?? []}
          pagination={(items?.length ?? 0) > 50 ? { pageSize: 50 } : false}
          onRow={(row) => ({ "data-testid": `connection-row-${row.name}` } as HTMLAttributes<HTMLElement>)}
          locale={{ emptyText: items === null ? " " : (
            <Empty description={t("empty")}>
              <Button type="primary" icon={<PlusOutlined />} onClick={create}>{t("create")}</Button>
            </Empty>
          ) }}
          columns={[
            {
              title: t("columns.name"), dataIndex: "name",
              sorter: (a, b) => a.name.localeCompare(b.name),
              render: (value: string, row) => (
                <div>
                  <a onClick={() => setDrawer({ open: true, editing: row })}>{value}</a>
                  {row.description && (
                    <Typography.Paragraph type="secondary" ellipsis={{ rows: 1, tooltip: row.description }}
                      style={{ margin: 0, fontSize: 12 }}>{row.description}</Typography.Paragraph>
                  )}
                </div>
              ),
            },
            { title: t("columns.type"), dataIndex: "type", width: 110, render: (value: string) => <Tag>{value}</Tag> },
            {
              title: t("columns.where"), key: "where",
              render: (_, row) => (
                <Typography.Text code ellipsis={{ tooltip: connectionSummary(row) }} style={{ maxWidth: "100%" }}>
                  {connectionSummary(row) || "–"}
                </Typography.Text>
              ),
            },
            { title: t("columns.lastTest"), key: "test", width: 200, render: (_, row) => <LastTest test={tests[row.connection_id]} /> },
            { title: t("columns.updated"), dataIndex: "updated_at", width: 170,
              render: (value: string) => <span style={{ whiteSpace: "nowrap" }}>{formatTime(value)}</span> },
            {
              title: t("columns.actions"), key: "actions", width: 230,
              render: (_, row) => (
                <Space size={4}>
                  <Button size="small" loading={testing === row.connection_id} onClick={() => void test(row)}
                    data-testid={`connection-test-${row.name}`}>{t("common:actions.test")}</Button>
                  <Button size="small" onClick={() => setDrawer({ open: true, editing: row })}
                    data-testid={`connection-edit-${row.name}`}>{t("common:actions.edit")}</Button>
                  <Popconfirm title={t("confirmDelete", { name: row.name })} description={t("confirmDeleteHint")}
                    okText={t("common:actions.delete")} okButtonProps={{ danger: true }} onConfirm={() => remove(row)}>
                    <Button size="small" danger data-testid={`connection-delete-${row.name}`}>{t("common:actions.delete")}</Button>
                  </Popconfirm>
                </Space>
              ),
            },
          ]}
        />
      </Card>
      <ConnectionDrawer open={drawer.open} editing={drawer.editing}
        onClose={() => setDrawer({ open: false, editing: null })}
        onTested={() => setTests(rememberedTests())}
        onSaved={() => { setDrawer({ open: false, editing: null }); setTests(rememberedTests()); load(); }} />
    </div>
  );
}
