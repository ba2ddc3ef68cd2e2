/** The monitoring page's time ranges and the step (seconds per point) each reads with. */
export const PRESETS = ["15m", "1h", "6h", "24h"] as const;
export type Preset = (typeof PRESETS)[number];
export type RangeKey = Preset | "custom";

const PRESET_MS: Record<Preset, number> = { "15m": 15 * 60_000, "1h": 3600_000, "6h": 6 * 3600_000, "24h": 24 * 3600_000 };

/** At most about this many points per run on a chart. */
const MAX_POINTS = 360;

export interface Window {
  start: number;
  end: number;
  step: number | undefined;
}

/** No step (every sample) for short ranges; otherwise one point per slot that keeps ~MAX_POINTS. */
export function stepFor(spanMs: number): number | undefined {
  const seconds = spanMs / 1000;
  if (seconds <= 900) return undefined;
  const step = Math.ceil(seconds / MAX_POINTS);
  return [5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].find((value) => value >= step) ?? 3600;
}

export function windowOf(range: RangeKey, custom: [number, number] | null, now = Date.now()): Window | null {
  if (range === "custom") {
    if (!custom || custom[0] >= custom[1]) return null;
    return { start: custom[0], end: custom[1], step: stepFor(custom[1] - custom[0]) };
  }
  const span = PRESET_MS[range];
  return { start: now - span, end: now, step: stepFor(span) };
}
