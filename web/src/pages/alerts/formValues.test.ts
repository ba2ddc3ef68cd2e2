import { describe, expect, it } from "vitest";
import type { AlertRule } from "../../api/alerts";
import { formPath, fromForm, newRule, toForm } from "./formValues";

describe("formPath", () => {
  it("drops the channel type pydantic adds and keeps indexes as numbers", () => {
    expect(formPath("action.channels.0.webhook.url")).toEqual(["action", "channels", 0, "url"]);
    expect(formPath("action.channels.1.secret")).toEqual(["action", "channels", 1, "secret"]);
    expect(formPath("action.channels.0.email.to.1")).toEqual(["action", "channels", 0, "to"]);
    expect(formPath("condition.job_id")).toEqual(["condition", "job_id"]);
    expect(formPath("alert_name")).toEqual(["alert_name"]);
    expect(formPath("page")).toBeNull();
  });
});

describe("fromForm / toForm", () => {
  it("keeps only the type's condition fields and parses headers", () => {
    const values = newRule();
    values.alert_name = "  Failures ";
    values.alert_type = "long_run";
    values.condition = { job_id: null, max_minutes: 30, threshold_percent: 5 };
    values.action.channels = [{ type: "webhook", url: "https://hooks.slack.com/x", format: "slack", secret: "", headers_text: "X-Token: abc\nbad line" }];
    const fields = fromForm(values);
    expect(fields.alert_name).toBe("Failures");
    expect(fields.condition).toEqual({ max_minutes: 30 });
    expect(fields.action.channels[0]).toEqual({ type: "webhook", url: "https://hooks.slack.com/x", format: "slack", secret: null, headers: { "X-Token": "abc" } });
  });

  it("round-trips a stored rule with a masked secret", () => {
    const rule: AlertRule = {
      alert_id: "a", alert_name: "r", alert_type: "disk_space", condition: { min_free_percent: 10 }, enabled: true,
      created_at: "2026-01-01T00:00:00Z", firing: [],
      action: { cooldown_minutes: 5, notify_resolved: false, channels: [{ type: "webhook", url: "https://x.example/h", format: "feishu", secret: "********", headers: { A: "b" } }] },
    };
    const back = fromForm(toForm(rule));
    expect(back.action).toEqual(rule.action);
    expect(back.condition).toEqual({ min_free_percent: 10 });
  });
});
