#!/usr/bin/env node
// The `tcprepro` command. It runs the built CLI, dist/tcprepro.js (`npm run build`). In a checkout
// where that is missing or older than src/, it runs the TypeScript sources through tsx instead,
// so an edit needs no build step to take effect. Plain JavaScript that parses on any Node, so an
// old one gets the message below rather than a syntax error.
import { existsSync, readdirSync, statSync } from "node:fs";
import module from "node:module";

const MINIMUM = [22, 22];
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  process.stderr.write(
    `tcprepro needs Node.js ${MINIMUM.join(".")} or newer; this is Node ${process.version} (${process.execPath}).\n` +
      "In a checkout, `bash scripts/setup.sh` (as root) installs Node 24 under /usr/local; " +
      "otherwise install Node 24 LTS, put it first on PATH and run tcprepro again.\n",
  );
  process.exit(2);
}

// Node keeps the compiled code of dist/ and the dependencies on disk: a start after the first
// skips parsing and compiling them (about a third of `tcprepro --version`).
module.enableCompileCache?.();

const dist = new URL("../dist/tcprepro.js", import.meta.url);
const src = new URL("../src/", import.meta.url);

/** The newest modification time under `dir` (files and directories: a deletion counts too). */
function newest(dir) {
  let latest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    latest = Math.max(latest, statSync(`${entry.parentPath}/${entry.name}`).mtimeMs);
  }
  return latest;
}

const built = existsSync(dist);
if (built && (!existsSync(src) || statSync(dist).mtimeMs >= newest(src))) {
  await import(dist.href);
} else {
  if (process.stderr.isTTY) {
    process.stderr.write(
      `· dist/tcprepro.js is ${built ? "older than src/" : "missing"}: running the sources through tsx ` +
        "(`npm run build` for a fast start)\n",
    );
  }
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("cli/main.ts", src).href);
}
