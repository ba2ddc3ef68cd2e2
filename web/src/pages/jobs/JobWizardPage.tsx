/** /jobs/new: source → target → field mapping → schedule → review, then the job is created. */
import { App, Button, Card, Space, Steps } from "antd";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { createJob, validateYaml, type ValidationResult } from "../../api/jobs";
import ErrorAlert from "../../components/ErrorAlert";
import { useTask } from "../../lib/useTask";
import EndpointStep from "./wizard/EndpointStep";
import MappingStep from "./wizard/MappingStep";
import { FILES, getPath, pipelineYaml, RDB, schedulingOf, type Endpoint, type WizardState } from "./wizard/model";
import ReviewStep from "./wizard/ReviewStep";
import ScheduleStep from "./wizard/ScheduleStep";

const INITIAL: WizardState = {
  name: "",
  description: "",
  source: { plugin: "", config: {} },
  target: { plugin: "", config: { write: { mode: "insert" } } },
  fields: [],
  schedule: { kind: "manual", cron: "", timezone: "UTC", runAt: null },
};

/** What an endpoint still lacks before the next step, as a translation key; null when ready. */
function missing(endpoint: Endpoint, side: "source" | "target"): string | null {
  if (!endpoint.plugin) return "wizard.needPlugin";
  if (RDB.has(endpoint.plugin)) {
    if (!endpoint.config.connection) return "wizard.needConnection";
    if (side === "source" && !getPath(endpoint.config, ["query", "table"]) && !getPath(endpoint.config, ["query", "sql"])) return "wizard.needTable";
    if (side === "target" && !getPath(endpoint.config, ["write", "table"])) return "wizard.needTable";
  }
  if (FILES.has(endpoint.plugin) && side === "source" && !(getPath(endpoint.config, ["paths"]) as unknown[] | undefined)?.length) return "wizard.needPaths";
  if (FILES.has(endpoint.plugin) && side === "target" && !getPath(endpoint.config, ["path"])) return "wizard.needPath";
  return null;
}

export default function JobWizardPage() {
  const { t } = useTranslation("jobs");
  const navigate = useNavigate();
  const { message } = App.useApp();
  const [step, setStep] = useState(0);
  const [state, setState] = useState<WizardState>(INITIAL);
  const [validation, setValidation] = useState<ValidationResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [validating, runValidate] = useTask(setError);
  const [creating, runCreate] = useTask(setError);
  const yaml = useMemo(() => pipelineYaml(state), [state]);
  const update = (change: Partial<WizardState>) => { setState((current) => ({ ...current, ...change })); setValidation(null); };

  const blocker = step === 0 ? missing(state.source, "source") : step === 1 ? missing(state.target, "target")
    : step === 3 && state.schedule.kind === "cron" && !state.schedule.cron.trim() ? "wizard.needCron"
    : step === 3 && state.schedule.kind === "once" && !state.schedule.runAt ? "wizard.needRunAt" : null;

  const validate = () => runValidate(async () => {
    setValidation(await validateYaml(yaml));
  });

  const create = () => runCreate(async () => {
    const job = await createJob({
      job_name: state.name.trim(), description: state.description.trim() || null, config_yaml: yaml,
      scheduling: schedulingOf(state.schedule) as Record<string, unknown> | null,
    });
    message.success(t("wizard.created", { name: job.job_name }));
    navigate(`/jobs/${job.job_id}`);
  });

  const steps = [
    { title: t("wizard.stepSource"), content: <EndpointStep side="source" value={state.source} onChange={(source) => update({ source })} /> },
    { title: t("wizard.stepTarget"), content: <EndpointStep side="target" value={state.target} onChange={(target) => update({ target })} /> },
    { title: t("wizard.stepMapping"), content: <MappingStep source={state.source} target={state.target} fields={state.fields} onChange={(fields) => update({ fields })} /> },
    { title: t("wizard.stepSchedule"), content: <ScheduleStep value={state.schedule} onChange={(schedule) => update({ schedule })} /> },
    { title: t("wizard.stepReview"), content: (
      <ReviewStep name={state.name} description={state.description} yaml={yaml} validation={validation} validating={validating}
        onName={(name) => update({ name })} onDescription={(description) => update({ description })} onValidate={() => void validate()} />) },
  ];

  return (
    <Card title={t("wizard.title")} data-testid="job-wizard" extra={<Button onClick={() => navigate("/jobs")}>{t("common:actions.cancel")}</Button>}>
      <Steps current={step} items={steps.map((item) => ({ title: item.title }))} style={{ marginBottom: 24 }} size="small"
        onChange={(next) => { if (next < step) setStep(next); }} />
      <div style={{ minHeight: 320 }}>{steps[step].content}</div>
      <ErrorAlert error={error} />
      <Space style={{ marginTop: 16 }}>
        {step > 0 && <Button onClick={() => setStep(step - 1)} data-testid="wizard-back">{t("common:actions.back")}</Button>}
        {step < steps.length - 1 && (
          <Button type="primary" disabled={Boolean(blocker)} onClick={() => setStep(step + 1)} data-testid="wizard-next">{t("common:actions.next")}</Button>
        )}
        {step === steps.length - 1 && (
          <Button type="primary" loading={creating} disabled={!state.name.trim()} onClick={() => void create()} data-testid="wizard-create">
            {t("wizard.create")}
          </Button>
        )}
        {blocker && <span style={{ color: "#8c8c8c" }}>{t(blocker)}</span>}
      </Space>
    </Card>
  );
}
