/** /jobs: every job, paged, sorted and filtered by the server, with live statuses. */
import { DeleteOutlined, DownloadOutlined, PlayCircleOutlined, ReloadOutlined, StopOutlined } from "@ant-design/icons";
import { App, Button, Card, Empty, Input, Popconfirm, Select, Space, Table, Tag, Typography } from "antd";
import type { TableProps } from "antd";
import { useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router-dom";
import type { Page } from "../../api/client";
import { canDo, listJobs, type JobQuery, type JobStatus, type JobSummary } from "../../api/jobs";
import { useLiveEvents } from "../../api/live";
import { listPlugins, type PluginSummary } from "../../api/plugins";
import ErrorAlert, { errorText } from "../../components/ErrorAlert";
import StatusTag from "../../components/StatusTag";
import { formatTime } from "../../lib/format";
import JobRowActions from "./list/JobRowActions";
import NewJobButton from "./list/NewJobButton";
import ScheduleCell from "./list/ScheduleCell";
import { useJobDetails } from "./list/useJobDetails";
import { exportJobs } from "./list/yamlFiles";
import { useJobAction, type JobActionName } from "./useJobAction";

const STATUSES: JobStatus[] = ["draft", "ready", "running", "paused", "stopped", "succeeded", "failed"];
const SORTABLE = new Set(["job_name", "status", "updated_at", "created_at", "priority"]);

export default function JobListPage() {
  const { t } = useTranslation("jobs");
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [query, setQuery] = useState<JobQuery>({ page: 1, page_size: 20, sort: "-updated_at" });
  const [data, setData] = useState<Page<JobSummary> | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<React.Key[]>([]);
  const [plugins, setPlugins] = useState<PluginSummary[]>([]);
  const [version, setVersion] = useState(0);
  const [batchBusy, setBatchBusy] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setData(await listJobs(query));
      setError(null);
    } catch (caught) {
      setError(caught);
    } finally {
      setLoading(false);
      setVersion((value) => value + 1);
    }
  }, [query]);

  useEffect(() => { void load(); }, [load]);
  useEffect(() => { listPlugins().then((page) => setPlugins(page.items)).catch(() => setPlugins([])); }, []);

  const rows = data?.items ?? [];
  const details = useJobDetails(rows.map((row) => row.job_id), version);
  const { run, busy } = useJobAction(() => void load());

  // A job_status event changes the row's tag at once; a run's end reloads counts and order.
  useLiveEvents("*", (event) => {
    if (event.type !== "job_status") return;
    const status = event.data.status as JobStatus | null;
    if (!status) return;
    setData((page) => page && {
      ...page,
      items: page.items.map((row) => (row.job_id === event.job_id ? { ...row, status } : row)),
    });
    if (event.data.execution_status && event.data.execution_status !== "running") void load();
  });

  const pluginOptions = (kind: "input" | "output") => plugins
    .filter((plugin) => plugin.kind === kind)
    .map((plugin) => ({ label: plugin.name, value: plugin.name }));

  const sortOrder = (field: string) => {
    if (query.sort === field) return "ascend" as const;
    if (query.sort === `-${field}`) return "descend" as const;
    return null;
  };

  const onTableChange: TableProps<JobSummary>["onChange"] = (pagination, filters, sorter) => {
    const single = Array.isArray(sorter) ? sorter[0] : sorter;
    const field = typeof single?.field === "string" ? single.field : undefined;
    const sort = single?.order && field && SORTABLE.has(field) ? `${single.order === "descend" ? "-" : ""}${field}` : "-updated_at";
    const first = (key: string) => (filters[key]?.[0] as string | undefined) ?? undefined;
    setQuery((current) => ({
      ...current,
      page: pagination.current ?? 1,
      page_size: pagination.pageSize ?? 20,
      sort,
      status: first("status") as JobStatus | undefined,
      job_type: first("job_type") as "ETL" | "ELT" | undefined,
    }));
  };

  const onRowAction = (job: JobSummary) => (action: JobActionName) => void run(action, job.job_id, job.job_name);

  const selectedJobs = rows.filter((row) => selected.includes(row.job_id));
  const batch = async (action: "start" | "stop" | "delete") => {
    setBatchBusy(true);
    const eligible = selectedJobs.filter((job) => canDo(action, job.status));
    let done = 0;
    for (const job of eligible) if (await run(action, job.job_id, job.job_name)) done += 1;
    const skipped = selectedJobs.length - eligible.length;
    message.info(t("batch.done", { done, skipped }));
    setBatchBusy(false);
    if (action === "delete") setSelected([]);
    void load();
  };
  const onExport = async () => {
    try {
      const count = await exportJobs(selected.map(String));
      message.success(t("batch.exported", { count }));
    } catch (caught) {
      message.error(errorText(caught));
    }
  };

  const columns = useMemo<TableProps<JobSummary>["columns"]>(() => [
    {
      title: t("col.name"), dataIndex: "job_name", key: "job_name", sorter: true, sortOrder: sortOrder("job_name"), ellipsis: true,
      render: (name: string, job) => (
        <div>
          <Link to={`/jobs/${job.job_id}`} data-testid={`job-link-${name}`}>{name}</Link>
          {!job.enabled && <Tag style={{ marginLeft: 6 }}>{t("list.disabled")}</Tag>}
          {job.description && <Typography.Paragraph type="secondary" ellipsis={{ rows: 1, tooltip: job.description }} style={{ margin: 0, fontSize: 12 }}>{job.description}</Typography.Paragraph>}
        </div>
      ),
    },
    {
      title: t("col.type"), dataIndex: "job_type", key: "job_type", width: 76,
      filters: [{ text: "ETL", value: "ETL" }, { text: "ELT", value: "ELT" }], filterMultiple: false,
      filteredValue: query.job_type ? [query.job_type] : null,
      render: (type: string) => <Tag>{type}</Tag>,
    },
    {
      title: t("col.sourceTarget"), key: "ends", width: 170,
      render: (_: unknown, job) => (
        <Space size={2}>{job.source_type ? <Tag color="green">{job.source_type}</Tag> : "–"}→{job.target_type ? <Tag color="blue">{job.target_type}</Tag> : "–"}</Space>
      ),
    },
    {
      title: t("col.status"), dataIndex: "status", key: "status", width: 110, sorter: true, sortOrder: sortOrder("status"),
      filters: STATUSES.map((status) => ({ text: t(`common:status.${status}`), value: status })), filterMultiple: false,
      filteredValue: query.status ? [query.status] : null,
      render: (status: string, job) => <span data-testid={`job-status-${job.job_name}`}><StatusTag status={status} /></span>,
    },
    {
      title: t("col.schedule"), key: "schedule", width: 150,
      render: (_: unknown, job) => <ScheduleCell extras={details[job.job_id]} />,
    },
    {
      title: t("col.updated"), dataIndex: "updated_at", key: "updated_at", width: 160, sorter: true, sortOrder: sortOrder("updated_at"),
      render: (value: string) => formatTime(value),
    },
    {
      title: t("col.priority"), dataIndex: "priority", key: "priority", width: 84, sorter: true, sortOrder: sortOrder("priority"), align: "right",
    },
    {
      title: t("col.actions"), key: "actions", width: 170, fixed: "right",
      render: (_: unknown, job) => <JobRowActions job={job} busy={busy} onAction={onRowAction(job)} />,
    },
  // sortOrder and onRowAction are rebuilt each render but change only with query (and busy), which are listed.
  ], [t, query, plugins, details, busy]);

  const filtered = Boolean(query.status || query.job_type || query.source || query.target || query.q);
  const empty = (
    <Empty data-testid="jobs-empty" image={Empty.PRESENTED_IMAGE_SIMPLE}
      description={filtered ? t("list.noMatch") : t("list.empty")}>
      {filtered
        ? <Button onClick={() => setQuery({ page: 1, page_size: query.page_size, sort: query.sort })}>{t("list.clearFilters")}</Button>
        : <Space><Button type="primary" onClick={() => navigate("/jobs/new")}>{t("new.wizard")}</Button>
            <Button onClick={() => navigate("/designer")}>{t("new.designer")}</Button></Space>}
    </Empty>
  );

  return (
    <Card title={t("list.title")} data-testid="jobs-page"
      extra={<Space>
        <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t("common:actions.refresh")} />
        <NewJobButton onImported={() => void load()} />
      </Space>}>
      <ErrorAlert error={error} onRetry={() => void load()} />
      <Space style={{ marginBottom: 12, width: "100%", justifyContent: "space-between" }} wrap>
        <Space wrap>
        <Input.Search allowClear placeholder={t("list.search")} style={{ width: 240 }} data-testid="jobs-search"
          onSearch={(value) => setQuery((current) => ({ ...current, q: value || undefined, page: 1 }))} />
        <Select allowClear showSearch placeholder={t("col.source")} style={{ width: 150 }} value={query.source}
          data-testid="jobs-filter-source" options={pluginOptions("input")}
          onChange={(value?: string) => setQuery((current) => ({ ...current, source: value, page: 1 }))} />
        <Select allowClear showSearch placeholder={t("col.target")} style={{ width: 150 }} value={query.target}
          data-testid="jobs-filter-target" options={pluginOptions("output")}
          onChange={(value?: string) => setQuery((current) => ({ ...current, target: value, page: 1 }))} />
        </Space>
        <Space wrap>
          <Typography.Text type="secondary">{t("batch.selected", { count: selected.length })}</Typography.Text>
          <Button icon={<PlayCircleOutlined />} disabled={!selected.length} loading={batchBusy}
            data-testid="jobs-batch-start" onClick={() => void batch("start")}>{t("common:actions.start")}</Button>
          <Button icon={<StopOutlined />} disabled={!selected.length} loading={batchBusy}
            data-testid="jobs-batch-stop" onClick={() => void batch("stop")}>{t("common:actions.stop")}</Button>
          <Button icon={<DownloadOutlined />} disabled={!selected.length}
            data-testid="jobs-batch-export" onClick={() => void onExport()}>{t("common:actions.export")}</Button>
          <Popconfirm title={t("batch.confirmDelete", { count: selected.length })} okButtonProps={{ danger: true }}
            okText={t("common:actions.delete")} cancelText={t("common:actions.cancel")}
            disabled={!selected.length} onConfirm={() => void batch("delete")}>
            <Button danger icon={<DeleteOutlined />} disabled={!selected.length} loading={batchBusy}
              data-testid="jobs-batch-delete">{t("common:actions.delete")}</Button>
          </Popconfirm>
        </Space>
      </Space>
      <Table<JobSummary> rowKey="job_id" size="middle" columns={columns} dataSource={rows} loading={loading}
        data-testid="jobs-table" scroll={{ x: 1080 }} onChange={onTableChange}
        rowSelection={{ selectedRowKeys: selected, onChange: setSelected, preserveSelectedRowKeys: true }}
        onRow={(job) => ({ "data-testid": `job-row-${job.job_name}` } as React.HTMLAttributes<HTMLElement>)}
        locale={{ emptyText: loading ? " " : empty }}
        pagination={{
          current: query.page, pageSize: query.page_size, total: data?.total ?? 0, showSizeChanger: true,
          pageSizeOptions: [10, 20, 50, 100], showTotal: (total) => t("list.total", { total }),
        }} />
    </Card>
  );
}
