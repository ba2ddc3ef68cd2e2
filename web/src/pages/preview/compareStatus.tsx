/** How each comparison status looks: color and icon (colors alone do not carry meaning). */
import {
  CheckCircleOutlined, CloseCircleOutlined, ExclamationCircleOutlined, MinusCircleOutlined, QuestionCircleOutlined,
} from "@ant-design/icons";
import type { ReactNode } from "react";
import type { CompareStatus } from "../../api/preview";

export const STATUS_ORDER: CompareStatus[] = ["compatible", "warning", "incompatible", "missing_in_target", "missing_in_source"];

export const STATUS_LOOK: Record<CompareStatus, { color: string; icon: ReactNode; row: string }> = {
  compatible: { color: "success", icon: <CheckCircleOutlined />, row: "" },
  warning: { color: "warning", icon: <ExclamationCircleOutlined />, row: "#fffbe6" },
  incompatible: { color: "error", icon: <CloseCircleOutlined />, row: "#fff1f0" },
  missing_in_target: { color: "magenta", icon: <MinusCircleOutlined />, row: "#fff0f6" },
  missing_in_source: { color: "purple", icon: <QuestionCircleOutlined />, row: "#f9f0ff" },
};
