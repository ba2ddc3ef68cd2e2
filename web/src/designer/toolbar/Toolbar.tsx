/** The designer's toolbar (design doc §6.3): name, mode, history, layout, files, full
 *  screen, validation, save and run. */
import {
  ApartmentOutlined, AppstoreAddOutlined, CaretRightOutlined, CheckOutlined, DownloadOutlined, FullscreenExitOutlined,
  FullscreenOutlined, RedoOutlined, SaveOutlined, StopOutlined, UndoOutlined, UploadOutlined,
} from "@ant-design/icons";
import { Button, Divider, Input, Segmented, Space, Tag, Tooltip } from "antd";
import { useRef, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import type { DesignerMode, Problem } from "../types";
import ValidationStatus from "./ValidationStatus";

interface Props {
  name: string;
  onName: (name: string) => void;
  dirty: boolean;
  saved: boolean;
  mode: DesignerMode;
  paletteOpen: boolean;
  onPalette: () => void;
  onMode: (mode: DesignerMode) => void;
  canUndo: boolean;
  canRedo: boolean;
  onUndo: () => void;
  onRedo: () => void;
  onLayout: () => void;
  onImport: (text: string, fileName: string) => void;
  onExport: () => void;
  fullscreen: boolean;
  onFullscreen: () => void;
  errors: Problem[];
  warnings: Problem[];
  checking: boolean;
  onPickProblem: (problem: Problem) => void;
  validating: boolean;
  onValidate: () => void;
  saving: boolean;
  onSave: () => void;
  running: boolean;
  onRun: () => void;
  /** A run of this job is going on: Stop takes Run's place. */
  active: boolean;
  onStop: () => void;
  empty: boolean;
}

function IconButton({ title, icon, onClick, disabled, testId }: { title: string; icon: ReactNode; onClick: () => void; disabled?: boolean; testId: string }) {
  return (
    <Tooltip title={title}>
      <Button type="text" icon={icon} onClick={onClick} disabled={disabled} aria-label={title} data-testid={testId} />
    </Tooltip>
  );
}

export default function Toolbar(props: Props) {
  const { t } = useTranslation("designer");
  const file = useRef<HTMLInputElement>(null);
  const runBlocked = props.empty ? t("toolbar.runEmpty")
    : props.errors.length ? t("toolbar.runBlocked", { count: props.errors.length, message: props.errors[0].message }) : null;
  return (
    <div className="fg-toolbar" data-testid="designer-toolbar">
      <Input className="fg-toolbar-name" variant="borderless" value={props.name} placeholder={t("toolbar.namePlaceholder")}
        onChange={(event) => props.onName(event.target.value)} data-testid="designer-name" aria-label={t("pipeline.name")} />
      {props.dirty ? <Tag color="orange">{t("toolbar.unsaved")}</Tag> : props.saved ? <Tag color="green">{t("toolbar.saved")}</Tag> : null}
      <Segmented<DesignerMode> value={props.mode} onChange={props.onMode} data-testid="designer-mode"
        options={[
          { value: "visual", label: <span data-testid="mode-visual">{t("mode.visual")}</span> },
          { value: "yaml", label: <span data-testid="mode-yaml">{t("mode.yaml")}</span> },
          { value: "split", label: <span data-testid="mode-split">{t("mode.split")}</span> },
        ]} />
      <Space size={0} className="fg-toolbar-icons">
        {props.mode === "visual" && (
          <Tooltip title={props.paletteOpen ? t("toolbar.hidePalette") : t("toolbar.showPalette")}>
            <Button type={props.paletteOpen ? "text" : "default"} icon={<AppstoreAddOutlined />} onClick={props.onPalette}
              aria-label={t("toolbar.showPalette")} aria-pressed={props.paletteOpen} data-testid="designer-palette-toggle" />
          </Tooltip>
        )}
        <IconButton title={t("toolbar.undo")} icon={<UndoOutlined />} onClick={props.onUndo} disabled={!props.canUndo} testId="designer-undo" />
        <IconButton title={t("toolbar.redo")} icon={<RedoOutlined />} onClick={props.onRedo} disabled={!props.canRedo} testId="designer-redo" />
        <Divider type="vertical" />
        <IconButton title={t("toolbar.autoLayout")} icon={<ApartmentOutlined />} onClick={props.onLayout} disabled={props.empty} testId="designer-layout" />
        <IconButton title={t("toolbar.import")} icon={<UploadOutlined />} onClick={() => file.current?.click()} testId="designer-import" />
        <IconButton title={t("toolbar.export")} icon={<DownloadOutlined />} onClick={props.onExport} disabled={props.empty} testId="designer-export" />
        <IconButton title={props.fullscreen ? t("toolbar.exitFullscreen") : t("toolbar.fullscreen")}
          icon={props.fullscreen ? <FullscreenExitOutlined /> : <FullscreenOutlined />} onClick={props.onFullscreen} testId="designer-fullscreen" />
      </Space>
      <input ref={file} type="file" accept=".yaml,.yml,text/yaml" hidden data-testid="designer-import-file"
        onChange={(event) => {
          const chosen = event.target.files?.[0];
          event.target.value = "";
          if (chosen) void chosen.text().then((text) => props.onImport(text, chosen.name));
        }} />
      <div className="fg-toolbar-spacer" />
      <ValidationStatus errors={props.errors} warnings={props.warnings} checking={props.checking} onPick={props.onPickProblem} />
      <Button icon={<CheckOutlined />} loading={props.validating} onClick={props.onValidate} data-testid="designer-validate">
        {t("toolbar.validate")}
      </Button>
      <Button icon={<SaveOutlined />} loading={props.saving} onClick={props.onSave} data-testid="designer-save">
        {t("toolbar.save")}
      </Button>
      {props.active ? (
        <Tooltip title={t("toolbar.stopHelp")} placement="bottomRight">
          <Button danger icon={<StopOutlined />} onClick={props.onStop} data-testid="designer-stop">
            {t("toolbar.stop")}
          </Button>
        </Tooltip>
      ) : (
        <Tooltip title={runBlocked ?? t("toolbar.runHelp")} placement="bottomRight">
          <span className="fg-run-wrap" data-testid="designer-run-wrap" data-reason={runBlocked ?? ""}>
            <Button type="primary" icon={<CaretRightOutlined />} loading={props.running} disabled={!!runBlocked}
              onClick={props.onRun} data-testid="designer-run" style={runBlocked ? { pointerEvents: "none" } : undefined}>
              {t("toolbar.run")}
            </Button>
          </span>
        </Tooltip>
      )}
    </div>
  );
}
