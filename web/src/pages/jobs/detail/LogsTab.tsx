/** A job's run logs: the history from the logs API, then live `log_entry` events appended. */
import { DownloadOutlined, ReloadOutlined } from "@ant-design/icons";
import { Button, DatePicker, Empty, Input, Pagination, Select, Space, Spin, Switch, Typography } from "antd";
import type { Dayjs } from "dayjs";
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useLiveEvents } from "../../../api/live";
import { jobLogs, jobLogsDownloadUrl, levelAtLeast, type LogEntry, type LogFilter } from "../../../api/logs";
import ErrorAlert from "../../../components/ErrorAlert";
import { formatTime } from "../../../lib/format";

const LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const PAGE_SIZE = 500;
const LEVEL_COLORS: Record<string, string> = { DEBUG: "#8c8c8c", INFO: "#1677ff", WARN: "#d48806", WARNING: "#d48806", ERROR: "#cf1322", FATAL: "#a8071a", CRITICAL: "#a8071a" };

function LogLine({ entry }: { entry: LogEntry }) {
  return (
    <div className="fg-log-line" data-testid="log-line" data-level={entry.level}
      style={{ whiteSpace: "pre-wrap", wordBreak: "break-word", padding: "1px 0" }}>
      <span style={{ color: "#8c8c8c" }}>{formatTime(entry.timestamp)}</span>{" "}
      <span style={{ color: LEVEL_COLORS[entry.level] ?? "#595959", fontWeight: 600, display: "inline-block", minWidth: 48 }}>{entry.level}</span>{" "}
      <span style={{ color: "#8c8c8c" }}>[{entry.execution_id.slice(0, 8)}]</span>{" "}
      {entry.message}
      {entry.error && <div style={{ color: "#cf1322", marginLeft: 24 }}>{entry.error}</div>}
    </div>
  );
}

export default function LogsTab({ jobId, live }: { jobId: string; live: boolean }) {
  const { t } = useTranslation("jobs");
  const [level, setLevel] = useState<string | undefined>(undefined);
  const [keyword, setKeyword] = useState<string>("");
  const [range, setRange] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const [page, setPage] = useState(1);
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [total, setTotal] = useState(0);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);

  const filter: LogFilter = {
    level, q: keyword || undefined,
    since: range?.[0]?.toISOString(), until: range?.[1]?.toISOString(),
  };
  const filterKey = JSON.stringify(filter);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const result = await jobLogs(jobId, { ...filter, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
      setEntries(result.items);
      setTotal(result.total);
      setError(null);
    } catch (caught) {
      setError(caught);
    } finally {
      setLoading(false);
    }
    // filterKey stands for the filter object, which is rebuilt on every render.
  }, [jobId, filterKey, page]);

  useEffect(() => { void load(); }, [load]);

  // New lines join the view when it shows the newest page and they pass the filters.
  const lastPage = page >= Math.max(1, Math.ceil(total / PAGE_SIZE));
  useLiveEvents(jobId, (event) => {
    if (event.type !== "log_entry" || !lastPage || range?.[1]) return;
    const entry = event.data as unknown as LogEntry;
    if (!levelAtLeast(entry.level, level)) return;
    const text = `${entry.message} ${entry.error ?? ""}`.toLowerCase();
    if (keyword && !text.includes(keyword.toLowerCase())) return;
    setTotal((value) => value + 1);
    setEntries((current) => (current.length >= PAGE_SIZE ? current : [...current, entry]));
  });

  useLayoutEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [entries, follow]);

  return (
    <div data-testid="job-logs">
      <Space wrap style={{ marginBottom: 12 }}>
        <Select allowClear placeholder={t("logs.level")} style={{ width: 140 }} value={level} data-testid="log-level"
          onChange={(value) => { setLevel(value); setPage(1); }}
          options={LEVELS.map((value) => ({ value, label: t("logs.atLeast", { level: value }) }))} />
        <Input.Search allowClear placeholder={t("logs.search")} style={{ width: 240 }} data-testid="log-search"
          onSearch={(value) => { setKeyword(value); setPage(1); }} />
        <DatePicker.RangePicker showTime allowEmpty={[true, true]} value={range}
          onChange={(value) => { setRange(value as [Dayjs | null, Dayjs | null] | null); setPage(1); }} />
        <Button icon={<ReloadOutlined />} onClick={() => void load()} aria-label={t("common:actions.refresh")} />
        <Button icon={<DownloadOutlined />} href={jobLogsDownloadUrl(jobId, filter)} data-testid="log-download">
          {t("common:actions.download")}
        </Button>
        <Space size={4}>
          <Switch size="small" checked={follow} onChange={setFollow} data-testid="log-follow" />
          <Typography.Text>{t("logs.follow")}</Typography.Text>
        </Space>
        {live && <Typography.Text type="success">● {t("logs.live")}</Typography.Text>}
      </Space>
      <ErrorAlert error={error} onRetry={() => void load()} />
      <Spin spinning={loading}>
        <div ref={box} data-testid="log-box"
          style={{ fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", fontSize: 12, lineHeight: 1.6,
            background: "#fafafa", border: "1px solid #f0f0f0", borderRadius: 6, padding: "8px 12px", height: 480, overflow: "auto" }}>
          {entries.length === 0 && !loading
            ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={level || keyword || range ? t("logs.noMatch") : t("logs.empty")} />
            : entries.map((entry, index) => <LogLine key={`${entry.timestamp}-${index}`} entry={entry} />)}
        </div>
      </Spin>
      {total > PAGE_SIZE && (
        <Pagination style={{ marginTop: 8, textAlign: "right" }} size="small" current={page} pageSize={PAGE_SIZE}
          total={total} showSizeChanger={false} onChange={setPage} />
      )}
      <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="log-total">{t("logs.total", { total })}</Typography.Text>
    </div>
  );
}
