/** The live numbers of the run started from the designer, over the canvas, with a link to
 *  the job's page. */
import { CloseOutlined } from "@ant-design/icons";
import { Button, Space, Statistic } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import StatusTag from "../components/StatusTag";
import { formatNumber, formatRate } from "../lib/format";
import type { LiveRun } from "./types";

export default function RunBar({ run, jobId, onClose }: { run: LiveRun; jobId: string; onClose: () => void }) {
  const { t } = useTranslation("designer");
  return (
    <div className="fg-runbar" data-testid="run-bar" data-status={run.status ?? ""}>
      <Space size="large" align="center" wrap>
        <StatusTag status={run.status} />
        <Statistic title={t("live.read")} value={formatNumber(run.recordsRead)} />
        <Statistic title={t("live.written")} value={formatNumber(run.recordsWritten)} />
        <Statistic title={t("live.failedTitle")} value={formatNumber(run.recordsFailed)}
          valueStyle={run.recordsFailed ? { color: "#f5222d" } : undefined} />
        <Statistic title={t("live.rate")} value={formatRate(run.recordsPerSecond)} />
        <Link to={`/jobs/${jobId}`} data-testid="run-job-link">{t("live.openJob")}</Link>
      </Space>
      {run.error && <div className="fg-runbar-error">{run.error}</div>}
      <Button type="text" size="small" icon={<CloseOutlined />} onClick={onClose} className="fg-runbar-close" aria-label={t("live.close")} />
    </div>
  );
}
