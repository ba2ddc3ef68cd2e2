import { Tag } from "antd";
import { useTranslation } from "react-i18next";

/** A job or execution status in its color, in the current language. */
const COLORS: Record<string, string> = {
  draft: "default",
  ready: "blue",
  queued: "cyan",
  running: "processing",
  paused: "warning",
  stopped: "default",
  succeeded: "success",
  failed: "error",
  cancelled: "default",
};

export default function StatusTag({ status }: { status: string | null | undefined }) {
  const { t } = useTranslation();
  if (!status) return null;
  return <Tag color={COLORS[status] ?? "default"}>{t(`status.${status}`, { defaultValue: status })}</Tag>;
}
