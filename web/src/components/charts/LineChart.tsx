/**
 * A time-axis chart (echarts) with the console's defaults: a tooltip formatted with the
 * caller's formatter, a legend when there is more than one series, an empty state instead
 * of bare axes, and no animation under a browser test (screenshots must be stable).
 */
import { Empty, Spin } from "antd";
import { BarChart, LineChart as LineSeries } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";
import ReactECharts from "echarts-for-react/esm/core";

// Only the parts these charts use: the full echarts bundle is three times larger.
echarts.use([LineSeries, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);
import type { ReactNode } from "react";
import { useMemo } from "react";
import type { Pair } from "./series";

export interface ChartSeries {
  name: string;
  data: Pair[];
  kind?: "line" | "area" | "bar";
  color?: string;
}

export interface LineChartProps {
  series: ChartSeries[];
  /** Formats a value for the axis and the tooltip. */
  format?: (value: number) => string;
  height?: number;
  loading?: boolean;
  /** Shown instead of the chart when no series has a value. */
  empty?: ReactNode;
  /** Time range of the x axis (epoch ms); default: the data's. */
  min?: number;
  max?: number;
  testId?: string;
  /** Show the legend even for one series (it names what the chart shows). */
  legend?: boolean;
}

const testing = typeof navigator !== "undefined" && navigator.webdriver === true;

function hasData(series: ChartSeries[]): boolean {
  return series.some((item) => item.data.some(([, value]) => value !== null));
}

export default function LineChart({ series, format = (v) => String(v), height = 240, loading, empty, min, max, testId, legend }: LineChartProps) {
  const withLegend = legend ?? series.length > 1;
  const option = useMemo(() => ({
    animation: !testing,
    grid: { left: 8, right: 16, top: withLegend ? 32 : 16, bottom: 8, containLabel: true },
    legend: withLegend ? { top: 0, data: series.map((item) => item.name) } : undefined,
    tooltip: {
      trigger: "axis",
      valueFormatter: (value: number | null) => (value === null || value === undefined ? "–" : format(Number(value))),
    },
    xAxis: { type: "time", min, max, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value", min: 0, axisLabel: { formatter: (value: number) => format(value) } },
    series: series.map((item) => ({
      name: item.name,
      type: item.kind === "bar" ? "bar" : "line",
      data: item.data,
      showSymbol: item.data.length < 40,
      symbolSize: 5,
      connectNulls: false,
      barMaxWidth: 16,
      areaStyle: item.kind === "area" ? { opacity: 0.25 } : undefined,
      itemStyle: item.color ? { color: item.color } : undefined,
      lineStyle: item.color ? { color: item.color } : undefined,
    })),
  }), [series, format, min, max, withLegend]);

  if (!hasData(series)) {
    return (
      <div data-testid={testId} data-empty="true" style={{ height, display: "flex", alignItems: "center", justifyContent: "center" }}>
        {loading ? <Spin /> : (empty ?? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />)}
      </div>
    );
  }
  return (
    <div data-testid={testId} data-empty="false">
      <ReactECharts echarts={echarts} option={option} notMerge style={{ height }} showLoading={false} />
    </div>
  );
}
