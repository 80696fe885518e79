/**
 * `tcprepro diagnose --before --after` on production dumps. The fixtures are real: made on this
 * 6.18 kernel by test/fixtures/diagnose/make-fixtures.py in network namespaces of their own,
 * each scenario in both formats a host gives (`nstat -az`, `cat /proc/net/netstat /proc/net/snmp`),
 * with a healthy service and closed-port probes running beside the failure as background noise.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CauseName, Diagnosis } from "../../src/diagnosis/causes.js";
import { diagnoseDumps } from "../../src/diagnosis/dump.js";
import { formatDiagnosis } from "../../src/diagnosis/format.js";
import { DumpError } from "../../src/diagnosis/errors.js";
import { looksLikeNstat } from "../../src/evidence/proc.js";

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/diagnose/${name}`, import.meta.url), "utf8");
const pair = (scenario: string, fmt: string): [string, string] => [
  fixture(`${scenario}.before.${fmt}`),
  fixture(`${scenario}.after.${fmt}`),
];
const names = (d: Diagnosis): CauseName[] => d.causes.map((c) => c.cause);

describe.each(["nstat", "proc"])("production dumps, %s format", (fmt) => {
  it("is the format it claims to be", () => {
    const [before, after] = pair("never-accept", fmt);
    expect(looksLikeNstat(before)).toBe(fmt === "nstat");
    expect(looksLikeNstat(after)).toBe(fmt === "nstat");
  });

  it("never-accepting listener → accept-queue-overflow, and not syn-queue-overflow", () => {
    const d = diagnoseDumps(...pair("never-accept", fmt));
    expect(names(d)).toEqual(["accept-queue-overflow"]);
    expect(d.causes[0]).toMatchObject({
      node: "host",
      confidence: "strong",
      numbers: { TcpExtListenOverflows: 135, TcpExtListenDrops: 135 },
    });
    // The closed-port probes (TcpOutRsts +2) came with healthy passive opens: no no-listener.
    expect(names(d)).not.toContain("no-listener");
  });

  it("SYN flood against syncookies=0 → syn-queue-overflow, and not accept-queue-overflow", () => {
    const d = diagnoseDumps(...pair("syn-flood", fmt));
    expect(names(d)).toEqual(["syn-queue-overflow"]);
    expect(d.causes[0]).toMatchObject({
      node: "host",
      confidence: "strong",
      numbers: { TcpExtTCPReqQFullDrop: 2020, TcpExtListenDrops: 2020, TcpExtListenOverflows: 0 },
    });
    expect(names(d)).not.toContain("syn-flood-cookies");
  });

  it("lists what counters alone could not check", () => {
    const { unchecked } = diagnoseDumps(...pair("never-accept", fmt));
    const starts = (prefix: string) => unchecked.some((u) => u.startsWith(prefix));
    expect(starts("client outcomes:")).toBe(true);
    expect(starts("conntrack:")).toBe(true);
    expect(starts("packets:")).toBe(true);
    // This kernel has no TcpExtPAWSPassive: said, not silently passed.
    expect(unchecked).toContain(
      "TcpExtPAWSPassive does not exist on this kernel: tw-recycle-paws not checked",
    );
  });

  it("a quiet interval is none, and only weak: there are no client outcomes", () => {
    const [before] = pair("never-accept", fmt);
    const d = diagnoseDumps(before, before);
    expect(d.causes).toEqual([
      expect.objectContaining({ cause: "none", node: "host", confidence: "weak" }),
    ]);
  });
});

describe("diagnoseDumps", () => {
  it("takes one dump in each format", () => {
    const d = diagnoseDumps(fixture("syn-flood.before.nstat"), fixture("syn-flood.after.proc"));
    expect(names(d)).toEqual(["syn-queue-overflow"]);
  });

  it("refuses dumps in the wrong order, with a code and a hint", () => {
    const [before, after] = pair("never-accept", "nstat");
    let err: unknown;
    try {
      diagnoseDumps(after, before);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DumpError);
    expect(err).toMatchObject({ code: "TCPREPRO_BAD_DUMP", which: "both" });
    expect((err as Error).message).toMatch(/went backwards .* is --before the later dump/);
  });

  it("refuses text that is not a counter dump", () => {
    expect(() => diagnoseDumps("hello\nworld\n", fixture("syn-flood.after.nstat"))).toThrow(
      DumpError,
    );
    expect(() => diagnoseDumps("hello\nworld\n", fixture("syn-flood.after.nstat"))).toThrow(
      /--before: no counters/,
    );
  });

  it("refuses /proc/net/netstat alone (no Tcp counters from /proc/net/snmp)", () => {
    const netstatOnly = (t: string) =>
      t
        .split("\n")
        .filter((l) => /^(TcpExt|IpExt|MPTcpExt):/.test(l))
        .join("\n");
    const [before, after] = pair("never-accept", "proc");
    expect(() => diagnoseDumps(netstatOnly(before), netstatOnly(after))).toThrow(/no Tcp counters/);
  });

  it("accepts `nstat -a` without -z, saying a missing counter was taken as 0", () => {
    const noZeros = (t: string) =>
      t
        .split("\n")
        .filter((l) => !/^\S+\s+0\s/.test(l))
        .join("\n");
    const [before, after] = pair("syn-flood", "nstat");
    const d = diagnoseDumps(noZeros(before), noZeros(after));
    expect(names(d)).toEqual(["syn-queue-overflow"]);
    expect(d.unchecked[0]).toMatch(/^counter existence: the dumps leave out zero counters/);
  });

  it("formats causes and unchecked lines for the console", () => {
    const text = formatDiagnosis(diagnoseDumps(...pair("never-accept", "proc")));
    expect(text).toMatch(
      /^accept-queue-overflow \(strong\) at host\n  host: TcpExtListenOverflows \+135/,
    );
    expect(text).toContain("\nnot checked:\n  - ");
  });
});

describe("round-2 causes that counters alone show", () => {
  /** The never-accept fixture's `before`, and an `after` with these counters raised. */
  const raised = (deltas: Record<string, number>): [string, string] => {
    const before = fixture("never-accept.before.nstat");
    const after = before
      .split("\n")
      .map((line) => {
        const m = /^(\S+)(\s+)(\d+)(.*)$/.exec(line);
        if (!m || deltas[m[1]!] === undefined) return line;
        return `${m[1]}${m[2]}${Number(m[3]) + deltas[m[1]!]!}${m[4]}`;
      })
      .join("\n");
    return [before, after];
  };

  it("names tw-bucket-overflow and lossy-path, each with its numbers, and reports keepalive's aborts", () => {
    expect(names(diagnoseDumps(...raised({ TcpExtTCPTimeWaitOverflow: 900 })))).toEqual([
      "tw-bucket-overflow",
    ]);
    const ka = diagnoseDumps(...raised({ TcpExtTCPKeepAlive: 27, TcpExtTCPAbortOnTimeout: 9 }));
    // Keepalive finding dead peers is the safeguard working: no cause, but said.
    expect(names(ka)).toEqual(["none"]);
    expect(ka.causes[0]!.because).toContain("TcpExtTCPKeepAlive +27");
    const lossy = diagnoseDumps(
      ...raised({
        TcpRetransSegs: 307,
        TcpExtTCPFastRetrans: 240,
        TcpExtTCPSlowStartRetrans: 49,
        TcpExtTCPTimeouts: 10,
        TcpExtTCPSynRetrans: 8,
      }),
    );
    expect(names(lossy)).toContain("lossy-path");
    expect(lossy.causes.find((c) => c.cause === "lossy-path")!.because).toContain(
      "TcpExtTCPFastRetrans +240",
    );
  });

  it("says what it cannot check: socket states and request round trips", () => {
    const d = diagnoseDumps(...raised({}));
    expect(d.unchecked.join("\n")).toContain("close-wait-leak not checked");
    expect(d.unchecked.join("\n")).toContain("delayed-ack-nagle not checked");
  });
});
