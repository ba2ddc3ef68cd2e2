/** Manual, cron (with the next runs) or one-shot; read by the scheduler as `scheduling`. */
import { Alert, DatePicker, Form, Input, Radio, Select, Space, Tag, Typography } from "antd";
import dayjs from "dayjs";
import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import { nextCronTimes } from "./cron";
import type { ScheduleChoice } from "./model";

const PRESETS = ["*/5 * * * *", "0 * * * *", "0 2 * * *", "0 2 * * 1"];

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const all = intl.supportedValuesOf?.("timeZone") ?? ["Asia/Shanghai", "Europe/London", "America/New_York"];
  return ["UTC", ...all.filter((zone) => zone !== "UTC")];
}

export default function ScheduleStep({ value, onChange }: { value: ScheduleChoice; onChange: (value: ScheduleChoice) => void }) {
  const { t } = useTranslation("jobs");
  const zoneOptions = useMemo(() => zones().map((zone) => ({ value: zone, label: zone })), []);
  const next = value.kind === "cron" && value.cron.trim() ? nextCronTimes(value.cron, value.timezone) : null;
  const set = (change: Partial<ScheduleChoice>) => onChange({ ...value, ...change });

  return (
    <Form layout="vertical" style={{ maxWidth: 720 }} data-testid="wizard-schedule">
      <Form.Item label={t("schedule.kind")}>
        <Radio.Group value={value.kind} onChange={(event) => set({ kind: event.target.value })} optionType="button"
          options={[
            { value: "manual", label: t("schedule.manual") },
            { value: "cron", label: t("schedule.cron") },
            { value: "once", label: t("schedule.once") },
          ]} />
      </Form.Item>
      {value.kind === "manual" && <Typography.Paragraph type="secondary">{t("schedule.manualHelp")}</Typography.Paragraph>}
      {value.kind !== "manual" && (
        <Form.Item label={t("schedule.timezone")}>
          <Select showSearch value={value.timezone} options={zoneOptions} style={{ width: 280 }} onChange={(timezone) => set({ timezone })} />
        </Form.Item>
      )}
      {value.kind === "cron" && (
        <>
          <Form.Item label={t("schedule.cronExpression")} extra={t("schedule.cronHelp")}>
            <Input data-testid="wizard-cron" value={value.cron} placeholder="*/5 * * * *" style={{ fontFamily: "monospace", width: 280 }}
              onChange={(event) => set({ cron: event.target.value })} />
          </Form.Item>
          <Space wrap style={{ marginBottom: 16 }}>
            {PRESETS.map((preset) => <Tag key={preset} style={{ cursor: "pointer", fontFamily: "monospace" }} onClick={() => set({ cron: preset })}>{preset}</Tag>)}
          </Space>
          {next === null && value.cron.trim() && <Alert type="warning" showIcon message={t("schedule.cronUnread")} />}
          {next && (
            <div data-testid="wizard-next-runs">
              <Typography.Text strong>{t("schedule.nextRuns")}</Typography.Text>
              {next.map((time) => <div key={time.valueOf()}>{time.format("YYYY-MM-DD HH:mm")} ({value.timezone})</div>)}
            </div>
          )}
        </>
      )}
      {value.kind === "once" && (
        <Form.Item label={t("schedule.runAt")} extra={t("schedule.runAtHelp")}>
          <DatePicker showTime value={value.runAt ? dayjs(value.runAt) : null}
            onChange={(time) => set({ runAt: time ? time.format("YYYY-MM-DDTHH:mm:ss") : null })} />
        </Form.Item>
      )}
    </Form>
  );
}
