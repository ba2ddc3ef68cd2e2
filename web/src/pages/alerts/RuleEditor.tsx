/**
 * Creates or edits an alert rule in a drawer. The server validates again; its error lands
 * on the field it names (ApiError.field / details), else above the form.
 */
import { Alert, App, Button, Divider, Drawer, Form, Input, InputNumber, Select, Space, Switch } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ALERT_TYPES, createAlertRule, updateAlertRule, type AlertRule, type AlertType } from "../../api/alerts";
import { ApiError } from "../../api/client";
import type { JobSummary } from "../../api/jobs";
import ErrorAlert from "../../components/ErrorAlert";
import ChannelFields from "./ChannelFields";
import ConditionFields from "./ConditionFields";
import { formPath, fromForm, newRule, toForm, type RuleFormValues } from "./formValues";
import { defaultCondition } from "./ruleTypes";

interface Props {
  open: boolean;
  /** The rule edited; null: a new one. */
  rule: AlertRule | null;
  jobs: JobSummary[];
  onClose: () => void;
  onSaved: (rule: AlertRule) => void;
}

export default function RuleEditor({ open, rule, jobs, onClose, onSaved }: Props) {
  const { t } = useTranslation("alerts");
  const { message } = App.useApp();
  const [form] = Form.useForm<RuleFormValues>();
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const type = (Form.useWatch("alert_type", form) as AlertType | undefined) ?? "job_failed";

  useEffect(() => {
    if (open) setError(null);
  }, [open, rule]);

  const save = async () => {
    let values: RuleFormValues;
    try {
      await form.validateFields();
      values = form.getFieldsValue(true) as RuleFormValues;
    } catch {
      return; // the form shows what is missing
    }
    setSaving(true);
    setError(null);
    try {
      const fields = fromForm(values);
      const saved = rule ? await updateAlertRule(rule.alert_id, fields) : await createAlertRule(fields);
      message.success(rule ? t("editor.updated") : t("editor.created"));
      onSaved(saved);
    } catch (reason) {
      if (!showOnFields(reason)) setError(reason);
    } finally {
      setSaving(false);
    }
  };

  /** Puts the server's errors on their fields; false when none names a field of the form. */
  function showOnFields(reason: unknown): boolean {
    if (!(reason instanceof ApiError)) return false;
    const problems = reason.details.length ? reason.details : [{ field: reason.field, message: reason.message }];
    const placed = problems.flatMap((problem) => {
      const path = problem.field ? formPath(problem.field) : null;
      // The message starts with the field's path, which the field itself makes plain.
      return path ? [{ name: path, errors: [problem.message.replace(/^`[^`]+`:\s*/, "")] }] : [];
    });
    if (!placed.length) return false;
    // The paths come from the server, not from the form's type.
    form.setFields(placed as Parameters<typeof form.setFields>[0]);
    form.scrollToField(placed[0].name);
    if (reason.hint) setError(reason);
    return true;
  }

  return (
    <Drawer open={open} onClose={onClose} width={640} destroyOnHidden data-testid="rule-editor"
      title={rule ? t("editor.editTitle", { name: rule.alert_name }) : t("editor.newTitle")}
      extra={(
        <Space>
          <Button onClick={onClose}>{t("common:actions.cancel")}</Button>
          <Button type="primary" loading={saving} onClick={() => void save()} data-testid="rule-save">{t("common:actions.save")}</Button>
        </Space>
      )}>
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical" preserve={false}
        key={rule?.alert_id ?? "new"} initialValues={rule ? toForm(rule) : newRule()}>
        <Form.Item name="alert_name" label={t("fields.alert_name")}
          rules={[{ required: true, whitespace: true, message: t("editor.required", { field: t("fields.alert_name") }) }]}>
          <Input maxLength={255} placeholder={t("editor.namePlaceholder")} data-testid="rule-name" />
        </Form.Item>
        <Form.Item name="alert_type" label={t("fields.alert_type")} extra={t(`typeHelp.${type}`)}>
          <Select data-testid="rule-type"
            onChange={(value: AlertType) => form.setFieldValue("condition", defaultCondition(value))}
            options={ALERT_TYPES.map((value) => ({ value, label: t(`types.${value}`) }))} />
        </Form.Item>
        <Form.Item name="enabled" label={t("fields.enabled")} valuePropName="checked">
          <Switch />
        </Form.Item>
        <Divider orientation="left" plain>{t("editor.condition")}</Divider>
        <ConditionFields type={type} jobs={jobs} />
        <Divider orientation="left" plain>{t("editor.channels")}</Divider>
        <ChannelFields />
        <Divider orientation="left" plain>{t("editor.delivery")}</Divider>
        <Space size={24} align="start" wrap>
          <Form.Item name={["action", "cooldown_minutes"]} label={t("fields.cooldown_minutes")} tooltip={t("fieldHelp.cooldown_minutes")}>
            <InputNumber min={0} max={10080} addonAfter={t("units.minutes")} style={{ width: 180 }} />
          </Form.Item>
          <Form.Item name={["action", "notify_resolved"]} label={t("fields.notify_resolved")} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Space>
        {rule && <Alert type="info" showIcon message={t("editor.secretsKept")} />}
      </Form>
    </Drawer>
  );
}
