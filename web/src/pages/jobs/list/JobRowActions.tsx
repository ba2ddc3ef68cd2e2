/** The action buttons of one job row: start/stop/pause/resume, edit in designer, delete. */
import { DeleteOutlined, EditOutlined, PauseOutlined, PlayCircleOutlined, StepForwardOutlined, StopOutlined } from "@ant-design/icons";
import { Button, Popconfirm, Space, Tooltip } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { canDo, type JobSummary } from "../../../api/jobs";
import type { JobActionName } from "../useJobAction";

interface Props {
  job: Pick<JobSummary, "job_id" | "job_name" | "status">;
  busy: string | null;
  onAction: (action: JobActionName) => void;
  size?: "small" | "middle";
  labels?: boolean;
}

export default function JobRowActions({ job, busy, onAction, size = "small", labels = false }: Props) {
  const { t } = useTranslation("jobs");
  const navigate = useNavigate();
  const loading = (action: string) => busy === `${action}:${job.job_id}`;
  const button = (action: Exclude<JobActionName, "delete">, icon: React.ReactNode) => (
    <Tooltip title={labels ? undefined : t(`common:actions.${action}`)}>
      <Button size={size} icon={icon} loading={loading(action)} disabled={!canDo(action, job.status)}
        data-testid={`job-${action}-${job.job_name}`} aria-label={t(`common:actions.${action}`)}
        onClick={() => onAction(action)}>{labels ? t(`common:actions.${action}`) : null}</Button>
    </Tooltip>
  );
  return (
    <Space size={4} wrap>
      {job.status === "paused" ? button("resume", <StepForwardOutlined />) : button("start", <PlayCircleOutlined />)}
      {button("pause", <PauseOutlined />)}
      {button("stop", <StopOutlined />)}
      <Tooltip title={labels ? undefined : t("editInDesigner")}>
        <Button size={size} icon={<EditOutlined />} disabled={!canDo("edit", job.status)}
          data-testid={`job-edit-${job.job_name}`} aria-label={t("editInDesigner")}
          onClick={() => navigate(`/designer/${job.job_id}`)}>{labels ? t("editInDesigner") : null}</Button>
      </Tooltip>
      <Popconfirm title={t("confirmDelete", { name: job.job_name })} okButtonProps={{ danger: true }}
        okText={t("common:actions.delete")} cancelText={t("common:actions.cancel")}
        disabled={!canDo("delete", job.status)} onConfirm={() => onAction("delete")}>
        <Button size={size} danger icon={<DeleteOutlined />} loading={loading("delete")}
          disabled={!canDo("delete", job.status)} data-testid={`job-delete-${job.job_name}`}
          aria-label={t("common:actions.delete")}>{labels ? t("common:actions.delete") : null}</Button>
      </Popconfirm>
    </Space>
  );
}
