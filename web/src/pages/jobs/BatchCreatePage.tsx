/** /jobs/batch: many table-to-table jobs from one template (saved source and target
 * connections, the tables, a name pattern, a write mode), created one by one. */
import { Alert, App, Button, Card, Checkbox, Col, Empty, Form, Input, List, Progress, Row, Select, Space, Table, Typography } from "antd";
import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import { listConnections, listTables, type Connection } from "../../api/connections";
import { createJob, type Job } from "../../api/jobs";
import ErrorAlert from "../../components/ErrorAlert";
import { useTask } from "../../lib/useTask";
import { parseTables, planJobs, type PlannedJob } from "./batch/plan";
import { connectionSettings } from "./wizard/EndpointStep";

const WRITE_MODES = ["insert", "update", "upsert", "replace", "merge", "truncate"];

interface Outcome { created: Job[]; failed: { job: PlannedJob; message: string }[]; done: number }

export default function BatchCreatePage() {
  const { t } = useTranslation("jobs");
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [sourceId, setSourceId] = useState<string>();
  const [targetId, setTargetId] = useState<string>();
  const [tablesText, setTablesText] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [namePattern, setNamePattern] = useState("sync-{table}");
  const [tablePattern, setTablePattern] = useState("{table}");
  const [mode, setMode] = useState("insert");
  const [conflictKey, setConflictKey] = useState<string[]>([]);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [schema, setSchema] = useState("");
  const [tablesError, setTablesError] = useState<unknown>(null);
  const [loadingTables, runLoadTables] = useTask(setTablesError);
  const [running, setRunning] = useState(false);

  useEffect(() => {
    listConnections({ page_size: 500 }).then((page) => setConnections(page.items)).catch((caught) => { setError(caught); setConnections([]); });
  }, []);

  const tables = useMemo(() => parseTables(tablesText), [tablesText]);
  useEffect(() => { setChosen(tables); }, [tables]);
  const source = connections?.find((item) => item.connection_id === sourceId);
  const target = connections?.find((item) => item.connection_id === targetId);
  const sourceSettings = source ? connectionSettings(source) : null;
  const targetSettings = target ? connectionSettings(target) : null;
  const secrets = [...(sourceSettings?.secrets ?? []), ...(targetSettings?.secrets ?? [])];

  const plan = useMemo(() => (source && target && sourceSettings && targetSettings
    ? planJobs({ sourceType: source.type, sourceConfig: sourceSettings.config, targetType: target.type, targetConfig: targetSettings.config,
        namePattern, tablePattern, mode, conflictKey }, tables.filter((table) => chosen.includes(table)))
    : []),
  // The settings are derived from source and target, so these cover them.
  [source, target, namePattern, tablePattern, mode, conflictKey, tables, chosen]);

  /** Fills the table list from the source's catalog (tables of the default or given schema). */
  const loadTables = async (connectionId: string | undefined, wanted: string) => {
    if (!connectionId) return;
    await runLoadTables(async () => {
      const listed = await listTables(connectionId, wanted || undefined);
      const names = listed.items.filter((item) => item.kind !== "sequence")
        .map((item) => (wanted ? `${item.schema}.${item.name}` : item.name));
      setTablesText(names.join("\n"));
      if (!wanted) setSchema(listed.schema);
    });
  };

  const createAll = async () => {
    setRunning(true);
    const result: Outcome = { created: [], failed: [], done: 0 };
    setOutcome({ ...result });
    for (const job of plan) {
      try {
        result.created.push(await createJob({ job_name: job.name, config_yaml: job.yaml }));
      } catch (caught) {
        result.failed.push({ job, message: (caught as Error).message });
      }
      result.done += 1;
      setOutcome({ ...result, created: [...result.created], failed: [...result.failed] });
    }
    setRunning(false);
    if (!result.failed.length) message.success(t("batchCreate.allCreated", { count: result.created.length }));
  };

  if (connections && connections.length === 0 && !error) {
    return (
      <Card title={t("batchCreate.title")}>
        <Empty description={t("batchCreate.noConnections")}>
          <Button type="primary" onClick={() => navigate("/connections")}>{t("batchCreate.toConnections")}</Button>
        </Empty>
      </Card>
    );
  }

  const options = (connections ?? []).map((item) => ({ value: item.connection_id, label: `${item.name} (${item.type})` }));
  const invalidPattern = !namePattern.includes("{table}");

  return (
    <Card title={t("batchCreate.title")} data-testid="batch-create" loading={connections === null}
      extra={<Button onClick={() => navigate("/jobs")}>{t("common:actions.back")}</Button>}>
      <ErrorAlert error={error} />
      <Row gutter={24}>
        <Col xs={24} xl={10}>
          <Form layout="vertical">
            <Form.Item label={t("batchCreate.source")} required>
              <Select showSearch optionFilterProp="label" value={sourceId} options={options} data-testid="batch-source" placeholder={t("wizard.pickConnection")}
                onChange={(value: string) => { setSourceId(value); setSchema(""); void loadTables(value, ""); }} />
            </Form.Item>
            <Form.Item label={t("batchCreate.target")} required>
              <Select showSearch optionFilterProp="label" value={targetId} onChange={setTargetId} options={options} data-testid="batch-target" placeholder={t("wizard.pickConnection")} />
            </Form.Item>
            <Form.Item label={t("batchCreate.schema")}>
              <Space.Compact style={{ width: "100%" }}>
                <Input value={schema} onChange={(event) => setSchema(event.target.value)} data-testid="batch-schema"
                  placeholder={t("batchCreate.schemaPlaceholder")} onPressEnter={() => void loadTables(sourceId, schema)} />
                <Button onClick={() => void loadTables(sourceId, schema)} loading={loadingTables} disabled={!sourceId}
                  data-testid="batch-load-tables">{t("batchCreate.loadTables")}</Button>
              </Space.Compact>
            </Form.Item>
            <ErrorAlert error={tablesError} />
            <Form.Item label={t("batchCreate.tables")} required extra={t("batchCreate.tablesHelp")}>
              <Input.TextArea value={tablesText} onChange={(event) => setTablesText(event.target.value)} autoSize={{ minRows: 4, maxRows: 10 }}
                placeholder={"orders\ncustomers\nshop.products"} data-testid="batch-tables" style={{ fontFamily: "monospace" }} />
            </Form.Item>
            {tables.length > 0 && (
              <Form.Item label={t("batchCreate.choose", { chosen: chosen.length, total: tables.length })}>
                <Checkbox.Group value={chosen} onChange={(values) => setChosen(values as string[])} data-testid="batch-choose"
                  options={tables.map((table) => ({ value: table, label: table }))} />
              </Form.Item>
            )}
            <Space size={16} wrap>
              <Form.Item label={t("batchCreate.namePattern")} validateStatus={invalidPattern ? "error" : undefined}
                help={invalidPattern ? t("batchCreate.needPlaceholder") : undefined}>
                <Input value={namePattern} onChange={(event) => setNamePattern(event.target.value)} data-testid="batch-name-pattern" style={{ width: 220 }} />
              </Form.Item>
              <Form.Item label={t("batchCreate.tablePattern")}>
                <Input value={tablePattern} onChange={(event) => setTablePattern(event.target.value)} style={{ width: 200 }} data-testid="batch-table-pattern" />
              </Form.Item>
            </Space>
            <Space size={16} wrap>
              <Form.Item label={t("wizard.writeMode")}>
                <Select value={mode} onChange={setMode} style={{ width: 220 }} data-testid="batch-mode"
                  options={WRITE_MODES.map((item) => ({ value: item, label: `${item} — ${t(`writeMode.${item}`)}` }))} />
              </Form.Item>
              <Form.Item label={t("wizard.conflictKey")}>
                <Select mode="tags" value={conflictKey} onChange={setConflictKey} style={{ width: 200 }} />
              </Form.Item>
            </Space>
          </Form>
        </Col>
        <Col xs={24} xl={14}>
          <Typography.Title level={5}>{t("batchCreate.preview", { count: plan.length })}</Typography.Title>
          {secrets.length > 0 && <Alert type="info" showIcon style={{ marginBottom: 12 }} message={t("wizard.secretsAsEnv", { names: secrets.join(", ") })} />}
          <Table<PlannedJob> size="small" rowKey="name" dataSource={plan} pagination={{ pageSize: 10, hideOnSinglePage: true }} data-testid="batch-preview"
            locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("batchCreate.previewEmpty")} /> }}
            expandable={{ expandedRowRender: (job) => <pre style={{ margin: 0, fontSize: 12 }}>{job.yaml}</pre> }}
            columns={[
              { title: t("col.name"), dataIndex: "name" },
              { title: t("batchCreate.sourceTable"), dataIndex: "table" },
              { title: t("batchCreate.targetTable"), dataIndex: "targetTable" },
            ]} />
          <Space style={{ marginTop: 12 }}>
            <Button type="primary" disabled={!plan.length || invalidPattern || running} loading={running} onClick={() => void createAll()} data-testid="batch-create-all">
              {t("batchCreate.createAll", { count: plan.length })}
            </Button>
          </Space>
          {outcome && (
            <div style={{ marginTop: 16 }} data-testid="batch-outcome">
              <Progress percent={plan.length ? Math.round((outcome.done / Math.max(plan.length, outcome.done)) * 100) : 100}
                status={outcome.failed.length ? "exception" : running ? "active" : "success"} />
              <Typography.Paragraph>{t("batchCreate.outcome", { created: outcome.created.length, failed: outcome.failed.length })}{" "}
                {!running && outcome.created.length > 0 && <Link to="/jobs">{t("batchCreate.toList")}</Link>}</Typography.Paragraph>
              {outcome.failed.length > 0 && (
                <List size="small" bordered dataSource={outcome.failed} data-testid="batch-failures"
                  renderItem={(item) => <List.Item><Typography.Text strong>{item.job.name}</Typography.Text>: {item.message}</List.Item>} />
              )}
            </div>
          )}
        </Col>
      </Row>
    </Card>
  );
}
