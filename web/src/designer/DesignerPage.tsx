/**
 * The pipeline designer (design doc §4, §6.3): `/designer` starts a new pipeline,
 * `/designer/:jobId` edits a saved job. Palette | canvas (and/or YAML) | property panel,
 * with live validation, save/run, and the running job's numbers on the graph.
 */
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { App, Result, Button, Spin } from "antd";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router-dom";
import { ApiError } from "../api/client";
import { createJob, getJob, jobAction, updateJob, type Diagnostic, type Job } from "../api/jobs";
import { listPlugins, type PluginSummary } from "../api/plugins";
import ErrorAlert from "../components/ErrorAlert";
import Canvas, { type FocusRequest } from "./canvas/Canvas";
import {
  addNode, asFlowDiagram, emptyGraph, graphToDiagram, graphToYaml, layoutGraph, NODE_HEIGHT, NODE_WIDTH, removeNodes,
  setEdgeCondition, setNodePlugin, updateDocument, updateNodeConfig, yamlToGraph,
} from "./graph/adapter";
import "./designer.css";
import PropertyPanel from "./panel/PropertyPanel";
import Palette from "./palette/Palette";
import RunBar from "./RunBar";
import { useDesignerDocument } from "./state/useDesignerDocument";
import { useLiveRun } from "./state/useLiveRun";
import { useValidation } from "./state/useValidation";
import Toolbar from "./toolbar/Toolbar";
import type { DesignerMode, DraggedPlugin, Problem, Selection } from "./types";
import YamlPane from "./YamlPane";

const ACTIVE = new Set(["running", "queued", "paused"]);

function usePlugins() {
  const [plugins, setPlugins] = useState<PluginSummary[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    setLoading(true);
    setError(null);
    listPlugins().then((page) => setPlugins(page.items), setError).finally(() => setLoading(false));
  }, []);
  useEffect(load, [load]);
  return { plugins, loading, error, reload: load };
}

function isTyping(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  return !!element && (element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName)
    || !!element.closest?.(".cm-editor"));
}

function Designer() {
  const { t } = useTranslation("designer");
  const { message, notification } = App.useApp();
  const { jobId } = useParams();
  const navigate = useNavigate();
  const flow = useReactFlow();
  const doc = useDesignerDocument();
  const { graph } = doc;
  const palette = usePlugins();
  const validation = useValidation(graph, doc.yaml, doc.yamlErrors);
  const [job, setJob] = useState<Job | null>(null);
  const [loading, setLoading] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [mode, setMode] = useState<DesignerMode>("visual");
  const [selection, setSelection] = useState<Selection>({ type: "none" });
  const [panelTab, setPanelTab] = useState("config");
  const [focus, setFocus] = useState<FocusRequest | null>(null);
  const [saving, setSaving] = useState(false);
  const [starting, setStarting] = useState(false);
  const [validating, setValidating] = useState(false);
  const [fullscreen, setFullscreen] = useState(false);
  const [paletteOpen, setPaletteOpen] = useState(true);
  const [watching, setWatching] = useState(false);
  const container = useRef<HTMLDivElement>(null);
  /** The id we navigated to right after a first save: that route change must not reload. */
  const justCreated = useRef<string | null>(null);
  const live = useLiveRun(job?.job_id ?? null, watching);

  const pluginMap = useMemo(() => new Map(palette.plugins.map((item) => [`${item.kind}/${item.name}`, item])), [palette.plugins]);

  // Load the job (or start blank) when the route changes.
  const loadJob = useCallback(() => {
    if (!jobId) {
      setJob(null);
      doc.load(emptyGraph(), "");
      return;
    }
    if (justCreated.current === jobId) return;
    setLoading(true);
    setLoadError(null);
    getJob(jobId).then((loaded) => {
      const diagram = asFlowDiagram(loaded.flow_diagram);
      const { graph: parsed } = yamlToGraph(loaded.config_yaml, { diagram });
      doc.load(parsed, loaded.config_yaml);
      // Positions are the saved ones; the view shows the whole graph (the saved viewport was
      // for another window size or mode, and could leave nodes out of sight).
      window.setTimeout(() => void flow.fitView({ padding: 0.12, maxZoom: 1.1, minZoom: 0.55 }), 50);
      setJob(loaded);
      setSelection({ type: "none" });
      if (loaded.active_execution_id || ACTIVE.has(loaded.status)) {
        live.start(loaded.active_execution_id);
        setWatching(true);
      }
    }, setLoadError).finally(() => setLoading(false));
    // Loads once per job id; the document and live helpers it calls need not re-run it.
  }, [jobId]);
  useEffect(loadJob, [loadJob]);

  useEffect(() => {
    const onChange = () => setFullscreen(document.fullscreenElement === container.current);
    document.addEventListener("fullscreenchange", onChange);
    return () => document.removeEventListener("fullscreenchange", onChange);
  }, []);

  // Leaving the page with unsaved edits asks first (the browser's own prompt).
  useEffect(() => {
    if (!doc.dirty) return undefined;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [doc.dirty]);

  // A selection that no longer exists (undo, YAML edit) falls back to the pipeline panel.
  useEffect(() => {
    if (selection.type === "node" && !graph.nodes.some((node) => node.id === selection.id)) setSelection({ type: "none" });
    if (selection.type === "edge" && !graph.edges.some((edge) => edge.id === selection.id)) setSelection({ type: "none" });
  }, [graph, selection]);

  const showError = useCallback((error: unknown) => {
    notification.error({
      message: error instanceof Error ? error.message : String(error),
      description: error instanceof ApiError ? error.hint ?? undefined : undefined,
    });
  }, [notification]);

  const name = String(graph.document.name ?? "");
  const setName = (value: string) => doc.apply((current) => {
    const document = { ...current.document };
    if (value) document.name = value;
    else delete document.name;
    return updateDocument(current, document);
  }, "document:name");

  /** Saves (creates the job the first time); resolves with the job's id, null when it failed. */
  const save = useCallback(async (quiet = false): Promise<string | null> => {
    setSaving(true);
    try {
      let current = graph;
      let text = doc.yaml;
      let jobName = String(current.document.name ?? "").trim();
      if (!jobName) {
        jobName = `pipeline-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}`;
        current = updateDocument(current, { name: jobName, ...current.document });
        doc.apply(current);
        text = graphToYaml(current, text);
      }
      const fields = {
        job_name: jobName,
        description: typeof current.document.description === "string" ? current.document.description : null,
        config_yaml: text,
        flow_diagram: graphToDiagram(current, flow.getViewport()) as unknown as Record<string, unknown>,
      };
      const saved = job ? await updateJob(job.job_id, fields) : await createJob(fields);
      setJob(saved);
      doc.markSaved();
      if (!quiet) void message.success(t("messages.saved"));
      if (!job) {
        justCreated.current = saved.job_id;
        navigate(`/designer/${saved.job_id}`, { replace: true });
      }
      return saved.job_id;
    } catch (error) {
      showError(error);
      return null;
    } finally {
      setSaving(false);
    }
  }, [doc, flow, graph, job, message, navigate, showError, t]);

  const draftYaml = useCallback(() => doc.yaml, [doc.yaml]);

  const run = useCallback(async () => {
    setStarting(true);
    try {
      const id = await save(true);
      if (!id) return;
      // Listen before starting: a short run can be over before the answer comes back.
      live.start(null);
      setWatching(true);
      const action = await jobAction(id, "start");
      live.setRun((current) => current && { ...current, executionId: current.executionId ?? action.execution_id });
      void message.success(t("messages.started"));
    } catch (error) {
      showError(error);
    } finally {
      setStarting(false);
    }
  }, [live, message, save, showError, t]);

  const stop = useCallback(async () => {
    if (!job) return;
    try {
      await jobAction(job.job_id, "stop");
      void message.info(t("messages.stopping"));
    } catch (error) {
      showError(error);
    }
  }, [job, message, showError, t]);

  const validateNow = useCallback(async () => {
    setValidating(true);
    try {
      const diagnostics = await validation.validateNow();
      const errors = diagnostics.filter((item) => item.severity === "error").length;
      if (!errors && !validation.errors.length) void message.success(t("messages.valid"));
      else void message.error(t("validation.summary", { errors: Math.max(errors, validation.errors.length), warnings: validation.warnings.length }));
    } catch (error) {
      showError(error);
    } finally {
      setValidating(false);
    }
  }, [message, showError, t, validation]);

  const select = useCallback((next: Selection) => {
    setSelection(next);
    setFocus({ selection: next, nonce: Date.now() });
  }, []);

  const pickProblem = (problem: Problem) => {
    const target: Selection = problem.edgeId ? { type: "edge", id: problem.edgeId }
      : problem.nodeId ? { type: "node", id: problem.nodeId } : { type: "none" };
    if (mode === "yaml") setMode("split");
    setPanelTab("config");
    select(target);
  };

  const layout = useCallback(() => {
    doc.apply(layoutGraph(graph));
    window.setTimeout(() => void flow.fitView({ padding: 0.12, maxZoom: 1.1, minZoom: 0.55, duration: 300 }), 50);
  }, [doc, flow, graph]);

  const addAtCenter = (item: DraggedPlugin) => {
    const box = container.current?.querySelector(".fg-canvas")?.getBoundingClientRect();
    const center = box ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 }) : { x: 0, y: 0 };
    const offset = graph.nodes.length * 24;
    const { graph: next, id } = addNode(graph, item.kind, item.name, { x: center.x - NODE_WIDTH / 2 + offset, y: center.y - NODE_HEIGHT / 2 + offset });
    doc.apply(next);
    window.setTimeout(() => select({ type: "node", id }), 0);
  };

  const importYaml = (text: string, fileName: string) => {
    const result = yamlToGraph(text, {});
    if (result.errors.length) {
      notification.error({ message: t("messages.importFailed", { file: fileName }), description: result.errors[0].message });
      return;
    }
    doc.load(result.graph, text);
    doc.editYaml(text);
    setSelection({ type: "none" });
    window.setTimeout(() => void flow.fitView({ padding: 0.12, maxZoom: 1.1, minZoom: 0.55 }), 50);
    void message.success(t("messages.imported", { file: fileName }));
  };

  const exportYaml = () => {
    const blob = new Blob([doc.yaml], { type: "text/yaml" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = `${(name || "pipeline").replace(/[^\w.-]+/g, "-")}.yaml`;
    link.click();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void container.current?.requestFullscreen?.();
  };

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (!(event.ctrlKey || event.metaKey) || isTyping(event.target)) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) { event.preventDefault(); doc.undo(); }
    else if ((key === "z" && event.shiftKey) || key === "y") { event.preventDefault(); doc.redo(); }
    else if (key === "s") { event.preventDefault(); void save(); }
  };

  const serverDiagnostics: Diagnostic[] = useMemo(() => [
    ...doc.yamlErrors.map((error) => ({
      level: "syntax", severity: "error", path: "", file: null, line: error.line, column: error.column,
      message: error.message, hint: null,
    })),
    ...validation.problems.filter((problem) => problem.line).map((problem) => ({
      level: "structure", severity: problem.severity, path: problem.path ?? "", file: null, line: problem.line ?? null,
      column: null, message: problem.message, hint: problem.hint ?? null,
    })),
  ], [doc.yamlErrors, validation.problems]);

  if (loadError) {
    return (
      <Result status={loadError instanceof ApiError && loadError.status === 404 ? "404" : "error"}
        title={t("messages.loadFailed")} subTitle={<ErrorAlert error={loadError} />}
        extra={<><Button onClick={loadJob}>{t("messages.retry")}</Button><Button type="primary" onClick={() => navigate("/designer")}>{t("messages.newPipeline")}</Button></>} />
    );
  }

  const showCanvas = mode !== "yaml";
  const showYaml = mode !== "visual";
  const showPanel = mode === "visual" || selection.type !== "none";
  return (
    <div className={`fg-designer fg-designer-${mode}`} ref={container} onKeyDown={onKeyDown} tabIndex={-1} data-testid="designer">
      <Toolbar name={name} onName={setName} dirty={doc.dirty} saved={!!job} mode={mode} onMode={setMode}
        paletteOpen={paletteOpen} onPalette={() => setPaletteOpen((open) => !open)}
        canUndo={doc.canUndo} canRedo={doc.canRedo} onUndo={doc.undo} onRedo={doc.redo} onLayout={layout}
        onImport={importYaml} onExport={exportYaml} fullscreen={fullscreen} onFullscreen={toggleFullscreen}
        errors={validation.errors} warnings={validation.warnings} checking={validation.checking} onPickProblem={pickProblem}
        validating={validating} onValidate={() => void validateNow()} saving={saving} onSave={() => void save()}
        running={starting} onRun={() => void run()}
        active={!!job && ACTIVE.has(live.run?.status ?? "")} onStop={() => void stop()} empty={!graph.nodes.length} />
      <div className="fg-designer-body">
        {loading && <div className="fg-designer-loading"><Spin size="large" /></div>}
        {mode === "visual" && paletteOpen && (
          <Palette plugins={palette.plugins} loading={palette.loading} error={palette.error} onRetry={palette.reload} onAdd={addAtCenter} />
        )}
        {showCanvas && (
          <div className="fg-canvas-wrap">
            <Canvas graph={graph} plugins={pluginMap} byNode={validation.byNode} byEdge={validation.byEdge}
              live={live.run} focus={focus} onChange={(next) => doc.apply(next)}
              onSelect={setSelection} onLayout={layout}
              onConfigure={(id) => { setPanelTab("config"); select({ type: "node", id }); }} />
            {live.run && job && (
              <RunBar run={live.run} jobId={job.job_id} onClose={() => { live.clear(); setWatching(false); }} />
            )}
          </div>
        )}
        {showYaml && <YamlPane value={doc.yaml} onChange={doc.editYaml} diagnostics={serverDiagnostics} />}
        {showPanel && (
          <PropertyPanel graph={graph} selection={selection} plugins={palette.plugins} problems={validation.problems}
            tab={panelTab} onTab={setPanelTab} draftYaml={draftYaml}
            onConfig={(id, config) => doc.apply((current) => updateNodeConfig(current, id, config), `${id}:config`)}
            onPlugin={(id, plugin) => doc.apply((current) => setNodePlugin(current, id, plugin))}
            onDeleteNode={(id) => { doc.apply((current) => removeNodes(current, [id])); setSelection({ type: "none" }); }}
            onCondition={(id, condition) => doc.apply((current) => setEdgeCondition(current, id, condition), `${id}:condition`)}
            onRemoveEdge={(id) => { doc.apply((current) => removeNodes(current, [], [id])); setSelection({ type: "none" }); }}
            onDocument={(document, key) => doc.apply((current) => updateDocument(current, document), key)}
            onClose={mode !== "visual" ? () => setSelection({ type: "none" }) : undefined} />
        )}
      </div>
    </div>
  );
}

export default function DesignerPage() {
  return (
    <ReactFlowProvider>
      <Designer />
    </ReactFlowProvider>
  );
}
