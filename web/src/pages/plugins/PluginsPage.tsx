/** /plugins: every plugin the server offers, by kind and family, with its switch; a row opens
 * its details (description, examples, config fields). */
import { AppstoreOutlined, ReloadOutlined } from "@ant-design/icons";
import { Button, Card, Empty, Input, Segmented, Select, Space, Table, Tag, Typography } from "antd";
import { useCallback, useEffect, useMemo, useState, type HTMLAttributes } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router-dom";
import { listPlugins, type PluginKind, type PluginSummary } from "../../api/plugins";
import ErrorAlert from "../../components/ErrorAlert";
import InstallHelp from "./InstallHelp";
import PluginDrawer from "./PluginDrawer";
import PluginSwitch from "./PluginSwitch";

const KINDS: PluginKind[] = ["input", "processor", "output"];
const KIND_COLORS: Record<PluginKind, string> = { input: "blue", processor: "purple", output: "green" };
type KindFilter = PluginKind | "all";
type StateFilter = "all" | "enabled" | "disabled";

export default function PluginsPage() {
  const { t } = useTranslation("plugins");
  const [params, setParams] = useSearchParams();
  const [plugins, setPlugins] = useState<PluginSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [kind, setKind] = useState<KindFilter>((params.get("kind") as KindFilter | null) ?? "all");
  const [family, setFamily] = useState<string | undefined>(params.get("family") ?? undefined);
  const [state, setState] = useState<StateFilter>("all");
  const [query, setQuery] = useState(params.get("q") ?? "");
  const [open, setOpen] = useState<{ kind: PluginKind; name: string } | null>(null);

  const load = useCallback(() => {
    setLoading(true);
    setError(null);
    listPlugins()
      .then((page) => setPlugins(page.items))
      .catch((reason: unknown) => setError(reason))
      .finally(() => setLoading(false));
  }, []);
  useEffect(load, [load]);

  // Filters live in the URL so a link can point at "the outputs of the rdb family".
  useEffect(() => {
    const next = new URLSearchParams(params);
    const put = (key: string, value: string | undefined) => (value ? next.set(key, value) : next.delete(key));
    put("kind", kind === "all" ? undefined : kind);
    put("family", family);
    put("q", query.trim() || undefined);
    if (next.toString() !== params.toString()) setParams(next, { replace: true });
  }, [kind, family, query, params, setParams]);

  const families = useMemo(
    () => [...new Set((plugins ?? []).filter((p) => kind === "all" || p.kind === kind).map((p) => p.family))].sort(),
    [plugins, kind]);
  const counts = useMemo(() => {
    const found: Record<string, number> = { all: plugins?.length ?? 0 };
    (plugins ?? []).forEach((p) => { found[p.kind] = (found[p.kind] ?? 0) + 1; });
    return found;
  }, [plugins]);

  const shown = useMemo(() => {
    const needle = query.trim().toLowerCase();
    return (plugins ?? []).filter((p) =>
      (kind === "all" || p.kind === kind)
      && (!family || p.family === family)
      && (state === "all" || p.enabled === (state === "enabled"))
      && (!needle || `${p.name} ${p.title} ${p.family} ${p.capabilities.join(" ")}`.toLowerCase().includes(needle)));
  }, [plugins, kind, family, state, query]);

  const replace = (summary: PluginSummary) => setPlugins((list) =>
    (list ?? []).map((p) => (p.kind === summary.kind && p.name === summary.name ? { ...p, ...summary } : p)));

  const clearFilters = () => { setKind("all"); setFamily(undefined); setState("all"); setQuery(""); };

  return (
    <div data-testid="plugins-page">
      <div className="fg-page-title">
        <h1><AppstoreOutlined /> {t("title")}</h1>
        <Space>
          <InstallHelp />
          <Button icon={<ReloadOutlined />} onClick={load} loading={loading}>{t("common:actions.refresh")}</Button>
        </Space>
      </div>
      <Typography.Paragraph type="secondary">{t("intro")}</Typography.Paragraph>
      <ErrorAlert error={error} onRetry={load} />
      <Card size="small" styles={{ body: { padding: 12 } }}>
        <Space wrap style={{ marginBottom: 12 }}>
          <Segmented<KindFilter> value={kind} data-testid="plugin-kind-filter"
            onChange={(value) => { setKind(value); setFamily(undefined); }}
            options={(["all", ...KINDS] as KindFilter[]).map((value) => ({
              value, label: `${t(value === "all" ? "kinds.all" : `kinds.${value}`)} (${counts[value] ?? 0})`,
            }))} />
          <Select allowClear placeholder={t("filters.family")} style={{ width: 180 }} value={family}
            onChange={setFamily} data-testid="plugin-family-filter"
            options={families.map((value) => ({ value, label: t(`families.${value}`, { defaultValue: value }) }))} />
          <Select<StateFilter> value={state} onChange={setState} style={{ width: 140 }}
            options={(["all", "enabled", "disabled"] as StateFilter[]).map((value) => ({ value, label: t(`filters.${value}`) }))} />
          <Input.Search allowClear placeholder={t("filters.search")} style={{ width: 260 }} value={query}
            onChange={(event) => setQuery(event.target.value)} data-testid="plugin-search" />
        </Space>
        <Table<PluginSummary>
          data-testid="plugins-table"
          size="middle"
          rowKey={(p) => `${p.kind}/${p.name}`}
          loading={loading && !plugins}
          dataSource={shown}
          pagination={shown.length > 50 ? { pageSize: 50, showSizeChanger: false } : false}
          onRow={(p) => ({ onClick: () => setOpen({ kind: p.kind, name: p.name }), style: { cursor: "pointer" },
            "data-testid": `plugin-row-${p.kind}-${p.name}` } as HTMLAttributes<HTMLElement>)}
          locale={{ emptyText: plugins === null ? " " : (
            <Empty description={t("empty")}><Button onClick={clearFilters}>{t("filters.clear")}</Button></Empty>
          ) }}
          columns={[
            {
              title: t("columns.plugin"), key: "name",
              sorter: (a, b) => a.name.localeCompare(b.name),
              render: (_, p) => (
                <div>
                  <Typography.Text strong>{p.title}</Typography.Text>
                  <div><Typography.Text type="secondary" code style={{ fontSize: 12 }}>{p.name}</Typography.Text></div>
                </div>
              ),
            },
            {
              title: t("columns.kind"), dataIndex: "kind", width: 110,
              render: (value: PluginKind) => <Tag color={KIND_COLORS[value]}>{t(`kinds.${value}`)}</Tag>,
            },
            {
              title: t("columns.family"), dataIndex: "family", width: 130,
              sorter: (a, b) => a.family.localeCompare(b.family),
              render: (value: string) => t(`families.${value}`, { defaultValue: value }),
            },
            {
              title: t("columns.capabilities"), dataIndex: "capabilities",
              render: (values: string[]) => values.map((item) => (
                <Tag key={item} bordered={false} color="geekblue">{t(`capabilities.${item}`, { defaultValue: item })}</Tag>
              )),
            },
            {
              title: t("columns.source"), dataIndex: "source", width: 130,
              render: (value: string) => (value === "builtin"
                ? <Tag bordered={false}>{t("source.builtin")}</Tag>
                : <Tag color="gold" bordered={false}>{t("source.thirdParty", { name: value })}</Tag>),
            },
            {
              title: t("columns.enabled"), key: "enabled", width: 190,
              render: (_, p) => <PluginSwitch plugin={p} onSwitched={replace} />,
            },
          ]}
        />
      </Card>
      <PluginDrawer plugin={open} onClose={() => setOpen(null)} onSwitched={replace} />
    </div>
  );
}
