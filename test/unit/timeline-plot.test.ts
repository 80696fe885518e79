import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Timeline } from "../../src/evidence/timeline.js";
import { htmlReport } from "../../src/report/html.js";
import {
  counterSeries,
  queueLimit,
  socketSeries,
  stepPath,
  timelinePlot,
} from "../../src/report/timeline-plot.js";
import type { NodeReport, RunReport } from "../../src/verdict/result.js";

// A real run of scenarios/sigstop-recovery.yaml (see test/fixtures/reports/RECORDED.txt).
const sigstop: RunReport = JSON.parse(
  readFileSync(new URL("../fixtures/reports/sigstop-recovery.json", import.meta.url), "utf8"),
);

const timeline = (extra: Partial<Timeline> = {}): Timeline => ({
  tMs: [0, 100, 200, 300],
  counters: {
    server: { TcpExtListenOverflows: [0, 0, 4, 9], TcpExtListenDrops: [0, 0, 4, 9] },
    "client.1": { TcpExtTCPSynRetrans: [0, 0, 2, 5] },
  },
  listen: { server: { recvQ: [0, 9, 9, 9], synRecv: [0, 0, 0, 0] } },
  faults: [{ atMs: 150, target: "server", action: "SIGSTOP" }],
  firstDropMs: 200,
  sampleCostMs: 8,
  ...extra,
});
const nodes: Record<string, NodeReport> = {
  server: {
    counters: {},
    listen: { final: [], maxRecvQ: { 8080: 9 }, sendQ: { 8080: 8 }, maxSynRecv: 0 },
  },
};

/** Attributes of every element `tag` with class `cls` in the SVG. */
function elements(svg: string, tag: string, cls: string): Record<string, string>[] {
  return [...svg.matchAll(new RegExp(`<${tag} class="${cls}" ([^>]*)>`, "g"))].map((m) =>
    Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
  );
}

describe("stepPath", () => {
  it("holds each value until the next sample", () => {
    expect(
      stepPath([
        { x: 0, y: 10 },
        { x: 5, y: 10 },
        { x: 10, y: 2 },
      ]),
    ).toBe("M0.0 10.0 H5.0 H10.0 V2.0");
    expect(stepPath([])).toBe("");
  });
});

describe("the timeline plot", () => {
  const svg = timelinePlot(timeline(), nodes, { variant: "s/baseline" });

  it("draws one step line per node and counter, and one per accept queue", () => {
    expect(svg).toMatch(/^<svg class="timeline" data-variant="s\/baseline" data-series="3"/);
    expect(
      elements(svg, "path", "series").map((p) => `${p["data-node"]} ${p["data-counter"]}`),
    ).toEqual(counterSeries(timeline()).map((s) => `${s.node} ${s.counter}`));
    expect(elements(svg, "path", "queue").map((p) => p["data-node"])).toEqual(["server"]);
  });

  it("draws the queue limit as a dashed line at nodes[node].listen.sendQ", () => {
    const [limit] = elements(svg, "line", "limit");
    expect(limit?.["stroke-dasharray"]).toBeDefined();
    expect(limit?.y1).toBe(limit?.y2);
    expect(svg).toContain("limit 8");
    expect(queueLimit(nodes.server)).toBe(8);
    expect(queueLimit(undefined)).toBeUndefined();
  });

  it("marks the faults with their action and notes the first drop", () => {
    const faults = elements(svg, "line", "fault");
    expect(faults.map((f) => f["data-action"])).toEqual(["SIGSTOP"]);
    expect(svg).toMatch(/<text class="fault-label"[^>]*>SIGSTOP server<\/text>/);
    // The fault at 150 ms sits between the samples at 100 and 200 ms.
    const x = Number(faults[0]!.x1);
    const first = elements(svg, "line", "first-drop")[0]!;
    expect(Number(first.x1)).toBeGreaterThan(x);
    expect(svg).toContain("first drop at <b>200 ms</b>");
    expect(timelinePlot(timeline({ firstDropMs: null }), nodes, { variant: "v" })).toContain(
      "no drop counter moved",
    );
  });

  it("leaves out what was not sampled, and draws nothing without a timeline", () => {
    const queueOnly = timelinePlot(timeline({ counters: {} }), nodes, { variant: "v" });
    expect(elements(queueOnly, "path", "series")).toHaveLength(0);
    expect(elements(queueOnly, "path", "queue")).toHaveLength(1);
    const noApp = timelinePlot(timeline({ listen: {} }), {}, { variant: "v" });
    expect(elements(noApp, "path", "queue")).toHaveLength(0);
    expect(elements(noApp, "line", "limit")).toHaveLength(0);
    expect(timelinePlot(undefined, nodes, { variant: "v" })).toBe("");
    expect(timelinePlot(timeline({ tMs: [] }), nodes, { variant: "v" })).toBe("");
  });

  it("escapes names and actions", () => {
    const evil = timelinePlot(
      timeline({ faults: [{ atMs: 1, target: "<i>", action: 'iptables -A "x" <y>' }] }),
      nodes,
      { variant: "<script>" },
    );
    expect(evil).not.toContain("<script>");
    expect(evil).not.toContain("<i>");
    expect(evil).toContain("&lt;y&gt;");
  });
});

describe("the timeline in the HTML report of a real run", () => {
  const html = htmlReport(sigstop);

  it("has one timeline per variant, with the SIGSTOP and SIGCONT markers", () => {
    const svgs = [...html.matchAll(/<svg class="timeline" data-variant="([^"]*)"[\s\S]*?<\/svg>/g)];
    expect(svgs.map((m) => m[1])).toEqual(
      sigstop.scenarios[0]!.variants.map((v) => `sigstop-recovery/${v.variant}`),
    );
    for (const [i, m] of svgs.entries()) {
      const v = sigstop.scenarios[0]!.variants[i]!;
      expect(elements(m[0], "line", "fault").map((f) => f["data-action"])).toEqual(
        v.timeline!.faults.map((f) => f.action),
      );
      expect(elements(m[0], "path", "series")).toHaveLength(counterSeries(v.timeline!).length);
      expect(elements(m[0], "line", "limit")).toHaveLength(1);
    }
  });

  it("has no timeline for a variant without one (older reports)", () => {
    const old: RunReport = structuredClone(sigstop);
    for (const v of old.scenarios[0]!.variants) delete v.timeline;
    expect(htmlReport(old)).not.toContain('class="timeline"');
  });
});

describe("the socket-state panel", () => {
  it("draws one dashed line per node and state, LISTEN left out, with its peak in the legend", () => {
    const t = timeline({
      sockets: { server: { CLOSE_WAIT: [0, 20, 60, 60], LISTEN: [1, 1, 1, 1] } },
    });
    expect(socketSeries(t).map((s) => `${s.node} ${s.state}`)).toEqual(["server CLOSE_WAIT"]);
    const html = timelinePlot(t, nodes, { variant: "close-wait-leak/baseline" });
    const lines = elements(html, "path", "sockets");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ "data-node": "server", "data-state": "CLOSE_WAIT" });
    expect(html).toContain('data-sockets="1"');
    expect(html).toContain('server CLOSE_WAIT <span class="n">max 60</span>');
  });
});
