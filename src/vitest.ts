/**
 * Matchers for vitest. Import once, for its side effect (in a test file or a setup file):
 *
 *   import "tcprepro/vitest";
 *   expect(report).toPass();
 *   expect(report.scenarios[0].variants[0]).toHaveCause("accept-queue-overflow");
 *   expect(variant).toHaveCounter("server", "TcpExtListenOverflows", "> 0");
 *
 * Each takes a variant result, a scenario result, or a whole report (then every variant).
 */
import { expect } from "vitest";
import {
  checkCause,
  checkCounter,
  checkPass,
  type Judged,
  type MatcherOutcome,
} from "./verdict/matchers.js";

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
  toPass(received: Judged) {
    return result(this.isNot, "every variant to pass", checkPass(received));
  },
  toHaveCause(received: Judged, cause: string) {
    return result(this.isNot, `cause ${cause} in every variant`, checkCause(received, cause));
  },
  toHaveCounter(received: Judged, node: string, counter: string, check: string | number) {
    return result(
      this.isNot,
      `${node} ${counter} ${String(check)} in every variant`,
      checkCounter(received, node, counter, check),
    );
  },
});

interface TcpreproMatchers<R = unknown> {
  /** Every variant's verdict is pass; the failure lists expected vs actual like the CLI. */
  toPass(): R;
  /** The diagnosis named this cause in every variant (`"none"`: named nothing). */
  toHaveCause(cause: string): R;
  /** The node's counter delta (replicas summed) meets the comparison: `"> 0"`, `"== 0"`, `5`. */
  toHaveCounter(node: string, counter: string, check: string | number): R;
}

declare module "vitest" {
  // Vitest 5's own parameters: R is what a matcher returns (void, or a promise with .resolves).
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
  interface Matchers<
    R extends void | Promise<void> = void | Promise<void>,
    T = unknown,
  > extends TcpreproMatchers<R> {}
}

export type { TcpreproMatchers };
