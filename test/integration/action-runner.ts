/**
 * Runs a composite action's steps the way GitHub's runner does, on this machine: `${{ … }}`
 * expressions substituted (inputs, steps' outputs, runner), each `run:` written to a file and
 * run with `bash --noprofile --norc -eo pipefail` (the runner's `shell: bash`), with the files
 * and variables the runner sets (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_ACTION_PATH,
 * GITHUB_WORKSPACE, RUNNER_TEMP). `uses:` steps (setup-node, cache) are skipped and listed:
 * they are other actions, not this one's code.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
}

interface Action {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

export interface ActionRun {
  outputs: Record<string, string>;
  skipped: string[];
  /** Each run step: name, exit status, output. */
  steps: Array<{ name: string; status: number | null; stdout: string; stderr: string }>;
}

/** `key=value` lines and `key<<DELIM … DELIM` blocks, as the runner reads these files. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i]!);
      out[heredoc[1]!] = body.join("\n");
    } else if (line.includes("=")) {
      out[line.slice(0, line.indexOf("="))] = line.slice(line.indexOf("=") + 1);
    }
  }
  return out;
}

export function runAction(
  actionDir: string,
  given: Record<string, string>,
  opts: { workspace: string; env?: Record<string, string> },
): ActionRun {
  const action = parse(readFileSync(join(actionDir, "action.yml"), "utf8")) as Action;
  if (action.runs.using !== "composite") throw new Error(`not a composite action`);
  for (const k of Object.keys(given))
    if (!(k in action.inputs)) throw new Error(`action.yml has no input ${k}`);
  const inputs = Object.fromEntries(
    Object.entries(action.inputs).map(([k, v]) => [k, given[k] ?? v.default ?? ""]),
  );
  const stepOutputs: Record<string, Record<string, string>> = {};
  const expr = (s: string) =>
    s.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, e: string) => {
      let m = /^inputs\.([\w-]+)$/.exec(e);
      if (m) return inputs[m[1]!] ?? "";
      m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e);
      if (m) return stepOutputs[m[1]!]?.[m[2]!] ?? "";
      if (e === "runner.os") return "Linux";
      if (e === "runner.arch") return "X64";
      throw new Error(`expression the emulation does not know: ${e}`);
    });
  // Only what action.yml uses: `inputs.X == ''` / `!= ''`, joined by &&.
  const condition = (c: string) =>
    c.split("&&").every((part) => {
      const m = /^\s*inputs\.([\w-]+)\s*(==|!=)\s*''\s*$/.exec(part);
      if (!m) throw new Error(`condition the emulation does not know: ${c}`);
      return (inputs[m[1]!] === "") === (m[2] === "==");
    });

  const temp = mkdtempSync(join(tmpdir(), "tcprepro-action-"));
  const result: ActionRun = { outputs: {}, skipped: [], steps: [] };
  let env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...opts.env,
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_ACTION_PATH: actionDir,
    GITHUB_WORKSPACE: opts.workspace,
    RUNNER_TEMP: temp,
    RUNNER_OS: "Linux",
  };
  try {
    action.runs.steps.forEach((step, n) => {
      const name = step.name ?? step.uses ?? `step ${n + 1}`;
      if (step.if && !condition(step.if)) return;
      if (step.uses) {
        result.skipped.push(step.uses);
        return;
      }
      if (step.shell !== "bash") throw new Error(`${name}: shell ${step.shell}, not bash`);
      const files = { GITHUB_OUTPUT: "", GITHUB_ENV: "", GITHUB_PATH: "" };
      for (const k of Object.keys(files) as Array<keyof typeof files>) {
        files[k] = join(temp, `${k}-${n}`);
        writeFileSync(files[k], "");
      }
      const script = join(temp, `step-${n}.sh`);
      writeFileSync(script, expr(step.run ?? ""));
      const stepEnv = Object.fromEntries(
        Object.entries(step.env ?? {}).map(([k, v]) => [k, expr(String(v))]),
      );
      const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
        cwd: opts.workspace,
        env: { ...env, ...stepEnv, ...files },
        encoding: "utf8",
        timeout: 600_000,
      });
      result.steps.push({ name, status: r.status, stdout: r.stdout, stderr: r.stderr });
      if (step.id)
        stepOutputs[step.id] = parseCommandFile(readFileSync(files.GITHUB_OUTPUT, "utf8"));
      env = { ...env, ...parseCommandFile(readFileSync(files.GITHUB_ENV, "utf8")) };
      const paths = readFileSync(files.GITHUB_PATH, "utf8").split("\n").filter(Boolean);
      if (paths.length > 0) env.PATH = [...paths.reverse(), env.PATH].join(":");
      // A failed step stops the action, as on the runner; the outputs so far still count.
      if (r.status !== 0)
        throw Object.assign(new Error(`${name} exited ${r.status}`), { stop: true });
    });
  } catch (err) {
    if (!(err as { stop?: boolean }).stop) throw err;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  result.outputs = Object.fromEntries(
    Object.entries(action.outputs).map(([k, v]) => [k, expr(v.value)]),
  );
  return result;
}
