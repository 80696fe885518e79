/**
 * The HTML report in a real browser: Debian's headless Chromium loads the page from a file://
 * URL (so nothing could be fetched even if the page asked), and the DOM it built must hold one
 * attempt plot per variant with one circle per attempt, and one timeline per variant with a
 * line per counter, the accept queue and its limit, and the fault markers. A screenshot of the first screen is kept
 * in test-artifacts/ (TCPREPRO_UPDATE_DOCS=1 also refreshes docs/html-report.png).
 *
 * Chromium comes from Debian's packages (apt-get install -y chromium). Without it the test skips,
 * except in CI (CI set), where .ci/run installs it and its absence is a failure.
 */
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { htmlReport } from "../../src/report/html.js";
import type { RunReport } from "../../src/verdict/result.js";
import { ROOT } from "./helpers.js";
import { decodePng, type Image } from "./png.js";

const CHROMIUM = "/usr/bin/chromium";
const FIXTURES = ["accept-queue.json", "accept-queue-somaxconn4.json", "sigstop-recovery.json"];
const SCREENSHOT = join(ROOT, "test-artifacts/html-report.png");
const DOCS_SCREENSHOT = join(ROOT, "docs/html-report.png");

const work = mkdtempSync(join(tmpdir(), "tcprepro-html-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Headless Chromium with a fresh profile and nothing that talks to the network on its own. */
function chromium(args: string[], timeoutMs = 90_000): Promise<Run> {
  const profile = mkdtempSync(join(work, "profile-"));
  const argv = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    `--user-data-dir=${profile}`,
    ...args,
  ];
  // Its own process group, so a hung browser is stopped with all its children.
  const child = spawn(CHROMIUM, argv, { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      rmSync(profile, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** Circles per attempt plot, from the DOM the browser built (not from our string). */
function plotsInDom(dom: string): Map<string, number> {
  const plots = new Map<string, number>();
  for (const m of dom.matchAll(
    /<svg class="attempts" data-variant="([^"]*)"[^>]*>([\s\S]*?)<\/svg>/g,
  ))
    plots.set(m[1]!, m[2]!.match(/<circle /g)?.length ?? 0);
  return plots;
}

/** Per timeline plot: its counter lines, queue lines, limit lines and fault actions, from the DOM. */
function timelinesInDom(
  dom: string,
): Map<string, { series: number; queues: number; limits: number; faults: string[] }> {
  const plots = new Map<
    string,
    { series: number; queues: number; limits: number; faults: string[] }
  >();
  for (const m of dom.matchAll(
    /<svg class="timeline" data-variant="([^"]*)"[^>]*>([\s\S]*?)<\/svg>/g,
  ))
    plots.set(m[1]!, {
      series: m[2]!.match(/<path class="series" /g)?.length ?? 0,
      queues: m[2]!.match(/<path class="queue" /g)?.length ?? 0,
      limits: m[2]!.match(/<line class="limit" [^>]*stroke-dasharray/g)?.length ?? 0,
      faults: [...m[2]!.matchAll(/<line class="fault" data-action="([^"]*)"/g)].map((f) => f[1]!),
    });
  return plots;
}

/** The last row with anything but the page's background (#fafafa) or white on it. */
function lastPaintedRow(img: Image): number {
  for (let y = img.height - 1; y >= 0; y--)
    for (let x = 0; x < img.width; x++) {
      const [r, g, b] = img.pixel(x, y);
      if (r < 248 || g < 248 || b < 248) return y;
    }
  return -1;
}

/** Pixels of the timeout colour (#ef6c00, also blended with white by the circles' opacity). */
function orangePixels(img: Image): number {
  let n = 0;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const [r, g, b] = img.pixel(x, y);
      if (r > 200 && g > 80 && g < 190 && b < 130 && r - g > 60) n++;
    }
  return n;
}

function needChromium(skip: (note: string) => never): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.CI)
    throw new Error(
      `${CHROMIUM} is missing: CI must install Debian's chromium (apt-get install -y chromium) before the tests`,
    );
  const note = `skipped: ${CHROMIUM} is not installed (apt-get install -y chromium) — the HTML report is not checked in a browser`;
  process.stderr.write(note + "\n");
  skip(note);
}

describe("the HTML report in headless Chromium", () => {
  for (const name of FIXTURES) {
    it(`renders one plot per variant with one circle per attempt: ${name}`, async (ctx) => {
      needChromium(ctx.skip);
      const report: RunReport = JSON.parse(
        readFileSync(join(ROOT, "test/fixtures/reports", name), "utf8"),
      );
      const page = join(work, name.replace(/\.json$/, ".html"));
      writeFileSync(page, htmlReport(report));

      const run = await chromium(["--dump-dom", pathToFileURL(page).href]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/<h1>tcprepro report<\/h1>/);

      const expected = new Map(
        report.scenarios.flatMap((s) =>
          s.variants.map((v) => [`${s.name}/${v.variant}`, v.attempts.length] as const),
        ),
      );
      expect(plotsInDom(run.stdout)).toEqual(expected);
      expect([...expected.values()].every((n) => n > 0)).toBe(true);
      // The tables made it into the DOM too: one side-by-side table per scenario, one card per variant.
      expect(run.stdout.match(/<table class="variants"/g)).toHaveLength(report.scenarios.length);
      expect(run.stdout.match(/<article class="variant"/g)).toHaveLength(expected.size);

      // The timelines: per variant, a line per node and counter that moved, the app's accept
      // queue with its limit dashed, and a marker per fault (SIGSTOP and SIGCONT in sigstop-recovery).
      const timelines = new Map(
        report.scenarios.flatMap((s) =>
          s.variants
            .filter((v) => v.timeline)
            .map((v) => {
              const t = v.timeline!;
              const series = Object.values(t.counters).reduce(
                (n, c) => n + Object.keys(c).length,
                0,
              );
              const queues = Object.keys(t.listen).length;
              const limits = Object.keys(t.listen).filter((n) => v.nodes[n]?.listen).length;
              const faults = t.faults.map((f) => f.action);
              return [`${s.name}/${v.variant}`, { series, queues, limits, faults }] as const;
            }),
        ),
      );
      expect(timelines.size).toBe(expected.size);
      expect(timelinesInDom(run.stdout)).toEqual(timelines);
      if (name === "sigstop-recovery.json")
        for (const t of timelines.values()) expect(t.faults).toEqual(["SIGSTOP", "SIGCONT"]);
    });
  }

  it("takes a screenshot of the first screen (test-artifacts/html-report.png)", async (ctx) => {
    needChromium(ctx.skip);
    const report: RunReport = JSON.parse(
      readFileSync(join(ROOT, "test/fixtures/reports", FIXTURES[0]!), "utf8"),
    );
    const page = join(work, "screenshot.html");
    writeFileSync(page, htmlReport(report));
    mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
    rmSync(SCREENSHOT, { force: true });

    // Headless Chromium now and then captures before the viewport has its final height (the
    // bottom of the shot stays blank): take it again then, at most three times.
    let img: Image | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const run = await chromium([
        `--screenshot=${SCREENSHOT}`,
        "--window-size=1280,900",
        pathToFileURL(page).href,
      ]);
      expect(run.code, run.stderr).toBe(0);
      img = decodePng(readFileSync(SCREENSHOT));
      if (lastPaintedRow(img) >= img.height - 10) break;
    }
    expect({ width: img!.width, height: img!.height }).toEqual({ width: 1280, height: 900 });
    // The variant cards run past the first screen, so a complete paint reaches the last rows.
    expect(lastPaintedRow(img!)).toBeGreaterThanOrEqual(img!.height - 10);
    // The baseline's 91 timeouts were painted (their band, label and legend are orange).
    expect(orangePixels(img!)).toBeGreaterThan(300);
    if (process.env.TCPREPRO_UPDATE_DOCS === "1") {
      mkdirSync(join(ROOT, "docs"), { recursive: true });
      copyFileSync(SCREENSHOT, DOCS_SCREENSHOT);
    }
  });
});
