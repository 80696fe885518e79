import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadScenario, loadSources } from "../../src/index.js";
import { expandPaths } from "../../src/run/run.js";
import {
  CATALOG_DIR,
  catalogNames,
  closeNames,
  resolveScenarioPath,
  resolveScenarioPaths,
} from "../../src/scenario/catalog.js";
import { UsageError } from "../../src/util/errors.js";

const message = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("did not throw");
};

describe("scenario paths and catalog names", () => {
  const cwd = process.cwd();
  let empty: string;
  // A project that installed the package: no ./scenarios of its own.
  beforeEach(() => {
    empty = mkdtempSync(join(tmpdir(), "tcprepro-catalog-"));
    process.chdir(empty);
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(empty, { recursive: true, force: true });
  });

  it("none given and no ./scenarios: the packaged catalog", () => {
    expect(resolveScenarioPaths([])).toEqual([CATALOG_DIR]);
    expect(expandPaths([])).toHaveLength(catalogNames().length);
  });

  it("none given in a checkout: ./scenarios", () => {
    process.chdir(cwd);
    expect(resolveScenarioPaths([])).toEqual(["scenarios"]);
  });

  it("an existing path wins over a catalog name", () => {
    process.chdir(cwd);
    // `scenarios` exists here, so it is that directory (not a scenario named so).
    expect(resolveScenarioPath("scenarios")).toBe("scenarios");
    expect(resolveScenarioPath("accept-queue-overflow")).toBe(
      "scenarios/accept-queue-overflow.yaml",
    );
  });

  it("a name resolves to the catalog's file, with or without .yaml", () => {
    expect(resolveScenarioPath("syn-flood")).toBe(join(CATALOG_DIR, "syn-flood.yaml"));
    expect(resolveScenarioPath("syn-flood.yaml")).toBe(join(CATALOG_DIR, "syn-flood.yaml"));
    expect(
      expandPaths(["accept-queue-overflow", "syn-flood"]).map((f) => f.split("/").pop()),
    ).toEqual(["accept-queue-overflow.yaml", "syn-flood.yaml"]);
  });

  it("an unknown name is exit 2 with the close names and the known ones", () => {
    const m = message(() => resolveScenarioPath("syn-flod"));
    expect(m).toContain("syn-flod: neither a file nor a scenario of the catalog");
    expect(m).toMatch(/did you mean [^\n]*syn-flood/);
    expect(m).toContain("accept-queue-overflow, accept-queue-slow-accept");
    expect(message(() => resolveScenarioPath("nothing-like-it-at-all"))).not.toContain(
      "did you mean",
    );
  });

  it("a missing path is not looked up by name, but the catalog's copy is pointed at", () => {
    expect(message(() => resolveScenarioPath("mine/x.yaml"))).toBe(
      "mine/x.yaml: no such file or directory",
    );
    expect(message(() => resolveScenarioPath("scenarios/syn-flood.yaml"))).toContain(
      "the catalog has syn-flood: name it",
    );
  });

  it("close names: a shared word or a few edits", () => {
    const names = ["accept-queue-overflow", "syn-flood", "syn-blackhole", "port-exhaustion"];
    expect(closeNames("queue", names)).toEqual(["accept-queue-overflow"]);
    expect(closeNames("port-exhaustoin", names)).toEqual(["port-exhaustion"]);
  });

  it("the API takes names too, through the same resolution", () => {
    expect(loadScenario("accept-queue-overflow").name).toBe("accept-queue-overflow");
    expect(loadSources(["syn-flood", "accept-queue-overflow"]).map((s) => s.name)).toEqual([
      "syn-flood",
      "accept-queue-overflow",
    ]);
    expect(() => loadScenario("no-such-scenario")).toThrow(UsageError);
  });
});
