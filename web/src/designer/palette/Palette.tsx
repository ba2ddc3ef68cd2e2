/** The component palette: enabled plugins by kind, then family; drag one onto the canvas. */
import { SearchOutlined } from "@ant-design/icons";
import { Collapse, Empty, Input, Skeleton, Tooltip } from "antd";
import { useMemo, useState, type DragEvent } from "react";
import { useTranslation } from "react-i18next";
import type { PluginKind, PluginSummary } from "../../api/plugins";
import ErrorAlert from "../../components/ErrorAlert";
import { KIND_BACKGROUNDS, KIND_COLORS, pluginIcon } from "../pluginLook";
import { PLUGIN_MIME, type DraggedPlugin } from "../types";

const KINDS: PluginKind[] = ["input", "processor", "output"];

interface Props {
  plugins: PluginSummary[];
  loading: boolean;
  error: unknown;
  onRetry: () => void;
  /** Click (or Enter) adds the plugin at the canvas's center: dragging is not the only way. */
  onAdd: (item: DraggedPlugin) => void;
}

export default function Palette({ plugins, loading, error, onRetry, onAdd }: Props) {
  const { t } = useTranslation("designer");
  const [query, setQuery] = useState("");

  const groups = useMemo(() => {
    const words = query.trim().toLowerCase();
    const shown = plugins.filter((plugin) => plugin.enabled && (!words
      || plugin.name.toLowerCase().includes(words) || plugin.title.toLowerCase().includes(words)
      || plugin.family.toLowerCase().includes(words)
      || t(`family.${plugin.family}`, { defaultValue: plugin.family }).toLowerCase().includes(words)));
    return KINDS.map((kind) => {
      const families = new Map<string, PluginSummary[]>();
      for (const plugin of shown.filter((item) => item.kind === kind)) {
        families.set(plugin.family, [...(families.get(plugin.family) ?? []), plugin]);
      }
      return { kind, families: [...families.entries()].sort(([a], [b]) => a.localeCompare(b)) };
    }).filter((group) => group.families.length);
  }, [plugins, query, t]);

  const onDragStart = (event: DragEvent, plugin: PluginSummary) => {
    const item: DraggedPlugin = { kind: plugin.kind, name: plugin.name };
    event.dataTransfer.setData(PLUGIN_MIME, JSON.stringify(item));
    event.dataTransfer.effectAllowed = "copy";
  };

  return (
    <aside className="fg-palette" data-testid="palette">
      <div className="fg-palette-search">
        <Input allowClear size="small" prefix={<SearchOutlined />} placeholder={t("palette.search")}
          value={query} onChange={(event) => setQuery(event.target.value)} data-testid="palette-search" />
      </div>
      <div className="fg-palette-list">
        {error ? <ErrorAlert error={error} onRetry={onRetry} /> : null}
        {loading ? <Skeleton active paragraph={{ rows: 8 }} /> : null}
        {!loading && !error && !groups.length && (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("palette.none")} />
        )}
        {!loading && groups.length > 0 && (
          <Collapse ghost size="small" defaultActiveKey={KINDS} items={groups.map((group) => ({
            key: group.kind,
            label: <span className="fg-palette-kind" style={{ color: KIND_COLORS[group.kind] }}>{t(`palette.${group.kind}s`)}</span>,
            children: group.families.map(([family, items]) => (
              <div key={family} className="fg-palette-family">
                <div className="fg-palette-family-name">{t(`family.${family}`, { defaultValue: family })}</div>
                {items.map((plugin) => (
                  <Tooltip key={plugin.name} title={`${plugin.name} · ${t("palette.dragHint")}`} placement="right" mouseEnterDelay={0.6}>
                    <div className="fg-palette-item" draggable role="button" tabIndex={0}
                      data-testid={`palette-item-${plugin.kind}-${plugin.name}`}
                      onDragStart={(event) => onDragStart(event, plugin)}
                      onDoubleClick={() => onAdd({ kind: plugin.kind, name: plugin.name })}
                      onKeyDown={(event) => event.key === "Enter" && onAdd({ kind: plugin.kind, name: plugin.name })}>
                      <span className="fg-palette-icon" style={{ color: KIND_COLORS[plugin.kind], background: KIND_BACKGROUNDS[plugin.kind] }}>
                        {pluginIcon(plugin.name, plugin.family)}
                      </span>
                      <span className="fg-palette-title">{plugin.title}</span>
                    </div>
                  </Tooltip>
                ))}
              </div>
            )),
          }))} />
        )}
      </div>
    </aside>
  );
}
