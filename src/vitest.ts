/**
 * Matchers for vitest. Import once, for its side effect (in a test file or a setup file):
 *
 *   import "tcprepro/vitest";
 *   expect(report).toPass();
 *   expect(report.scenarios[0].variants[0]).toHaveCause("accept-queue-overflow");
 *   expect(variant).toHaveCounter("server", "TcpExtListenOverflows", "> 0");
 *
 * Each takes a variant result, a scenario result, or a whole report (then every variant), or a
 * report with a pick of one variant: `{ scenario, variant, kernel }` (see VariantPick):
 *
 *   const report = await run(["scenarios/syn-blackhole.yaml"], { kernels: ["6.1", "host"] });
 *   expect(report).toHaveCause("syn-blackhole", { kernel: "6.1" });
 *   expect(report).toPass({ kernel: "host" });
 */
import { expect } from "vitest";
import {
  checkCause,
  checkCounter,
  checkPass,
  type Judged,
  type MatcherOutcome,
  type VariantPick,
} from "./verdict/matchers.js";

const where = (pick: VariantPick | undefined) =>
  pick
    ? `the variant picked (${Object.entries(pick)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(", ")})`
    : "every variant";

function result(
  isNot: boolean,
  what: string,
  outcome: MatcherOutcome,
): { pass: boolean; message: () => string } {
  return {
    pass: outcome.pass,
    message: () => `expected ${isNot ? "not " : ""}${what}\n  ${outcome.lines.join("\n  ")}`,
  };
}

expect.extend({
  toPass(received: Judged, pick?: VariantPick) {
    return result(this.isNot, `${where(pick)} to pass`, checkPass(received, pick));
  },
  toHaveCause(received: Judged, cause: string, pick?: VariantPick) {
    return result(
      this.isNot,
      `cause ${cause} in ${where(pick)}`,
      checkCause(received, cause, pick),
    );
  },
  toHaveCounter(
    received: Judged,
    node: string,
    counter: string,
    check: string | number,
    pick?: VariantPick,
  ) {
    return result(
      this.isNot,
      `${node} ${counter} ${String(check)} in ${where(pick)}`,
      checkCounter(received, node, counter, check, pick),
    );
  },
});

interface TcpreproMatchers<R = unknown> {
  /** Every variant's verdict is pass; the failure lists expected vs actual like the CLI. */
  toPass(pick?: VariantPick): R;
  /** The diagnosis named this cause in every variant (`"none"`: named nothing), or the one picked. */
  toHaveCause(cause: string, pick?: VariantPick): R;
  /** The node's counter delta (replicas summed) meets the comparison: `"> 0"`, `"== 0"`, `5`. */
  toHaveCounter(node: string, counter: string, check: string | number, pick?: VariantPick): R;
}

declare module "vitest" {
  // Vitest 5's own parameters: R is what a matcher returns (void, or a promise with .resolves).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
  interface Matchers<
    R extends void | Promise<void> = void | Promise<void>,
    T = unknown,
  > extends TcpreproMatchers<R> {}
}

export type { TcpreproMatchers, VariantPick };
