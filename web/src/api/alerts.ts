/** `/api/v1/alerts`: rules, their events and a test send (server/api/alerts.py, alerts/rules.py). */
import { del, get, post, put, type Page } from "./client";

export const ALERT_TYPES = [
  "job_failed", "error_rate", "low_throughput", "long_run", "no_run_since", "disk_space",
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const WEBHOOK_FORMATS = ["generic", "slack", "dingtalk", "wecom", "feishu"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** What responses show in place of a stored secret; sending it back keeps the secret. */
export const MASK = "********";

export interface WebhookChannel {
  type: "webhook";
  url: string;
  format: WebhookFormat;
  secret?: string | null;
  headers?: Record<string, string>;
}

export interface EmailChannel {
  type: "email";
  to: string[];
  sender: string;
  smtp_host: string;
  smtp_port: number;
  security: "none" | "starttls" | "ssl";
  username?: string | null;
  password?: string | null;
}

export type Channel = WebhookChannel | EmailChannel;

export interface AlertAction {
  channels: Channel[];
  cooldown_minutes: number;
  notify_resolved: boolean;
}

/** The union of every type's condition fields (each type takes a subset). */
export interface AlertCondition {
  job_id?: string | null;
  threshold_percent?: number;
  window_minutes?: number;
  min_records?: number;
  min_records_per_second?: number;
  for_minutes?: number;
  max_minutes?: number;
  minutes?: number;
  path?: string | null;
  min_free_percent?: number;
}

export interface Delivery {
  channel: string;
  ok: boolean;
  error?: string | null;
  [key: string]: unknown;
}

export interface AlertEvent {
  event_id: string;
  subject: string;
  status: "firing" | "resolved" | string;
  message: string;
  started_at: string;
  resolved_at: string | null;
  notified_at: string | null;
  deliveries: Delivery[] | null;
}

export interface AlertRule {
  alert_id: string;
  alert_name: string;
  alert_type: AlertType;
  condition: AlertCondition;
  action: AlertAction;
  enabled: boolean;
  created_at: string;
  firing: AlertEvent[];
}

export interface AlertRuleFields {
  alert_name: string;
  alert_type: AlertType;
  condition: AlertCondition;
  action: AlertAction;
  enabled?: boolean;
}

export const listAlertRules = (query: { page?: number; page_size?: number; enabled?: boolean } = {}) =>
  get<Page<AlertRule>>("/alerts", { ...query });
export const createAlertRule = (fields: AlertRuleFields) => post<AlertRule>("/alerts", fields);
export const updateAlertRule = (alertId: string, fields: Partial<AlertRuleFields>) =>
  put<AlertRule>(`/alerts/${alertId}`, fields);
export const deleteAlertRule = (alertId: string) => del<void>(`/alerts/${alertId}`);
export const listAlertEvents = (alertId: string, limit = 100) =>
  get<{ items: AlertEvent[]; total: number }>(`/alerts/${alertId}/events`, { limit });
export const testAlertRule = (alertId: string) =>
  post<{ deliveries: Delivery[]; ok: boolean }>(`/alerts/${alertId}/test`);
