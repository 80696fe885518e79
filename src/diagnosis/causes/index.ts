/**
 * The table of causes, one line each, in the order their rules run (a later rule sees only what
 * earlier ones left unclaimed). The compiler checks it against the vocabulary (causes.ts): a
 * cause without a module, or a module without a name there, does not build. A new cause is a
 * module in this folder, a line here and its name in CAUSE_NAMES (whose order is the report's).
 */
import { acceptQueueOverflow } from "./accept-queue-overflow.js";
import { abortOnOverflow } from "./abort-on-overflow.js";
import { synQueueOverflow } from "./syn-queue-overflow.js";
import { synFloodCookies } from "./syn-flood-cookies.js";
import { twRecyclePaws } from "./tw-recycle-paws.js";
import { snatConntrackCollision } from "./snat-conntrack-collision.js";
import { timewaitPaws } from "./timewait-paws.js";
import { localFirewall } from "./local-firewall.js";
import { udpLocalFirewall } from "./udp-local-firewall.js";
import { neighbourTableFull } from "./neighbour-table-full.js";
import { synBlackhole } from "./syn-blackhole.js";
import { activeReset } from "./active-reset.js";
import { noListener } from "./no-listener.js";
import { portExhaustion } from "./port-exhaustion.js";
import { retransmitTimeout } from "./retransmit-timeout.js";
import { twBucketOverflow } from "./tw-bucket-overflow.js";
import { closeWaitLeak } from "./close-wait-leak.js";
import { lossyPath } from "./lossy-path.js";
import { delayedAckNagle } from "./delayed-ack-nagle.js";
import { keepaliveDeadPeer } from "./keepalive-dead-peer.js";
import { conntrackTableFull } from "./conntrack-table-full.js";
import { CAUSE_NAMES } from "../causes.js";
import type { CauseModule, RunCause } from "./define.js";

export const CAUSES: { readonly [N in RunCause]: CauseModule<N> } = {
  "accept-queue-overflow": acceptQueueOverflow,
  "abort-on-overflow": abortOnOverflow,
  "syn-queue-overflow": synQueueOverflow,
  "syn-flood-cookies": synFloodCookies,
  "tw-recycle-paws": twRecyclePaws,
  // Before the collision rule: drops with no insert failing are a full table, not a clash.
  "conntrack-table-full": conntrackTableFull,
  "snat-conntrack-collision": snatConntrackCollision,
  "timewait-paws": timewaitPaws,
  "local-firewall": localFirewall,
  "udp-local-firewall": udpLocalFirewall,
  "neighbour-table-full": neighbourTableFull,
  // After the queue, gateway and firewall rules: it takes only the stalls they left.
  "syn-blackhole": synBlackhole,
  "active-reset": activeReset,
  // After abort-on-overflow and active-reset: only the resets they left.
  "no-listener": noListener,
  "port-exhaustion": portExhaustion,
  // Aborts after keepalive probes first; retransmit-timeout takes the aborts left over.
  "retransmit-timeout": retransmitTimeout,
  "tw-bucket-overflow": twBucketOverflow,
  "close-wait-leak": closeWaitLeak,
  "lossy-path": lossyPath,
  "delayed-ack-nagle": delayedAckNagle,
  // Last among the rules: only the missing replies no rule above explains.
  "keepalive-dead-peer": keepaliveDeadPeer,
};

/** The modules in the table's order: the order their rules run. */
export const CAUSE_MODULES: readonly CauseModule[] = Object.values(CAUSES);

/** The modules in the vocabulary's order (causes.ts): the order of reports and listings. */
export const CAUSES_IN_REPORT_ORDER: readonly CauseModule[] = CAUSE_NAMES.flatMap((n) =>
  n === "none" || n === "unexplained" ? [] : [CAUSES[n]],
);
