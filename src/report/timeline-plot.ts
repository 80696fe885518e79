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
import type { Timeline } from "../evidence/timeline.js";
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
export function socketSeries(t: Timeline): { node: string; state: string; values: number[] }[] {
  return Object.entries(t.sockets ?? {}).flatMap(([node, states]) =>
    Object.entries(states)
      .filter(([state]) => state !== "LISTEN")
      .map(([state, values]) => ({ node, state, values: values ?? [] })),
  );
}

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
  const left = 56;
  const right = 14;
  const top = 22; // room for the fault labels
  const panelH = 110;
  const gap = 30;
  const hasCounters = series.length > 0;
  const hasQueues = queues.length > 0;
  const hasSockets = sockets.length > 0;
  const counterTop = top;
  const counterBottom = counterTop + panelH;
  const queueTop = hasCounters ? counterBottom + gap : top;
  const queueBottom = queueTop + panelH;
  const aboveSockets = hasQueues ? queueBottom : hasCounters ? counterBottom : undefined;
  const socketTop = aboveSockets === undefined ? top : aboveSockets + gap;
  const socketBottom = socketTop + panelH;
  const plotBottom = hasSockets ? socketBottom : hasQueues ? queueBottom : counterBottom;
  const height = plotBottom + 40;
  const plotW = width - left - right;

  const times = [...t.tMs, ...t.faults.map((f) => f.atMs)];
  const xAxis = linearTicks(Math.min(0, ...times), Math.max(...times));
  const x = (ms: number) => left + ((ms - xAxis.lo) / (xAxis.hi - xAxis.lo)) * plotW;

  const parts: string[] = [];
  const faults = t.faults.length;
  parts.push(
    `<svg class="timeline" data-variant="${e(opts.variant)}" data-series="${series.length}" data-queues="${queues.length}" data-sockets="${sockets.length}" data-faults="${faults}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${e(`timeline of ${opts.variant}: ${series.length} counter line(s), ${queues.length} accept queue(s), ${faults} fault(s)`)}">`,
  );

  /** One panel: frame, y grid and ticks, and x grid lines. Returns its y scale. */
  const panel = (yTop: number, yBottom: number, maxValue: number, title: string) => {
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
    for (const ms of xAxis.ticks)
      parts.push(
        `<line class="grid" x1="${px(x(ms))}" x2="${px(x(ms))}" y1="${yTop}" y2="${yBottom}" stroke="#eeeeee"/>`,
      );
    parts.push(
      `<text class="axis-title" transform="translate(14 ${px((yTop + yBottom) / 2)}) rotate(-90)" text-anchor="middle">${e(title)}</text>`,
    );
    return y;
  };

  const colours = new Map<string, string>();
  if (hasCounters) {
    let max = 0;
    for (const s of series) for (const v of s.values) if (v > max) max = v;
    const y = panel(counterTop, counterBottom, max, "counter Δ");
    series.forEach((s, i) => {
      const colour = LINE_COLOURS[i % LINE_COLOURS.length]!;
      colours.set(`${s.node} ${s.counter}`, colour);
      const d = stepPath(s.values.map((v, k) => ({ x: x(t.tMs[k] ?? 0), y: y(v) })));
      const last = s.values[s.values.length - 1] ?? 0;
      parts.push(
        `<path class="series" data-node="${e(s.node)}" data-counter="${e(s.counter)}" d="${d}" fill="none" stroke="${colour}" stroke-width="1.6"><title>${e(`${s.node} ${s.counter}: +${last} at the end`)}</title></path>`,
      );
    });
  }

  if (hasQueues) {
    let max = 0;
    for (const [node, q] of queues) {
      for (const v of q.recvQ) if (v > max) max = v;
      max = Math.max(max, queueLimit(nodes[node]) ?? 0);
    }
    const y = panel(queueTop, queueBottom, max, "accept queue");
    for (const [node, q] of queues) {
      const d = stepPath(q.recvQ.map((v, k) => ({ x: x(t.tMs[k] ?? 0), y: y(v) })));
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

  if (hasSockets) {
    const max = Math.max(0, ...sockets.flatMap((s) => s.values));
    const y = panel(socketTop, socketBottom, max, "sockets");
    sockets.forEach((s, i) => {
      const colour = LINE_COLOURS[(series.length + i) % LINE_COLOURS.length]!;
      colours.set(`${s.node} ${s.state}`, colour);
      const d = stepPath(s.values.map((v, k) => ({ x: x(t.tMs[k] ?? 0), y: y(v) })));
      const peak = Math.max(0, ...s.values);
      parts.push(
        `<path class="sockets" data-node="${e(s.node)}" data-state="${e(s.state)}" d="${d}" fill="none" stroke="${colour}" stroke-width="1.6" stroke-dasharray="6 2"><title>${e(`${s.node} sockets in ${s.state}: at most ${peak}, ${s.values.at(-1) ?? 0} at the end`)}</title></path>`,
      );
    });
  }

  // The x axis under the lowest panel.
  for (const ms of xAxis.ticks)
    parts.push(
      `<text class="tick" x="${px(x(ms))}" y="${plotBottom + 15}" text-anchor="middle">${fmt(ms)}</text>`,
    );
  parts.push(
    `<text class="axis-title" x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">ms since traffic t=0</text>`,
  );

  // Markers over both panels: the first drop, then the faults (labels alternate in height so
  // two faults close together stay readable).
  if (t.firstDropMs !== null)
    parts.push(
      `<line class="first-drop" x1="${px(x(t.firstDropMs))}" x2="${px(x(t.firstDropMs))}" y1="${top}" y2="${plotBottom}" stroke="${DROP_COLOUR}" stroke-dasharray="2 3"><title>${e(`first drop at ${t.firstDropMs} ms`)}</title></line>`,
    );
  t.faults.forEach((f, i) => {
    const xx = px(x(f.atMs));
    const label = `${f.action} ${f.target}`;
    parts.push(
      `<line class="fault" data-action="${e(f.action)}" x1="${xx}" x2="${xx}" y1="${top - 4}" y2="${plotBottom}" stroke="${FAULT_COLOUR}" stroke-width="1.4"><title>${e(`${label} at ${f.atMs} ms`)}</title></line>`,
      `<text class="fault-label" x="${xx}" y="${i % 2 ? top - 8 : top - 12}" text-anchor="${x(f.atMs) > left + plotW * 0.75 ? "end" : "start"}" fill="${FAULT_COLOUR}">${e(label)}</text>`,
    );
  });
  parts.push("</svg>");

  const legend = [...colours].map(([name, c]) => {
    const counter = series.find((s) => `${s.node} ${s.counter}` === name);
    const n = counter
      ? `+${counter.values.at(-1) ?? 0}`
      : `max ${Math.max(0, ...(sockets.find((s) => `${s.node} ${s.state}` === name)?.values ?? []))}`;
    return `<li><span class="line" style="background:${c}"></span>${e(name)} <span class="n">${n}</span></li>`;
  });
  if (hasQueues)
    legend.push(
      `<li><span class="line" style="background:${QUEUE_COLOUR}"></span>accept queue <span class="line dashed" style="border-color:${QUEUE_COLOUR}"></span>limit</li>`,
    );
  const drop =
    t.firstDropMs === null
      ? "no drop counter moved"
      : `first drop at <b>${fmt(t.firstDropMs)} ms</b>`;
  const note = `<p class="note timeline-note">${drop} · sampled every ~${t.tMs.length > 1 ? fmt(Math.round((t.tMs[t.tMs.length - 1]! - t.tMs[0]!) / (t.tMs.length - 1))) : "—"} ms (${t.tMs.length} samples, ${fmt(t.sampleCostMs)} ms each)</p>`;
  return `${parts.join("\n")}\n<ul class="legend timeline-legend">${legend.join("")}</ul>${note}`;
}
