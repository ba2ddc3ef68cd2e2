/** `GET /api/v1/plugins/{name}?kind=`: the details the drawer shows (not in api/plugins.ts,
 * which only the palette and forms need). */
import { get } from "../../api/client";
import type { PluginKind, PluginSummary } from "../../api/plugins";

export interface PluginDetails extends PluginSummary {
  description: string;
  examples: Record<string, unknown>[];
  config_schema_url: string;
}

export const getPluginDetails = (kind: PluginKind, name: string) =>
  get<PluginDetails>(`/plugins/${encodeURIComponent(name)}`, { kind });
