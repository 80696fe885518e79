/**
 * `tcprepro run FILE --set PATH=VALUE`: try a change without editing the file. The changes of
 * every --set together make one more variant, named after them
 * (`set:net.core.somaxconn=4096`), patched exactly as a variant's `set:` is (dotted paths, a
 * sysctl name one key) and expected to be healthy (`cause: none`), so it passes when the change
 * is a mitigation that works.
 */
import { readFileSync } from "node:fs";
import { parse, parseDocument } from "yaml";
import { ScenarioError, UsageError } from "../util/errors.js";
import { loadScenario, splitSetKey, type LoadedScenario } from "./load.js";
import type { KernelFacts } from "./semantics.js";

export interface SetFlag {
  /** As given: `nodes.server.sysctls.net.core.somaxconn=4096`. */
  raw: string;
  path: string;
  /** The value as YAML reads it: `4096` a number, `true` a boolean, `40000 40009` a string. */
  value: unknown;
}

/** commander's collector for a repeatable `--set PATH=VALUE`. */
export function collectSet(raw: string, previous: SetFlag[] = []): SetFlag[] {
  const eq = raw.indexOf("=");
  const path = raw.slice(0, eq).trim();
  if (eq <= 0 || path === "" || !/^[A-Za-z0-9_.-]+$/.test(path))
    throw new UsageError(
      `--set "${raw}": expected PATH=VALUE, e.g. nodes.server.sysctls.net.core.somaxconn=4096`,
    );
  let value: unknown;
  try {
    value = parse(raw.slice(eq + 1));
  } catch (err) {
    throw new UsageError(`--set "${raw}": the value is not YAML: ${(err as Error).message}`);
  }
  return [...previous, { raw, path, value }];
}

/** `set:net.core.somaxconn=4096,server.app.backlog=1024`: sysctls by their name, the rest without `nodes.`. */
export function setVariantName(flags: readonly SetFlag[]): string {
  const short = (f: SetFlag): string => {
    const segs = splitSetKey(f.path);
    const name = segs.at(-2) === "sysctls" ? segs.at(-1)! : f.path.replace(/^nodes\./, "");
    return `${name}=${typeof f.value === "string" ? f.value : JSON.stringify(f.value)}`;
  };
  return `set:${flags.map(short).join(",")}`;
}

/** The loaded scenario with one more variant made of `flags`; bad flags: UsageError, nothing run. */
export function withSetVariant(
  loaded: LoadedScenario,
  flags: readonly SetFlag[],
  facts: KernelFacts,
): LoadedScenario {
  if (flags.length === 0) return loaded;
  const text = readFileSync(loaded.file, "utf8");
  const doc = parseDocument(text);
  const raw = doc.toJS() as { nodes?: Record<string, unknown>; variants?: Record<string, unknown> };
  for (const f of flags) {
    const [top, node] = f.path.split(".");
    if (top === "nodes" && node !== undefined && raw.nodes?.[node] === undefined)
      throw new UsageError(
        `--set ${f.raw}: ${loaded.file} has no node "${node}" (nodes: ${Object.keys(raw.nodes ?? {}).join(", ")})`,
      );
  }
  let slot = "set-flag";
  for (let i = 2; raw.variants?.[slot] !== undefined; i++) slot = `set-flag-${i}`;
  doc.setIn(
    ["variants", slot],
    doc.createNode({
      set: Object.fromEntries(flags.map((f) => [f.path, f.value])),
      expect: { cause: "none" },
    }),
  );
  let patched: LoadedScenario;
  try {
    patched = loadScenario(loaded.file, facts, doc.toString());
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    const given = flags.map((f) => f.raw).join(" --set ");
    const why = err.problems.map((p) => {
      const at = /\((.*)\)$/.exec(p.key)?.[1] ?? p.key.replace(`variants.${slot}.set.`, "");
      return `${at || "(top level)"}: ${p.message}`;
    });
    throw new UsageError(`--set ${given}: ${loaded.file}: ${[...new Set(why)].join("; ")}`);
  }
  const name = setVariantName(flags);
  return {
    ...patched,
    // Its expectation was written by --set, not at a line of the file.
    variants: patched.variants.map((v) =>
      v.name === slot ? { ...v, name, expectSource: mapValues(v.expectSource, () => "--set") } : v,
    ),
  };
}

function mapValues<T>(o: Record<string, T>, f: (v: T) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}
