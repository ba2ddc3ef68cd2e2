/** Changes a saved job's schedule (manual, cron or one-shot) with the wizard's schedule form;
 *  dependencies, overlap, timeout and missed-run settings are kept as they are. */
import { EditOutlined } from "@ant-design/icons";
import { App, Button, Modal } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { updateJob, type Scheduling } from "../../../api/jobs";
import ErrorAlert from "../../../components/ErrorAlert";
import { useTask } from "../../../lib/useTask";
import ScheduleStep from "../wizard/ScheduleStep";
import type { ScheduleChoice } from "../wizard/model";

export function choiceOf(scheduling: Scheduling | null | undefined): ScheduleChoice {
  const timezone = scheduling?.timezone ?? "UTC";
  if (scheduling?.cron) return { kind: "cron", cron: scheduling.cron, timezone, runAt: null };
  if (scheduling?.run_at) return { kind: "once", cron: "", timezone, runAt: scheduling.run_at };
  return { kind: "manual", cron: "", timezone, runAt: null };
}

/** The new `scheduling`: the choice's time fields over what the job had; null when nothing is left. */
export function schedulingWith(previous: Scheduling | null | undefined, choice: ScheduleChoice): Scheduling | null {
  const next: Scheduling = {
    ...(previous ?? {}),
    cron: choice.kind === "cron" ? choice.cron.trim() : null,
    run_at: choice.kind === "once" ? choice.runAt : null,
    timezone: choice.timezone || "UTC",
  };
  const keeps = next.cron || next.run_at || (next.depends_on?.length ?? 0) > 0 || next.timeout_seconds;
  return keeps ? next : null;
}

interface Props {
  jobId: string;
  scheduling: Scheduling | null | undefined;
  onSaved: () => void;
}

export default function ScheduleEditor({ jobId, scheduling, onSaved }: Props) {
  const { t } = useTranslation("jobs");
  const { message } = App.useApp();
  const [open, setOpen] = useState(false);
  const [choice, setChoice] = useState<ScheduleChoice>(() => choiceOf(scheduling));
  const [error, setError] = useState<unknown>(null);
  const [saving, runSave] = useTask(setError);

  const save = () => runSave(async () => {
    await updateJob(jobId, { scheduling: schedulingWith(scheduling, choice) as Record<string, unknown> | null });
    void message.success(t("scheduleEditor.saved"));
    setOpen(false);
    onSaved();
  });

  const invalid = (choice.kind === "cron" && !choice.cron.trim()) || (choice.kind === "once" && !choice.runAt);
  return (
    <>
      <Button size="small" icon={<EditOutlined />} data-testid="schedule-edit"
        onClick={() => { setChoice(choiceOf(scheduling)); setError(null); setOpen(true); }}>
        {t("common:actions.edit")}
      </Button>
      <Modal open={open} title={t("scheduleEditor.title")} width={760} onCancel={() => setOpen(false)} destroyOnHidden
        okText={t("common:actions.save")} onOk={() => void save()} confirmLoading={saving}
        okButtonProps={{ disabled: invalid, ...{ "data-testid": "schedule-save" } }}>
        <ErrorAlert error={error} />
        <ScheduleStep value={choice} onChange={setChoice} />
      </Modal>
    </>
  );
}
