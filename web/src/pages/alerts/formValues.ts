/**
 * A rule as the editor's form holds it, and back. The form mirrors the API's shape
 * (`condition.*`, `action.channels[i].*`) so a server error's `field` names a form field;
 * only headers differ (a text area, one `Name: value` per line).
 */
import type { AlertRule, AlertRuleFields, AlertType, Channel, EmailChannel, WebhookChannel } from "../../api/alerts";
import { cleanCondition, defaultCondition } from "./ruleTypes";

export interface ChannelValues {
  type: "webhook" | "email";
  url?: string;
  format?: WebhookChannel["format"];
  secret?: string | null;
  headers_text?: string;
  to?: string[];
  sender?: string;
  smtp_host?: string;
  smtp_port?: number;
  security?: EmailChannel["security"];
  username?: string | null;
  password?: string | null;
}

export interface RuleFormValues {
  alert_name: string;
  alert_type: AlertType;
  enabled: boolean;
  condition: AlertRuleFields["condition"];
  action: { cooldown_minutes: number; notify_resolved: boolean; channels: ChannelValues[] };
}

export const newWebhook = (): ChannelValues => ({ type: "webhook", url: "", format: "generic", headers_text: "" });
export const newEmail = (): ChannelValues => ({ type: "email", to: [], sender: "", smtp_host: "", smtp_port: 25, security: "none" });

export function newRule(): RuleFormValues {
  return {
    alert_name: "", alert_type: "job_failed", enabled: true, condition: defaultCondition("job_failed"),
    action: { cooldown_minutes: 30, notify_resolved: true, channels: [newWebhook()] },
  };
}

export function toForm(rule: AlertRule): RuleFormValues {
  return {
    alert_name: rule.alert_name,
    alert_type: rule.alert_type,
    enabled: rule.enabled,
    condition: { ...rule.condition },
    action: {
      cooldown_minutes: rule.action.cooldown_minutes,
      notify_resolved: rule.action.notify_resolved,
      channels: rule.action.channels.map((channel) => channel.type === "email"
        ? { ...channel }
        : {
          ...channel,
          headers_text: Object.entries(channel.headers ?? {}).map(([name, value]) => `${name}: ${value}`).join("\n"),
        }),
    },
  };
}

function headersOf(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of (text ?? "").split("\n")) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return headers;
}

const orNull = (value: string | null | undefined) => (value ? value : null);

function channelOf(values: ChannelValues): Channel {
  if (values.type === "email") {
    return {
      type: "email", to: values.to ?? [], sender: values.sender ?? "", smtp_host: values.smtp_host ?? "",
      smtp_port: values.smtp_port ?? 25, security: values.security ?? "none",
      username: orNull(values.username), password: orNull(values.password),
    };
  }
  return {
    type: "webhook", url: values.url ?? "", format: values.format ?? "generic",
    secret: orNull(values.secret), headers: headersOf(values.headers_text),
  };
}

export function fromForm(values: RuleFormValues): AlertRuleFields {
  return {
    alert_name: values.alert_name.trim(),
    alert_type: values.alert_type,
    enabled: values.enabled,
    condition: cleanCondition(values.alert_type, values.condition),
    action: {
      cooldown_minutes: values.action.cooldown_minutes,
      notify_resolved: values.action.notify_resolved,
      channels: values.action.channels.map(channelOf),
    },
  };
}

/**
 * The form field a server error names: `action.channels.0.webhook.url` →
 * ["action", "channels", 0, "url"] (pydantic puts the channel's type in the path).
 */
export function formPath(field: string): (string | number)[] | null {
  const parts: (string | number)[] = [];
  const raw = field.split(".");
  for (let index = 0; index < raw.length; index += 1) {
    const part = raw[index];
    if (/^\d+$/.test(part)) {
      parts.push(Number(part));
      if (raw[index - 1] === "channels" && (raw[index + 1] === "webhook" || raw[index + 1] === "email")) index += 1;
      continue;
    }
    parts.push(part === "headers" ? "headers_text" : part);
  }
  const top = parts[0];
  if (top !== "alert_name" && top !== "alert_type" && top !== "condition" && top !== "action" && top !== "enabled") return null;
  // Errors inside a header's name or an e-mail address land on the field itself.
  if (parts.includes("headers_text")) return parts.slice(0, parts.indexOf("headers_text") + 1);
  if (parts[parts.length - 2] === "to" && typeof parts[parts.length - 1] === "number") return parts.slice(0, -1);
  return parts;
}
