/**
 * How long `tcprepro --version` takes: the start of every command, the built JavaScript against
 * the TypeScript sources through tsx. The package is built first, so the bin takes the bundle.
 */
import { spawnSync } from "node:child_process";

export interface StartTimes {
  runs: number;
  node: string;
  builtMs: number;
  tsxMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median wall time of `argv` over `runs` runs, after one untimed run (fills Node's caches). */
function medianMs(argv: string[], runs: number): number {
  const once = () => {
    const t0 = performance.now();
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${argv.join(" ")}: exit ${r.status}: ${r.stderr}`);
    return performance.now() - t0;
  };
  once();
  return Math.round(median(Array.from({ length: runs }, once)));
}

export function startTimes(runs = 20): StartTimes {
  const build = spawnSync("npm", ["run", "build", "--silent"], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`npm run build: ${build.stdout}${build.stderr}`);
  const node = process.execPath;
  return {
    runs,
    node: process.version,
    builtMs: medianMs([node, "bin/tcprepro.js", "--version"], runs),
    tsxMs: medianMs([node, "--import", "tsx", "src/cli/main.ts", "--version"], runs),
  };
}

export function renderStart(s: StartTimes | undefined): string[] {
  if (!s) return [];
  return [
    `## 0. Start: \`tcprepro --version\` (Node ${s.node}, median of ${s.runs})`,
    "",
    `Built (\`bin/tcprepro.js\` on the bundle, dist/tcprepro.js): **${s.builtMs} ms** (target ≤ 300 ms). The TypeScript sources through tsx, as a checkout whose dist/ is older than src/ runs: ${s.tsxMs} ms.`,
    "",
    "`npm run bench -- --start` measures only this and rewrites this section, keeping the others.",
    "",
  ];
}
