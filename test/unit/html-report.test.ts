import { readFileSync } from "node:fs";
import { variantResult } from "./builders.js";
import { describe, expect, it } from "vitest";
import type { Attempt } from "../../src/evidence/types.js";
import {
  attemptPlot,
  attemptsToDraw,
  decadeTicks,
  linearTicks,
  niceStep,
  outcomeColours,
} from "../../src/report/attempt-plot.js";
import { htmlEscape } from "../../src/report/html-escape.js";
import { htmlReport } from "../../src/report/html.js";
import type { RunReport, VariantResult } from "../../src/verdict/result.js";

// Real reports of scenarios/accept-queue-overflow.yaml (see test/fixtures/reports/RECORDED.txt).
const fixture = (name: string): RunReport =>
  JSON.parse(readFileSync(new URL(`../fixtures/reports/${name}`, import.meta.url), "utf8"));
const passing = fixture("accept-queue.json");
const failing = fixture("accept-queue-somaxconn4.json");

/** Each `<svg class="attempts">` with its variant and the attributes of its circles. */
function plots(html: string): { variant: string; circles: Record<string, string>[] }[] {
  return [
    ...html.matchAll(/<svg class="attempts" data-variant="([^"]*)"[^>]*>([\s\S]*?)<\/svg>/g),
  ].map((m) => ({
    variant: m[1]!,
    circles: [...m[2]!.matchAll(/<circle ([^>]*)>/g)].map((c) =>
      Object.fromEntries([...c[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])),
    ),
  }));
}

const variant = (extra: Partial<VariantResult>): VariantResult => variantResult(extra);

const report = (variants: VariantResult[], name = "s"): RunReport => ({
  tool: { name: "tcprepro", version: "0.1.0" },
  kernel: "6.18.0",
  runtime: "docker",
  startedAt: "2026-11-21T00:00:00.000Z",
  durationMs: 1000,
  scenarios: [{ name, file: "scenarios/s.yaml", summary: "summary", variants }],
});

describe("the HTML report of a real run", () => {
  const html = htmlReport(passing);

  it("draws one plot per variant with one circle per attempt, by outcome", () => {
    const found = plots(html);
    const variants = passing.scenarios[0]!.variants;
    expect(found.map((p) => p.variant)).toEqual(
      variants.map((v) => `accept-queue-overflow/${v.variant}`),
    );
    for (const [i, v] of variants.entries()) {
      expect(found[i]!.circles).toHaveLength(v.attempts.length);
      expect(v.attempts.length).toBe(v.clients.attempts);
      for (const [outcome, n] of Object.entries(v.clients.outcomes))
        expect(
          found[i]!.circles.filter((c) => c["data-outcome"] === outcome),
          outcome,
        ).toHaveLength(n);
    }
  });

  it("puts attempts that never connected in a band above every connected one, labelled with the outcome", () => {
    const baseline = plots(html)[0]!;
    const cy = (outcome: string) =>
      baseline.circles.filter((c) => c["data-outcome"] === outcome).map((c) => Number(c.cy));
    expect(cy("timeout").length).toBe(91);
    expect(Math.max(...cy("timeout"))).toBeLessThan(Math.min(...cy("connected")));
    expect(html).toMatch(/<text class="band-label"[^>]*>timeout<\/text>/);
    // Legend with the counts.
    expect(html).toMatch(
      /<ul class="legend">.*connected <span class="n">9<\/span>.*timeout <span class="n">91<\/span>/,
    );
  });

  it("has the side-by-side table: verdicts, causes, outcomes, connect p50/p99 and the counters that moved", () => {
    const table = /<table class="variants"[\s\S]*?<\/table>/.exec(html)![0];
    expect(table.match(/<th scope="col">/g)).toHaveLength(2);
    expect(table).toMatch(
      /<th scope="row">verdict<\/th><td><span class="badge pass">PASS<\/span><\/td><td><span class="badge pass">PASS<\/span><\/td>/,
    );
    expect(table).toMatch(
      /<th scope="row">cause<\/th><td>accept-queue-overflow<\/td><td>none<\/td>/,
    );
    expect(table).toMatch(
      /<th scope="row">timeout<\/th><td class="num">91<\/td><td class="num">0<\/td>/,
    );
    expect(table).toContain("1.027 / 1.575");
    expect(table).toContain("server TcpExtListenOverflows +182");
    expect(table).not.toContain("IpExtInOctets");
    expect(table).toContain("server:8080 9 of 8");
  });

  it("shows the causes with their because, and the listen queue", () => {
    expect(html).toMatch(
      /<b>accept-queue-overflow<\/b> at <code>server<\/code>, because server: TcpExtListenOverflows \+182/,
    );
    expect(html).toMatch(
      /<table class="listen">[\s\S]*?<code>server:8080<\/code><\/td><td class="num">9<\/td><td class="num">8<\/td>/,
    );
  });

  it("is self-contained: nothing to fetch, no script, and a policy that forbids fetching", () => {
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    );
    for (const banned of [
      /<script/i,
      /<link/i,
      /\ssrc=/i,
      /url\(/i,
      /@import/i,
      /https?:\/\//i,
      /<iframe/i,
      /<img/i,
    ])
      expect(html, String(banned)).not.toMatch(banned);
  });
});

describe("the HTML report of a failed run", () => {
  const html = htmlReport(failing);

  it("lists the failed expectations with expected, actual and the file:line they were written on", () => {
    const mitigated =
      /<article class="variant" id="accept-queue-overflow--mitigated"[\s\S]*?<\/article>/.exec(
        html,
      )![0];
    const failed = /<table class="failed-expectations">[\s\S]*?<\/table>/.exec(mitigated)![0];
    expect(failed.match(/<tr class="failed">/g)).toHaveLength(4);
    expect(failed).toMatch(
      /<code>counters.server.TcpExtListenOverflows<\/code><\/td><td>== 0<\/td><td class="num">190<\/td><td><code>\/tmp\/[^<]*\/accept-queue-overflow.yaml:40<\/code>/,
    );
    expect(mitigated).toContain('data-verdict="fail"');
    expect(mitigated).toContain(
      "4 of 4 expectations failed: counters.server.TcpExtListenOverflows, clients.connected, clients.failed, cause",
    );
  });

  it("counts the verdicts in the header", () => {
    expect(html).toContain('<p class="totals">0 passed, 2 failed, 0 skipped</p>');
  });
});

describe("escaping", () => {
  const evil = "<script>alert('x')</script>&\"";
  const html = htmlReport(
    report(
      [
        variant({
          variant: evil,
          verdict: "fail",
          reason: evil,
          nodes: {
            [evil]: {
              counters: { TcpExtListenOverflows: 3 },
              listen: { final: [], maxRecvQ: { 80: 1 }, sendQ: { 80: 1 }, maxSynRecv: 0 },
            },
          },
          clients: { attempts: 1, outcomes: { [evil]: 1 }, connectMs: null, replyMs: null },
          attempts: [{ node: evil, startMs: 1, outcome: evil, phase: "connect" }],
          expectations: [{ path: evil, expected: evil, actual: evil, ok: false, source: evil }],
          causes: [{ cause: evil, node: evil, because: evil, numbers: { [evil]: 1 } }],
          unchecked: [evil],
        }),
      ],
      evil,
    ),
  );

  it("escapes every string of the report, names included", () => {
    expect(html).not.toContain("<script");
    expect(html).not.toContain("alert('x')");
    expect(html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
    // Ids carry no markup either.
    expect(html).not.toMatch(/id="[^"]*[<>&'][^"]*"/);
    expect(plots(html)[0]!.circles).toHaveLength(1);
  });

  it("htmlEscape covers the five characters", () => {
    expect(htmlEscape(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
    expect(htmlEscape(42)).toBe("42");
  });
});

describe("the attempt plot", () => {
  const attempt = (i: number, outcome: string, connectMs?: number): Attempt => ({
    node: "client.1",
    startMs: i,
    outcome,
    phase: connectMs === undefined ? "connect" : "done",
    ...(connectMs === undefined ? {} : { connectMs }),
  });

  it("draws an empty plot, with a note, when no attempt connected", () => {
    const svg = attemptPlot([attempt(0, "ECONNREFUSED"), attempt(5, "ECONNREFUSED")], {
      variant: "s/v",
    });
    expect(svg).toContain("no attempt connected");
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toMatch(/<text class="band-label"[^>]*>ECONNREFUSED<\/text>/);
  });

  it("draws nothing but the axes for a variant without attempts (a skipped one)", () => {
    const svg = attemptPlot([], { variant: "s/v" });
    expect(svg).toContain('data-attempts="0"');
    expect(svg).not.toContain("<circle");
  });

  it("places connect times on a log scale: each decade the same height", () => {
    const svg = attemptPlot(
      [attempt(0, "connected", 0.1), attempt(1, "connected", 1), attempt(2, "connected", 10)],
      { variant: "s/v" },
    );
    const cys = [...svg.matchAll(/<circle [^>]*cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(cys[0]! - cys[1]!).toBeCloseTo(cys[1]! - cys[2]!, 0);
    expect(cys[0]!).toBeGreaterThan(cys[1]!); // slower is higher up
  });

  it("thins a huge run but keeps every attempt of a rare outcome", () => {
    const many = Array.from({ length: 50_000 }, (_, i) =>
      attempt(i, i % 10_000 === 7 ? "ECONNRESET" : "connected", 1),
    );
    const drawn = attemptsToDraw(many, 20_000);
    expect(drawn.length).toBeLessThanOrEqual(20_000 + 5);
    expect(drawn.filter((a) => a.outcome === "ECONNRESET")).toHaveLength(5);
    const svg = attemptPlot(many, { variant: "s/v", maxDrawn: 20_000 });
    expect(svg).toContain('data-attempts="50000"');
    expect(svg).toContain(`data-drawn="${drawn.length}"`);
    expect(svg).toContain("50000 attempts;");
    expect(attemptsToDraw(many.slice(0, 100), 20_000)).toHaveLength(100);
  });

  it("gives known outcomes their colours and the rest distinct spares", () => {
    const c = outcomeColours(["connected", "timeout", "EWEIRD", "EODD"]);
    expect(c.get("connected")).toBe("#2e7d32");
    expect(c.get("EWEIRD")).not.toBe(c.get("EODD"));
  });

  it("picks round ticks", () => {
    expect(niceStep(10)).toBe(2);
    expect(niceStep(2.5)).toBe(0.5);
    expect(niceStep(3)).toBe(1);
    expect(linearTicks(118.02, 121.4)).toEqual({
      lo: 118,
      hi: 122,
      ticks: [118, 119, 120, 121, 122],
    });
    expect(linearTicks(5, 5).ticks.length).toBeGreaterThan(1);
    expect(decadeTicks(0.48, 11.5)).toEqual({ lo: 0.1, hi: 100, ticks: [0.1, 1, 10, 100] });
    expect(decadeTicks(1, 1).ticks).toEqual([1, 10]);
  });
});
