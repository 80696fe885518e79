/** The `tcprepro` command's start: the Node it refuses, and what it runs. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Debian's own Node (20 on bookworm), which setup.sh leaves in place under /usr/local's. */
const OLD_NODE = process.env.TCPREPRO_OLD_NODE ?? "/usr/bin/node";

function versionOf(node: string): string | undefined {
  const r = spawnSync(node, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

describe("bin/tcprepro.js", () => {
  it("stops at once on a Node older than 22, saying what to do, with exit 2", (ctx) => {
    const version = versionOf(OLD_NODE);
    if (version === undefined) ctx.skip(`no old Node at ${OLD_NODE} (TCPREPRO_OLD_NODE names one)`);
    if (Number(version!.slice(1).split(".")[0]) >= 22)
      ctx.skip(`${OLD_NODE} is ${version}, not older than 22`);
    const r = spawnSync(OLD_NODE, ["bin/tcprepro.js", "run", "scenarios/"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 10_000,
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`tcprepro needs Node.js 22.22 or newer; this is Node ${version}`);
    expect(r.stderr).toContain("scripts/setup.sh");
  });

  it("agrees with package.json's engines and version", () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as {
      version: string;
      engines: { node: string };
    };
    expect(pkg.engines.node).toBe(">=22.22");
    const r = spawnSync(process.execPath, ["bin/tcprepro.js", "--version"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
