/** The diagnosis: evidence (or two production counter dumps) → named causes. */
export { CAUSE_NAMES, isCauseName } from "./causes.js";
export type { Cause, CauseName, Confidence, Diagnosis } from "./causes.js";
export { diagnose } from "./rules.js";
export { diagnoseDumps } from "./dump.js";
export { formatDiagnosis } from "./format.js";
export { DumpError } from "./errors.js";
export { diagnoseHost, type HostDiagnosis } from "./host.js";
export { formatHostDiagnosis } from "./format.js";
export { MITIGATIONS, whatToTry, type Mitigation, type WhatToTry } from "./mitigations.js";
export { diagnosePackets, withPackets, type PacketDiagnosis } from "./packets.js";
export { CAUSES } from "./causes/index.js";
export type { CauseModule } from "./causes/define.js";
