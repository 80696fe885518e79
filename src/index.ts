/**
 * tcprepro's public API: what the CLI does, as typed functions for tests and scripts.
 *
 *   import { run, startLab, loadScenario } from "tcprepro";
 *   const report = await run("scenarios/accept-queue-overflow.yaml");
 *   report.scenarios[0].variants[0].verdict; // "pass" | "fail" | "skip" | "error"
 *
 * Matchers for vitest: `import "tcprepro/vitest"`.
 */
export { run, type RunOptions } from "./api/run.js";
export { startLab, type Lab, type LabOptions } from "./api/lab.js";
export {
  loadScenario,
  loadSources,
  type LoadOptions,
  type ScenarioInput,
  type ScenarioSource,
} from "./engine/load.js";
export type { LoadedScenario, Variant } from "./scenario/load.js";
export type { Scenario, ScenarioNode, Traffic, Fault, Expect } from "./scenario/schema.js";

export type {
  RunReport,
  ScenarioResult,
  VariantResult,
  VerdictKind,
  ExpectationResult,
  CauseResult,
  NodeReport,
} from "./verdict/result.js";
export { exitCodeOf } from "./run/run.js";
export type { Attempt, ClientSummary, Evidence, Outcome } from "./evidence/types.js";
export type { RunEvent } from "./report/events.js";

export { compareReports, type ReportComparison } from "./report/compare.js";
export {
  diagnose,
  diagnoseDumps,
  diagnoseHost,
  diagnosePackets,
  withPackets,
  formatDiagnosis,
  formatHostDiagnosis,
  whatToTry,
  CAUSES,
  CAUSE_NAMES,
  MITIGATIONS,
} from "./diagnosis/index.js";
export type {
  Cause,
  CauseName,
  CauseModule,
  Diagnosis,
  HostDiagnosis,
  PacketDiagnosis,
  Mitigation,
  WhatToTry,
} from "./diagnosis/index.js";

// What `tcprepro snapshot`, `scenario new --from`, `validate --explain`, `merge` and the kernel
// diff do, for scripts: the same functions the commands call.
export { takeSnapshot, type SnapshotOptions } from "./snapshot/take.js";
export { readSnapshot, type Snapshot } from "./snapshot/snapshot.js";
export { newScenario, knownCauses, type NewScenario } from "./scenario/new.js";
export { explainScenario, isolationText } from "./scenario/explain.js";
export { parseSweep, sweepThreshold, type Sweep } from "./scenario/sweep.js";
export { joinReports, kernelReport } from "./report/merge.js";
export { diffKernels, type KernelDiff } from "./report/kernel-diff.js";

export type {
  Runtime,
  StartedTopology,
  StartedNode,
  NodeProcess,
  NodePlan,
  TopologyPlan,
  ExecResult,
  NodeOutput,
} from "./runtime/runtime.js";
export {
  ScenarioError,
  UsageError,
  RuntimeUnavailableError,
  ExecError,
  StepTimeoutError,
} from "./util/errors.js";
export type { ScenarioProblem } from "./util/errors.js";
