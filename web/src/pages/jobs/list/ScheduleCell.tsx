/** A job's schedule in a table cell: its cron (and next run), a one-shot time, or "manual". */
import { Tag, Tooltip, Typography } from "antd";
import { useTranslation } from "react-i18next";
import type { Scheduling } from "../../../api/jobs";
import { formatTime } from "../../../lib/format";
import type { JobExtras } from "./useJobDetails";

export default function ScheduleCell({ extras }: { extras: JobExtras | undefined }) {
  const { t } = useTranslation("jobs");
  if (!extras) return <Typography.Text type="secondary">…</Typography.Text>;
  const scheduling = extras.scheduling as Scheduling | null;
  const next = extras.next_runs[0];
  const nextLine = next ? <div style={{ fontSize: 12, color: "#8c8c8c" }}>{t("list.nextRun", { time: formatTime(next) })}</div> : null;
  if (scheduling?.cron) {
    return (
      <Tooltip title={scheduling.timezone}>
        <Tag color="purple" style={{ fontFamily: "monospace" }}>{scheduling.cron}</Tag>{nextLine}
      </Tooltip>
    );
  }
  if (scheduling?.run_at) return <><Tag color="geekblue">{t("schedule.once")}</Tag>{nextLine}</>;
  if (scheduling?.depends_on?.length) return <Tag>{t("schedule.afterUpstream", { count: scheduling.depends_on.length })}</Tag>;
  return <Typography.Text type="secondary">{t("schedule.manual")}</Typography.Text>;
}
