/** Runs a job action (start/stop/pause/resume/delete) with feedback in the current language. */
import { App } from "antd";
import { useCallback, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { deleteJob, jobAction } from "../../api/jobs";

export type JobActionName = "start" | "stop" | "pause" | "resume" | "delete";

export function useJobAction(onDone?: (action: JobActionName, jobId: string) => void) {
  const { t } = useTranslation("jobs");
  const { message, notification } = App.useApp();
  const [busy, setBusy] = useState<string | null>(null);

  const run = useCallback(async (action: JobActionName, jobId: string, jobName: string) => {
    setBusy(`${action}:${jobId}`);
    try {
      if (action === "delete") await deleteJob(jobId);
      else await jobAction(jobId, action);
      message.success(t(`actionDone.${action}`, { name: jobName }));
      onDone?.(action, jobId);
      return true;
    } catch (error) {
      notification.error({
        message: t("actionFailed", { action: t(`common:actions.${action}`), name: jobName }),
        description: error instanceof ApiError && error.hint ? `${error.message} ${error.hint}` : String((error as Error).message ?? error),
      });
      return false;
    } finally {
      setBusy(null);
    }
  }, [message, notification, onDone, t]);

  return { run, busy };
}
