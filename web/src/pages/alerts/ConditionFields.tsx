/** The inputs of the chosen alert type's condition. */
import { Form, Input, InputNumber, Select } from "antd";
import { useTranslation } from "react-i18next";
import type { AlertType } from "../../api/alerts";
import type { JobSummary } from "../../api/jobs";
import { RULE_FIELDS } from "./ruleTypes";

export default function ConditionFields({ type, jobs }: { type: AlertType; jobs: JobSummary[] }) {
  const { t } = useTranslation("alerts");
  return (
    <>
      {RULE_FIELDS[type].map((field) => {
        const label = t(`fields.${field.name}`);
        const rules = field.required ? [{ required: true, message: t("editor.required", { field: label }) }] : [];
        const help = t(`fieldHelp.${field.name}`, { defaultValue: "" }) || undefined;
        if (field.kind === "job") {
          return (
            <Form.Item key={field.name} name={["condition", field.name]} label={label} rules={rules} tooltip={help}>
              <Select allowClear showSearch optionFilterProp="label" data-testid="rule-job"
                placeholder={field.required ? t("editor.pickJob") : t("editor.everyJob")}
                options={jobs.map((job) => ({ value: job.job_id, label: job.job_name }))} />
            </Form.Item>
          );
        }
        if (field.kind === "text") {
          return (
            <Form.Item key={field.name} name={["condition", field.name]} label={label} tooltip={help}>
              <Input placeholder={t("editor.serverFolder")} />
            </Form.Item>
          );
        }
        return (
          <Form.Item key={field.name} name={["condition", field.name]} label={label} rules={rules} tooltip={help}>
            <InputNumber min={field.min} max={field.max} style={{ width: 220 }} data-testid={`rule-${field.name}`}
              addonAfter={field.unit ? t(`units.${field.unit}`) : undefined} />
          </Form.Item>
        );
      })}
    </>
  );
}
