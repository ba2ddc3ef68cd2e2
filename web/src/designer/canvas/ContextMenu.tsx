/** The canvas's right-click menu: on a node (configure, duplicate, delete) or the pane. */
import { ApartmentOutlined, CopyOutlined, DeleteOutlined, ExpandOutlined, SettingOutlined } from "@ant-design/icons";
import { Menu } from "antd";
import { useEffect } from "react";
import { useTranslation } from "react-i18next";

export interface MenuTarget {
  x: number;
  y: number;
  nodeId?: string;
}

interface Props {
  target: MenuTarget;
  onClose: () => void;
  onConfigure: (nodeId: string) => void;
  onDuplicate: (nodeId: string) => void;
  onDelete: (nodeId: string) => void;
  onLayout: () => void;
  onFit: () => void;
}

export default function ContextMenu({ target, onClose, onConfigure, onDuplicate, onDelete, onLayout, onFit }: Props) {
  const { t } = useTranslation("designer");
  useEffect(() => {
    const close = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", close);
    return () => window.removeEventListener("keydown", close);
  }, [onClose]);
  const nodeId = target.nodeId;
  const items = nodeId
    ? [
        { key: "configure", icon: <SettingOutlined />, label: t("menu.configure"), onClick: () => onConfigure(nodeId) },
        { key: "duplicate", icon: <CopyOutlined />, label: t("menu.duplicate"), onClick: () => onDuplicate(nodeId) },
        { type: "divider" as const },
        { key: "delete", icon: <DeleteOutlined />, danger: true, label: t("menu.delete"), onClick: () => onDelete(nodeId) },
      ]
    : [
        { key: "layout", icon: <ApartmentOutlined />, label: t("toolbar.autoLayout"), onClick: onLayout },
        { key: "fit", icon: <ExpandOutlined />, label: t("menu.fitView"), onClick: onFit },
      ];
  return (
    <div className="fg-context-menu" style={{ left: target.x, top: target.y }} data-testid="canvas-menu"
      onContextMenu={(event) => event.preventDefault()}>
      <Menu selectable={false} items={items} onClick={onClose} />
    </div>
  );
}
