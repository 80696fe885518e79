/**
 * `tcprepro scenario new`: a scenario file for a person to read, run and edit, made from the
 * catalog's scenario for a cause — and, given a snapshot, set to that host's values (its
 * sysctls, the listener's observed queue limit) with comments saying where each came from.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isMap, isScalar, parseDocument } from "yaml";
import { diagnoseHost } from "../diagnosis/host.js";
import { MITIGATIONS } from "../diagnosis/mitigations.js";
import type { CauseName } from "../diagnosis/causes.js";
import type { Snapshot, SnapshotListener } from "../snapshot/snapshot.js";
import { UsageError } from "../util/errors.js";
import { PROJECT_ROOT } from "../util/project.js";
import { tuneAcceptQueue } from "./new-accept-queue.js";
import { HOST_TUNERS, hostListener, retarget } from "./new-host.js";
import { Editor, wrap } from "./yaml-editor.js";

// From the package's root: the CLI bundle (dist/tcprepro.js) sits at another depth than this file.
export const CATALOG_DIR = join(PROJECT_ROOT, "scenarios") + "/";
const SCHEMA_FILE = join(PROJECT_ROOT, "schema", "scenario.schema.json");

/** Causes `scenario new` can write a scenario for: those with a catalog scenario. */
export function knownCauses(): string[] {
  return Object.entries(MITIGATIONS)
    .filter(([, m]) => m.scenario !== undefined)
    .map(([c]) => c);
}

export interface NewScenarioInput {
  cause?: string;
  snapshot?: { value: Snapshot; text: string; file: string };
  catalogDir?: string;
}

export interface NewScenario {
  text: string;
  cause: string;
  /** What was chosen and why, for stderr. */
  notes: string[];
}

function catalogText(dir: string, scenario: string): string {
  return readFileSync(`${dir}/${scenario}.yaml`, "utf8");
}

function pickCause(input: NewScenarioInput, notes: string[]): CauseName {
  const known = knownCauses();
  if (input.cause !== undefined) {
    if (!known.includes(input.cause))
      throw new UsageError(
        `--cause "${input.cause}" has no catalog scenario; known causes: ${known.join(", ")}`,
      );
    return input.cause as CauseName;
  }
  if (!input.snapshot) throw new UsageError("give --from SNAPSHOT, --cause NAME, or both");
  const d = diagnoseHost(input.snapshot.text);
  const found = d.causes.map((c) => c.cause).filter((c) => known.includes(c));
  if (found.length === 0)
    throw new UsageError(
      `${input.snapshot.file}: the snapshot names no cause with a catalog scenario ` +
        `(${d.causes.map((c) => c.cause).join(", ")}); give --cause NAME (known: ${known.join(", ")})`,
    );
  notes.push(
    `cause ${found[0]} (from the snapshot's diagnosis` +
      (found.length > 1 ? `; also found: ${[...new Set(found.slice(1))].join(", ")}` : "") +
      "; --cause picks another)",
  );
  return found[0]!;
}

/** The listener the scenario is about: the fullest one whose limit is known. */
export function fullestListener(s: Snapshot): SnapshotListener | undefined {
  const known = s.listen.filter((l) => l.sendQ !== null && l.sendQ > 0);
  return known.sort((a, b) => b.recvQ / b.sendQ! - a.recvQ / a.sendQ! || b.recvQ - a.recvQ)[0];
}

export function newScenario(input: NewScenarioInput): NewScenario {
  const notes: string[] = [];
  const cause = pickCause(input, notes);
  const mitigation = MITIGATIONS[cause as keyof typeof MITIGATIONS];
  const scenario = mitigation.scenario!;
  const doc = parseDocument(catalogText(input.catalogDir ?? CATALOG_DIR, scenario));
  const ed = new Editor(doc);
  const snap = input.snapshot;
  const header = [
    ` Written by \`tcprepro scenario new${snap ? ` --from ${snap.file}` : ""} --cause ${cause}\``,
    ` from the catalog's scenarios/${scenario}.yaml. What to try for ${cause}:`,
    ` ${mitigation.change}.`,
  ];
  if (snap) {
    const s = snap.value;
    header.push(
      ` Host values come from the snapshot of ${s.hostname} (kernel ${s.kernel}, ${s.takenAt});`,
      " each says so where it is set. Everything else is the catalog's.",
    );
    ed.set(["name"], `repro-${scenario}`.slice(0, 31), `was ${scenario} in the catalog`);
    copySysctls(ed, s, mitigation.hostSysctls);
    const tuning = { ed, s, notes };
    if (cause === "accept-queue-overflow") {
      const l = fullestListener(s);
      if (l) {
        retarget(tuning, l);
        tuneAcceptQueue(ed, s, l, notes);
      } else
        notes.push(
          "no listener with a known Send-Q in the snapshot: backlog left as the catalog's",
        );
    } else if (HOST_TUNERS[cause]) {
      HOST_TUNERS[cause](tuning);
    } else {
      const l = cause === "abort-on-overflow" ? hostListener(s) : undefined;
      if (l) retarget(tuning, l);
      notes.push(
        `${cause}: only the sysctls above come from the host; the traffic and the rest are the catalog's`,
      );
    }
  }
  // The catalog's own header, less its schema line (relative to scenarios/): ours is absolute.
  const dropSchema = (c: string | null | undefined): string =>
    (c ?? "")
      .split("\n")
      .filter((l) => !l.includes("yaml-language-server"))
      .join("\n");
  const old = dropSchema(doc.commentBefore);
  const firstKey = isMap(doc.contents) ? doc.contents.items[0]?.key : undefined;
  if (isScalar(firstKey)) firstKey.commentBefore = dropSchema(firstKey.commentBefore) || null;
  doc.commentBefore = [
    ` yaml-language-server: $schema=${SCHEMA_FILE}`,
    ...header.flatMap((h) => wrap(h, 96)),
    ...(old.trim() ? ["", old] : []),
  ].join("\n");
  return {
    text: doc.toString({ lineWidth: 120, flowCollectionPadding: false }),
    cause,
    notes,
  };
}

function copySysctls(ed: Editor, s: Snapshot, byNode: Record<string, readonly string[]>): void {
  for (const [node, names] of Object.entries(byNode)) {
    if (ed.get(["nodes", node]) === undefined) continue;
    for (const name of names) {
      const value = s.sysctls[name];
      if (value === undefined) continue;
      const path = ["nodes", node, "sysctls", name];
      // The host's value, even where the catalog sets its own: the scenario is about this host's
      // failure. A tuner replaces it, saying why, where the failure cannot show at it.
      const catalog = ed.get(path);
      ed.set(
        path,
        value,
        `from the snapshot (${s.hostname})` +
          (catalog !== undefined && String(catalog) !== String(value)
            ? `; the catalog has ${String(catalog)}`
            : ""),
      );
    }
  }
}
