/**
 * The attempt plot of the HTML report, as inline SVG: every connection attempt of a variant,
 * x = when it started, y = how long it took to connect (log scale: a healthy connect is
 * sub-millisecond, one SYN retransmit later it is a second or more). Attempts that never
 * connected have no connect time: they sit in bands above the plot, one band per outcome.
 *
 * Plain SVG, no script and no chart library, so the page works offline and renders the same in
 * any browser. One `<circle class="attempt">` per drawn attempt, so a test can count them.
 */
import type { Attempt } from "../evidence/types.js";
import { htmlEscape } from "./html-escape.js";

/** Colours a reader learns once: green connected, orange/red the failures. */
const KNOWN_COLOURS: Record<string, string> = {
  connected: "#2e7d32",
  timeout: "#ef6c00",
  ETIMEDOUT: "#d84315",
  ECONNREFUSED: "#c62828",
  ECONNRESET: "#6a1b9a",
  noReply: "#f9a825",
  EOF: "#00838f",
  EADDRNOTAVAIL: "#4e342e",
  EHOSTUNREACH: "#37474f",
};
const SPARE_COLOURS = ["#1565c0", "#ad1457", "#558b2f", "#5d4037", "#455a64", "#283593", "#9e9d24"];

/** Outcome → colour, stable for a given set of outcomes (unknown ones take spare colours in name order). */
export function outcomeColours(outcomes: Iterable<string>): Map<string, string> {
  const colours = new Map<string, string>();
  let spare = 0;
  for (const o of [...new Set(outcomes)].sort()) {
    colours.set(o, KNOWN_COLOURS[o] ?? SPARE_COLOURS[spare++ % SPARE_COLOURS.length]!);
  }
  return colours;
}

/** Above this many attempts a plot is thinned (a million circles would not render). */
export const MAX_DRAWN_ATTEMPTS = 20_000;
/** Outcomes with at most this many attempts are always drawn in full, even when thinning. */
const ALWAYS_DRAWN = 1_000;

/**
 * The attempts to draw: all of them up to `max`; beyond, every k-th of each common outcome and
 * all of the rare ones, so a handful of resets among a million connects still shows.
 */
export function attemptsToDraw(attempts: Attempt[], max = MAX_DRAWN_ATTEMPTS): Attempt[] {
  if (attempts.length <= max) return attempts;
  const perOutcome = new Map<string, number>();
  for (const a of attempts) perOutcome.set(a.outcome, (perOutcome.get(a.outcome) ?? 0) + 1);
  const stride = Math.ceil(attempts.length / max);
  const seen = new Map<string, number>();
  return attempts.filter((a) => {
    const i = seen.get(a.outcome) ?? 0;
    seen.set(a.outcome, i + 1);
    return perOutcome.get(a.outcome)! <= ALWAYS_DRAWN || i % stride === 0;
  });
}

/** A step of 1, 2 or 5 × 10^k giving about `count` intervals over `span`. */
export function niceStep(span: number, count = 5): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

/** A linear axis over the data, widened to whole steps: [lo, hi] and its ticks. */
export function linearTicks(min: number, max: number): { lo: number; hi: number; ticks: number[] } {
  if (min === max) {
    min -= 1;
    max += 1;
  }
  const step = niceStep(max - min);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { lo, hi, ticks };
}

/** Whole decades around the data: [10^a, 10^b] with a < b. */
export function decadeTicks(min: number, max: number): { lo: number; hi: number; ticks: number[] } {
  const a = Math.floor(Math.log10(min));
  let b = Math.ceil(Math.log10(max));
  if (b <= a) b = a + 1;
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) ticks.push(Number((10 ** e).toPrecision(12)));
  return { lo: 10 ** a, hi: 10 ** b, ticks };
}

/** Connect times at or below this are drawn at it (the log scale has no zero). */
const MIN_CONNECT_MS = 0.001;

/** Min and max without spreading a large array into arguments. */
function range(values: number[]): { min: number; max: number } | undefined {
  if (values.length === 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

const fmt = (n: number) => String(Number(n.toPrecision(6)));
const px = (n: number) => n.toFixed(1);

/** Deterministic vertical spread inside a band, so stacked attempts show as a cloud, not a dot. */
function jitter(i: number, amplitude: number): number {
  const h = Math.sin(i * 12.9898) * 43758.5453;
  return (h - Math.floor(h) - 0.5) * 2 * amplitude;
}

function attemptTitle(a: Attempt): string {
  const port = a.localPort === undefined ? "" : ` port ${a.localPort}`;
  const connect =
    a.connectMs === undefined ? "never connected" : `connected in ${fmt(a.connectMs)} ms`;
  const reply = a.replyMs === undefined ? "" : `, reply in ${fmt(a.replyMs)} ms`;
  return `${a.node}${port}: ${a.outcome} (${a.phase}) — started t=${fmt(a.startMs)} ms, ${connect}${reply}`;
}

export interface AttemptPlotOptions {
  /** Written as `data-variant`: `scenario/variant`. */
  variant: string;
  width?: number;
  height?: number;
  maxDrawn?: number;
}

/** Where everything goes: outcome bands on top, the log-scaled connect-time plot below. */
interface Layout {
  width: number;
  height: number;
  left: number;
  plotW: number;
  top: number;
  plotTop: number;
  plotBottom: number;
  bandH: number;
  /** Outcomes of attempts that have no connect time (timeout, ECONNREFUSED, …), one band each. */
  bandOutcomes: string[];
  x: (ms: number) => number;
  y: (ms: number) => number;
  xTicks: number[];
  yTicks: number[];
  /** Did any drawn attempt connect? */
  anyConnected: boolean;
}

function layout(drawn: Attempt[], width: number, height: number): Layout {
  const bandOutcomes = [
    ...new Set(drawn.filter((a) => a.connectMs === undefined).map((a) => a.outcome)),
  ].sort();
  const bandH = 18;
  const left = 96;
  const right = 14;
  const top = 8;
  const bottom = 40;
  const plotTop = top + bandOutcomes.length * bandH + (bandOutcomes.length > 0 ? 8 : 0);
  const plotBottom = height - bottom;
  const plotW = width - left - right;

  const starts = range(drawn.map((a) => a.startMs)) ?? { min: 0, max: 1000 };
  const xAxis = linearTicks(starts.min, starts.max);
  const x = (ms: number) => left + ((ms - xAxis.lo) / (xAxis.hi - xAxis.lo)) * plotW;

  const connects = range(
    drawn
      .filter((a) => a.connectMs !== undefined)
      .map((a) => Math.max(a.connectMs!, MIN_CONNECT_MS)),
  );
  const yAxis = decadeTicks(connects?.min ?? 0.1, connects?.max ?? 10);
  const logLo = Math.log10(yAxis.lo);
  const logHi = Math.log10(yAxis.hi);
  const y = (ms: number) =>
    plotBottom -
    ((Math.log10(Math.max(ms, MIN_CONNECT_MS)) - logLo) / (logHi - logLo)) * (plotBottom - plotTop);
  return {
    ...{ width, height, left, plotW, top, plotTop, plotBottom, bandH, bandOutcomes, x, y },
    xTicks: xAxis.ticks,
    yTicks: yAxis.ticks,
    anyConnected: connects !== undefined,
  };
}

/** The SVG (and its HTML legend) for one variant's attempts. */
export function attemptPlot(attempts: Attempt[], opts: AttemptPlotOptions): string {
  const width = opts.width ?? 560;
  const height = opts.height ?? 270;
  const drawn = attemptsToDraw(attempts, opts.maxDrawn);
  const colours = outcomeColours(attempts.map((a) => a.outcome));
  const l = layout(drawn, width, height);
  const total = attempts.length;
  const parts = [
    `<svg class="attempts" data-variant="${htmlEscape(opts.variant)}" data-attempts="${total}" data-drawn="${drawn.length}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${htmlEscape(`${total} connection attempts of ${opts.variant}: start time against connect time, by outcome`)}">`,
    ...bands(l, colours),
    ...axes(l),
    ...dots(l, drawn, colours),
    "</svg>",
  ];
  // Legend, with counts over all attempts (not only the drawn ones).
  const counts = new Map<string, number>();
  for (const a of attempts) counts.set(a.outcome, (counts.get(a.outcome) ?? 0) + 1);
  const legend = [...colours].map(
    ([o, c]) =>
      `<li><span class="swatch" style="background:${c}"></span>${htmlEscape(o)} <span class="n">${counts.get(o)}</span></li>`,
  );
  const thinned =
    drawn.length < total
      ? `<p class="note">${total} attempts; ${drawn.length} drawn (every ${Math.ceil(total / (opts.maxDrawn ?? MAX_DRAWN_ATTEMPTS))}th of each common outcome, all of the rare ones).</p>`
      : "";
  return `${parts.join("\n")}\n<ul class="legend">${legend.join("")}</ul>${thinned}`;
}

function bands(l: Layout, colours: Map<string, string>): string[] {
  const { left, plotW, top, bandH, plotTop } = l;
  const parts: string[] = [];
  for (const [i, o] of l.bandOutcomes.entries()) {
    const yTop = top + i * bandH;
    parts.push(
      `<rect class="band" x="${left}" y="${yTop}" width="${plotW}" height="${bandH}" fill="${i % 2 ? "#f6f6f6" : "#efefef"}"/>`,
      `<text class="band-label" x="${left - 6}" y="${px(yTop + bandH / 2 + 4)}" text-anchor="end" fill="${colours.get(o)}">${htmlEscape(o)}</text>`,
    );
  }
  if (l.bandOutcomes.length > 0)
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${plotTop - 4}" y2="${plotTop - 4}" stroke="#999" stroke-dasharray="3 3"/>`,
    );
  return parts;
}

function axes(l: Layout): string[] {
  const { left, plotW, plotTop, plotBottom, x, y } = l;
  const parts = [
    `<rect x="${left}" y="${plotTop}" width="${plotW}" height="${plotBottom - plotTop}" fill="none" stroke="#bbb"/>`,
  ];
  for (const t of l.yTicks) {
    const yy = px(y(t));
    parts.push(
      `<line class="grid" x1="${left}" x2="${left + plotW}" y1="${yy}" y2="${yy}" stroke="#e3e3e3"/>`,
      `<text class="tick" x="${left - 6}" y="${px(y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`,
    );
  }
  for (const t of l.xTicks) {
    const xx = px(x(t));
    parts.push(
      `<line class="grid" x1="${xx}" x2="${xx}" y1="${plotTop}" y2="${plotBottom}" stroke="#eeeeee"/>`,
      `<text class="tick" x="${xx}" y="${plotBottom + 15}" text-anchor="middle">${fmt(t)}</text>`,
    );
  }
  parts.push(
    `<text class="axis-title" x="${left + plotW / 2}" y="${l.height - 6}" text-anchor="middle">attempt start (ms since traffic t=0)</text>`,
    `<text class="axis-title" transform="translate(14 ${px((plotTop + plotBottom) / 2)}) rotate(-90)" text-anchor="middle">connect (ms, log)</text>`,
  );
  if (!l.anyConnected)
    parts.push(
      `<text class="empty" x="${left + plotW / 2}" y="${px((plotTop + plotBottom) / 2)}" text-anchor="middle">no attempt connected</text>`,
    );
  return parts;
}

/** The attempts: connected ones by connect time, the others in their outcome's band. */
function dots(l: Layout, drawn: Attempt[], colours: Map<string, string>): string[] {
  const bandY = (outcome: string) =>
    l.top + l.bandOutcomes.indexOf(outcome) * l.bandH + l.bandH / 2;
  return drawn.map((a, i) => {
    const cy =
      a.connectMs === undefined ? bandY(a.outcome) + jitter(i, l.bandH / 2 - 4) : l.y(a.connectMs);
    const colour = colours.get(a.outcome)!;
    return `<circle class="attempt" data-outcome="${htmlEscape(a.outcome)}" cx="${px(l.x(a.startMs))}" cy="${px(cy)}" r="3.5" fill="${colour}" fill-opacity="0.55" stroke="${colour}" stroke-width="0.8"><title>${htmlEscape(attemptTitle(a))}</title></circle>`;
  });
}
