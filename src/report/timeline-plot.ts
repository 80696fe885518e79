/**
 * The timeline plot of the HTML report, as inline SVG: what the kernel did over time in one
 * variant. Two panels over the same time axis: on top the notable counters (one step line per
 * node and counter, delta since the run's start), below the accept-queue depth of each node
 * running the built-in app, with its limit as a dashed line, and at the bottom the sockets of
 * each node per TCP state (LISTEN left out). Faults are vertical markers across all panels,
 * labelled with their action; the first drop is marked too.
 *
 * Step lines because a counter sampled every 100 ms is known only at the samples: a straight
 * line between two samples would draw values nobody measured.
 *
 * Plain SVG like the attempt plot: no script, no library. A `<path class="series">` per counter
 * line, a `<path class="queue">` per queue and a `<path class="sockets">` per node and state, so
 * a test can count them.
 */
import type { Timeline } from "../model/evidence.js";
import type { NodeReport } from "../verdict/result.js";
import { linearTicks } from "./attempt-plot.js";
import { htmlEscape as e } from "./html-escape.js";

/** Line colours, cycled in series order (node by node, as the report lists them). */
const LINE_COLOURS = [
  "#c62828",
  "#1565c0",
  "#ef6c00",
  "#2e7d32",
  "#6a1b9a",
  "#00838f",
  "#ad1457",
  "#4e342e",
  "#9e9d24",
  "#37474f",
];
const QUEUE_COLOUR = "#1565c0";
const FAULT_COLOUR = "#6a1b9a";
const DROP_COLOUR = "#c62828";

const fmt = (n: number) => String(Number(n.toPrecision(6)));
const px = (n: number) => n.toFixed(1);

/** An SVG path through (t, v) samples as steps: each value holds until the next sample. */
export function stepPath(points: { x: number; y: number }[]): string {
  if (points.length === 0) return "";
  const [first, ...rest] = points;
  const out = [`M${px(first!.x)} ${px(first!.y)}`];
  let y = first!.y;
  for (const p of rest) {
    out.push(`H${px(p.x)}`);
    if (p.y !== y) out.push(`V${px(p.y)}`);
    y = p.y;
  }
  return out.join(" ");
}

export interface TimelineSeries {
  node: string;
  counter: string;
  values: number[];
}

/** The counter lines, node by node in the timeline's order. */
export function counterSeries(t: Timeline): TimelineSeries[] {
  return Object.entries(t.counters).flatMap(([node, counters]) =>
    Object.entries(counters).map(([counter, values]) => ({ node, counter, values })),
  );
}

/** Socket-state lines: node by node, states in the kernel's order, LISTEN left out (constant). */
export function socketSeries(t: Timeline): SocketSeries[] {
  return Object.entries(t.sockets ?? {}).flatMap(([node, states]) =>
    Object.entries(states)
      .filter(([state]) => state !== "LISTEN")
      .map(([state, values]) => ({ node, state, values: values ?? [] })),
  );
}

type SocketSeries = { node: string; state: string; values: number[] };

/** The accept-queue limit of a node's app (its only listen socket's Send-Q), if reported. */
export function queueLimit(report: NodeReport | undefined): number | undefined {
  const limits = Object.values(report?.listen?.sendQ ?? {});
  return limits.length > 0 ? Math.max(...limits) : undefined;
}

export interface TimelinePlotOptions {
  /** Written as `data-variant`: `scenario/variant`. */
  variant: string;
  width?: number;
}

/** The drawing area shared by both panels: margins, the time axis, and the SVG parts so far. */
interface Frame {
  left: number;
  plotW: number;
  /** Top of the first panel (room above for the fault labels) and bottom of the last. */
  top: number;
  plotBottom: number;
  height: number;
  x: (ms: number) => number;
  xTicks: number[];
  parts: string[];
}

const PANEL_H = 110;
const PANEL_GAP = 30;

/**
 * The SVG (and its legend) for one variant's timeline; "" when there is nothing sampled.
 * `nodes` gives the queue limits (`nodes[node].listen.sendQ`).
 */
export function timelinePlot(
  t: Timeline | undefined,
  nodes: Record<string, NodeReport>,
  opts: TimelinePlotOptions,
): string {
  if (!t || t.tMs.length === 0) return "";
  const width = opts.width ?? 560;
  const series = counterSeries(t);
  const queues = Object.entries(t.listen);
  const sockets = socketSeries(t);
  const top = 22; // room for the fault labels
  // Panels stacked top to bottom, each present only when it has something to show.
  const panels = [series.length > 0, queues.length > 0, sockets.length > 0];
  const tops: number[] = [];
  let next = top;
  for (const present of panels) {
    tops.push(next);
    if (present) next += PANEL_H + PANEL_GAP;
  }
  const plotBottom = Math.max(top + PANEL_H, next - PANEL_GAP);
  const [counterTop, queueTop, socketTop] = tops as [number, number, number];
  const f = frame(t, width, top, plotBottom);
  const faults = t.faults.length;
  f.parts.push(
    `<svg class="timeline" data-variant="${e(opts.variant)}" data-series="${series.length}" data-queues="${queues.length}" data-sockets="${sockets.length}" data-faults="${faults}" width="${width}" height="${f.height}" viewBox="0 0 ${width} ${f.height}" role="img" aria-label="${e(`timeline of ${opts.variant}: ${series.length} counter line(s), ${queues.length} accept queue(s), ${sockets.length} socket state line(s), ${faults} fault(s)`)}">`,
  );
  const colours: Map<string, string> =
    series.length > 0 ? drawCounters(f, t, series, counterTop, counterTop + PANEL_H) : new Map();
  if (queues.length > 0) drawQueues(f, t, queues, nodes, queueTop, queueTop + PANEL_H);
  if (sockets.length > 0)
    drawSockets(f, t, sockets, colours, series.length, socketTop, socketTop + PANEL_H);
  drawTimeAxis(f);
  drawMarkers(f, t);
  f.parts.push("</svg>");
  return `${f.parts.join("\n")}\n${legend(t, series, sockets, colours, queues.length > 0)}`;
}

function frame(t: Timeline, width: number, top: number, plotBottom: number): Frame {
  const left = 56;
  const right = 14;
  const plotW = width - left - right;
  const times = [...t.tMs, ...t.faults.map((f) => f.atMs)];
  const xAxis = linearTicks(Math.min(0, ...times), Math.max(...times));
  const x = (ms: number) => left + ((ms - xAxis.lo) / (xAxis.hi - xAxis.lo)) * plotW;
  return {
    left,
    plotW,
    top,
    plotBottom,
    height: plotBottom + 40,
    x,
    xTicks: xAxis.ticks,
    parts: [],
  };
}

/** One panel: frame, y grid and ticks, and x grid lines. Returns its y scale. */
function drawPanel(f: Frame, yTop: number, yBottom: number, maxValue: number, title: string) {
  const { left, plotW, x, parts } = f;
  const yAxis = linearTicks(0, Math.max(1, maxValue));
  const y = (v: number) => yBottom - ((v - yAxis.lo) / (yAxis.hi - yAxis.lo)) * (yBottom - yTop);
  parts.push(
    `<rect x="${left}" y="${yTop}" width="${plotW}" height="${yBottom - yTop}" fill="none" stroke="#bbb"/>`,
  );
  for (const v of yAxis.ticks) {
    parts.push(
      `<line class="grid" x1="${left}" x2="${left + plotW}" y1="${px(y(v))}" y2="${px(y(v))}" stroke="#e3e3e3"/>`,
      `<text class="tick" x="${left - 6}" y="${px(y(v) + 4)}" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  for (const ms of f.xTicks)
    parts.push(
      `<line class="grid" x1="${px(x(ms))}" x2="${px(x(ms))}" y1="${yTop}" y2="${yBottom}" stroke="#eeeeee"/>`,
    );
  parts.push(
    `<text class="axis-title" transform="translate(14 ${px((yTop + yBottom) / 2)}) rotate(-90)" text-anchor="middle">${e(title)}</text>`,
  );
  return y;
}

/** The counter panel; returns each line's colour by "node counter", for the legend. */
function drawCounters(
  f: Frame,
  t: Timeline,
  series: TimelineSeries[],
  yTop: number,
  yBottom: number,
): Map<string, string> {
  let max = 0;
  for (const s of series) for (const v of s.values) if (v > max) max = v;
  const y = drawPanel(f, yTop, yBottom, max, "counter Δ");
  const colours = new Map<string, string>();
  series.forEach((s, i) => {
    const colour = LINE_COLOURS[i % LINE_COLOURS.length]!;
    colours.set(`${s.node} ${s.counter}`, colour);
    const d = stepPath(s.values.map((v, k) => ({ x: f.x(t.tMs[k] ?? 0), y: y(v) })));
    const last = s.values[s.values.length - 1] ?? 0;
    f.parts.push(
      `<path class="series" data-node="${e(s.node)}" data-counter="${e(s.counter)}" d="${d}" fill="none" stroke="${colour}" stroke-width="1.6"><title>${e(`${s.node} ${s.counter}: +${last} at the end`)}</title></path>`,
    );
  });
  return colours;
}

/** The accept-queue panel: each app's Recv-Q over time, its limit dashed. */
function drawQueues(
  f: Frame,
  t: Timeline,
  queues: [string, Timeline["listen"][string]][],
  nodes: Record<string, NodeReport>,
  yTop: number,
  yBottom: number,
): void {
  const { left, plotW, parts } = f;
  let max = 0;
  for (const [node, q] of queues) {
    for (const v of q.recvQ) if (v > max) max = v;
    max = Math.max(max, queueLimit(nodes[node]) ?? 0);
  }
  const y = drawPanel(f, yTop, yBottom, max, "accept queue");
  for (const [node, q] of queues) {
    const d = stepPath(q.recvQ.map((v, k) => ({ x: f.x(t.tMs[k] ?? 0), y: y(v) })));
    const peak = q.recvQ.reduce((a, b) => Math.max(a, b), 0);
    parts.push(
      `<path class="queue" data-node="${e(node)}" d="${d}" fill="none" stroke="${QUEUE_COLOUR}" stroke-width="1.8"><title>${e(`${node} accept queue (Recv-Q): at most ${peak}`)}</title></path>`,
    );
    const limit = queueLimit(nodes[node]);
    if (limit !== undefined)
      parts.push(
        `<line class="limit" data-node="${e(node)}" x1="${left}" x2="${left + plotW}" y1="${px(y(limit))}" y2="${px(y(limit))}" stroke="${QUEUE_COLOUR}" stroke-dasharray="5 4" stroke-opacity="0.7"><title>${e(`${node} queue limit (Send-Q) ${limit}`)}</title></line>`,
        `<text class="limit-label" x="${left + plotW - 4}" y="${px(y(limit) - 4)}" text-anchor="end" fill="${QUEUE_COLOUR}">${e(`limit ${limit}`)}</text>`,
      );
  }
}

/** The socket-state panel: per node and state (LISTEN left out), dashed; colours after the counters'. */
function drawSockets(
  f: Frame,
  t: Timeline,
  sockets: SocketSeries[],
  colours: Map<string, string>,
  offset: number,
  yTop: number,
  yBottom: number,
): void {
  const max = Math.max(0, ...sockets.flatMap((s) => s.values));
  const y = drawPanel(f, yTop, yBottom, max, "sockets");
  sockets.forEach((s, i) => {
    const colour = LINE_COLOURS[(offset + i) % LINE_COLOURS.length]!;
    colours.set(`${s.node} ${s.state}`, colour);
    const d = stepPath(s.values.map((v, k) => ({ x: f.x(t.tMs[k] ?? 0), y: y(v) })));
    const peak = Math.max(0, ...s.values);
    f.parts.push(
      `<path class="sockets" data-node="${e(s.node)}" data-state="${e(s.state)}" d="${d}" fill="none" stroke="${colour}" stroke-width="1.6" stroke-dasharray="6 2"><title>${e(`${s.node} sockets in ${s.state}: at most ${peak}, ${s.values.at(-1) ?? 0} at the end`)}</title></path>`,
    );
  });
}

/** The x axis under the lowest panel. */
function drawTimeAxis(f: Frame): void {
  for (const ms of f.xTicks)
    f.parts.push(
      `<text class="tick" x="${px(f.x(ms))}" y="${f.plotBottom + 15}" text-anchor="middle">${fmt(ms)}</text>`,
    );
  f.parts.push(
    `<text class="axis-title" x="${f.left + f.plotW / 2}" y="${f.height - 6}" text-anchor="middle">ms since traffic t=0</text>`,
  );
}

/**
 * Markers over every panel: the first drop, then the faults (labels alternate in height so two
 * faults close together stay readable).
 */
function drawMarkers(f: Frame, t: Timeline): void {
  const { top, plotBottom, x, parts } = f;
  if (t.firstDropMs !== null)
    parts.push(
      `<line class="first-drop" x1="${px(x(t.firstDropMs))}" x2="${px(x(t.firstDropMs))}" y1="${top}" y2="${plotBottom}" stroke="${DROP_COLOUR}" stroke-dasharray="2 3"><title>${e(`first drop at ${t.firstDropMs} ms`)}</title></line>`,
    );
  t.faults.forEach((fault, i) => {
    const xx = px(x(fault.atMs));
    const label = `${fault.action} ${fault.target}`;
    parts.push(
      `<line class="fault" data-action="${e(fault.action)}" x1="${xx}" x2="${xx}" y1="${top - 4}" y2="${plotBottom}" stroke="${FAULT_COLOUR}" stroke-width="1.4"><title>${e(`${label} at ${fault.atMs} ms`)}</title></line>`,
      `<text class="fault-label" x="${xx}" y="${i % 2 ? top - 8 : top - 12}" text-anchor="${x(fault.atMs) > f.left + f.plotW * 0.75 ? "end" : "start"}" fill="${FAULT_COLOUR}">${e(label)}</text>`,
    );
  });
}

/** The legend under the plot, and a note on the first drop and the sampling. */
function legend(
  t: Timeline,
  series: TimelineSeries[],
  sockets: SocketSeries[],
  colours: Map<string, string>,
  hasQueues: boolean,
): string {
  const items = [...colours].map(([name, c]) => {
    const counter = series.find((s) => `${s.node} ${s.counter}` === name);
    const n = counter
      ? `+${counter.values.at(-1) ?? 0}`
      : `max ${Math.max(0, ...(sockets.find((s) => `${s.node} ${s.state}` === name)?.values ?? []))}`;
    return `<li><span class="line" style="background:${c}"></span>${e(name)} <span class="n">${n}</span></li>`;
  });
  if (hasQueues)
    items.push(
      `<li><span class="line" style="background:${QUEUE_COLOUR}"></span>accept queue <span class="line dashed" style="border-color:${QUEUE_COLOUR}"></span>limit</li>`,
    );
  const drop =
    t.firstDropMs === null
      ? "no drop counter moved"
      : `first drop at <b>${fmt(t.firstDropMs)} ms</b>`;
  const note = `<p class="note timeline-note">${drop} · sampled every ~${t.tMs.length > 1 ? fmt(Math.round((t.tMs[t.tMs.length - 1]! - t.tMs[0]!) / (t.tMs.length - 1))) : "—"} ms (${t.tMs.length} samples, ${fmt(t.sampleCostMs)} ms each)</p>`;
  return `<ul class="legend timeline-legend">${items.join("")}</ul>${note}`;
}
