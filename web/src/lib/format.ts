/** Numbers, sizes, rates and times as the console shows them, in the current language. */
import dayjs from "dayjs";
import i18n from "../i18n";

const locale = () => (i18n.language?.startsWith("zh") ? "zh-CN" : "en-US");

export function formatNumber(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return value.toLocaleString(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatRate(perSecond: number | null | undefined): string {
  if (perSecond === null || perSecond === undefined) return "–";
  return `${formatNumber(perSecond, perSecond < 10 ? 1 : 0)}/s`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${formatNumber(value, unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${formatNumber(seconds, 1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function formatTime(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined || value === "") return "–";
  return dayjs(value).format("YYYY-MM-DD HH:mm:ss");
}

export function formatPercent(fraction: number | null | undefined, digits = 1): string {
  if (fraction === null || fraction === undefined) return "–";
  return `${formatNumber(fraction * 100, digits)}%`;
}
