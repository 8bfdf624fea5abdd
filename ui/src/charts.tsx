// Time-series charts drawn with uPlot: the accounts table's sparklines and the detail chart
// (balance history, the forecast band into the future, top-ups, 402 markers).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Point } from "./bindings/Point";
import type { BandPoint } from "./bindings/BandPoint";
import type { EventRow } from "./bindings/EventRow";
import { formatAmount } from "./format";

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** Size of a sparkline in CSS px (styles.css `.spark` matches): small enough for the accounts
 * table to fit the default window. */
export const SPARK_W = 88;
export const SPARK_H = 30;

/** A line of the last week, no axes: the shape of the drain at a glance. */
export function Sparkline({ points, tone }: { points: Point[]; tone: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || points.length < 2) return;
    const color = cssVar(`--${tone}`, "#4263eb");
    const plot = new uPlot(
      {
        width: SPARK_W,
        height: SPARK_H,
        pxAlign: false,
        cursor: { show: false },
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: color, width: 1.6, fill: color + "22", points: { show: false } }],
      },
      [points.map((p) => p.t), points.map((p) => p.v)],
      el.current,
    );
    return () => plot.destroy();
  }, [points, tone]);
  if (points.length < 2) return <span class="spark-empty">no history yet</span>;
  return <div class="spark" ref={el} aria-hidden="true" />;
}

export interface HistoryChartProps {
  history: Point[];
  band: BandPoint[];
  topUps: Point[];
  events: EventRow[];
  unit: string | null;
}

/** Merges series sampled at different times onto one x axis (uPlot's data shape). */
export function align(history: Point[], band: BandPoint[], topUps: Point[]): uPlot.AlignedData {
  const xs = Array.from(new Set([...history.map((p) => p.t), ...band.map((b) => b.t), ...topUps.map((p) => p.t)])).sort(
    (a, b) => a - b,
  );
  const idx = new Map(xs.map((x, i) => [x, i]));
  const col = () => new Array<number | null>(xs.length).fill(null);
  const [h, p10, p50, p90, tu] = [col(), col(), col(), col(), col()];
  for (const p of history) h[idx.get(p.t)!] = p.v;
  for (const b of band) {
    const i = idx.get(b.t)!;
    p10[i] = b.p10;
    p50[i] = b.p50;
    p90[i] = b.p90;
  }
  for (const p of topUps) tu[idx.get(p.t)!] = p.v;
  return [xs, h, p90, p50, p10, tu];
}

export function HistoryChart({ history, band, topUps, events, unit }: HistoryChartProps) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = el.current;
    if (!host) return;
    const accent = cssVar("--accent", "#4263eb");
    const bandColor = cssVar("--band", "#f08c00");
    const ok = cssVar("--ok", "#2f9e44");
    const crit = cssVar("--crit", "#e03131");
    const grid = cssVar("--line", "#e3e3df");
    const muted = cssVar("--muted", "#6b7075");
    const eventTimes = events.map((e) => ({
      t: new Date(e.event.occurred_at).getTime() / 1000,
      oc: e.event.outcome === "out_of_credit",
    }));
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const opts: uPlot.Options = {
      width: Math.max(320, host.clientWidth),
      height: 300,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [
        axis,
        { ...axis, size: 70, values: (_u, vals) => vals.map((v) => formatAmount(v, unit)) },
      ],
      series: [
        {},
        { label: "Balance", stroke: accent, width: 2, fill: accent + "18", spanGaps: true, points: { show: false } },
        { label: "P90 (late)", stroke: bandColor + "88", width: 1, dash: [4, 4], spanGaps: true, points: { show: false } },
        { label: "Forecast P50", stroke: bandColor, width: 2, dash: [8, 5], spanGaps: true, points: { show: false } },
        { label: "P10 (early)", stroke: bandColor + "88", width: 1, dash: [4, 4], spanGaps: true, points: { show: false } },
        { label: "Top-up", stroke: ok, width: 0, paths: () => null, points: { show: true, size: 10, fill: ok, stroke: ok } },
      ],
      bands: [{ series: [2, 4], fill: bandColor + "26" }],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            for (const e of eventTimes) {
              if (e.t < (u.scales.x.min ?? 0) || e.t > (u.scales.x.max ?? 0)) continue;
              const x = u.valToPos(e.t, "x", true);
              ctx.strokeStyle = e.oc ? crit : muted;
              ctx.globalAlpha = 0.7;
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
            }
            // "now": where readings end and the forecast begins.
            const nowT = Date.now() / 1000;
            if (band.length > 0 && nowT > (u.scales.x.min ?? 0) && nowT < (u.scales.x.max ?? 0)) {
              const x = u.valToPos(nowT, "x", true);
              ctx.globalAlpha = 0.9;
              ctx.setLineDash([]);
              ctx.strokeStyle = muted;
              ctx.lineWidth = 1 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.fillStyle = muted;
              ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
              ctx.fillText("now", x + 4 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
    const plot = new uPlot(opts, align(history, band, topUps), host);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(320, host.clientWidth), height: 300 }));
    ro.observe(host);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [history, band, topUps, events, unit]);
  if (history.length === 0) {
    return <div class="chart-empty">No readings yet: the chart appears after the first poll.</div>;
  }
  return <div class="chart" id="history-chart" ref={el} />;
}
