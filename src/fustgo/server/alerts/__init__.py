"""Alerts (design doc §6.6): rules stored in `alert_rules` (`rules`), checked by the server
every half minute (`evaluator`, started by `monitor`), firing and resolving per subject
with a cooldown, delivered to webhooks (generic JSON, Slack, DingTalk, WeCom, Feishu) and
by e-mail (`notify`)."""
