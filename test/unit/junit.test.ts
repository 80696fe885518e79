import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { junitXml, xmlEscape } from "../../src/report/junit.js";
import type { RunReport, VariantResult } from "../../src/verdict/result.js";
import { variantResult } from "./builders.js";

const variant = (
  name: string,
  verdict: VariantResult["verdict"],
  reason: string,
  extra: Partial<VariantResult> = {},
): VariantResult => variantResult({ variant: name, verdict, reason, durationMs: 1500, ...extra });

const report: RunReport = {
  tool: { name: "tcprepro", version: "0.1.0" },
  kernel: "6.18.0",
  runtime: "docker",
  startedAt: "2026-11-21T00:00:00.000Z",
  durationMs: 4500,
  scenarios: [
    {
      name: "accept-queue-overflow",
      file: "scenarios/accept-queue-overflow.yaml",
      summary: "s",
      variants: [
        variant("baseline", "pass", "ok", {
          causes: [
            {
              cause: "accept-queue-overflow",
              node: "server",
              because: "ListenOverflows +45 <x>",
              numbers: {},
            },
          ],
        }),
        variant("mitigated", "fail", "clients.connected: expected == 100, got 98", {
          expectations: [
            {
              path: "clients.connected",
              expected: "== 100",
              actual: 98,
              ok: false,
              source: "scenarios/a.yaml:31",
            },
          ],
        }),
      ],
    },
    {
      name: "tw-recycle-nat",
      file: "scenarios/tw.yaml",
      summary: "s",
      variants: [variant("baseline", "skip", "needs kernel <4.12; this is 6.18.0")],
    },
  ],
};

describe("JUnit XML", () => {
  const xml = junitXml(report);

  it("has one testcase per variant with totals that add up", () => {
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toMatch(
      /<testsuites name="tcprepro" tests="3" failures="1" errors="0" skipped="1"/,
    );
    expect(xml).toMatch(
      /<testsuite name="accept-queue-overflow" tests="2" failures="1" errors="0" skipped="0" time="3.000"/,
    );
  });

  it("skips with the reason and fails with expected vs actual and the line", () => {
    expect(xml).toMatch(/<skipped message="needs kernel &lt;4.12; this is 6.18.0"\/>/);
    expect(xml).toMatch(
      /<failure message="clients.connected: expected == 100, got 98" type="expectation">✗ clients.connected: expected == 100, actual 98  \(scenarios\/a.yaml:31\)/,
    );
  });

  it("reads back with an XML parser: one testcase per variant, with skipped and failure", () => {
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml) as {
      testsuites: { testsuite: Array<{ name: string; testcase: unknown }> };
    };
    const cases = doc.testsuites.testsuite.flatMap(
      (s) => [s.testcase].flat() as Array<Record<string, unknown>>,
    );
    expect(cases.map((c) => `${c.classname}/${c.name}`)).toEqual([
      "accept-queue-overflow/baseline",
      "accept-queue-overflow/mitigated",
      "tw-recycle-nat/baseline",
    ]);
    expect(cases[1]!.failure).toBeDefined();
    expect(cases[2]!.skipped).toBeDefined();
  });

  it("is well-formed: escaped text, balanced elements", () => {
    expect(xml).toContain("ListenOverflows +45 &lt;x&gt;");
    for (const tag of ["testsuites", "testsuite", "testcase"]) {
      const opens = xml.match(new RegExp(`<${tag}[ >]`, "g"))?.length ?? 0;
      const closes = xml.match(new RegExp(`</${tag}>`, "g"))?.length ?? 0;
      expect(closes, tag).toBe(opens);
    }
    expect(xmlEscape('a"b&c\u0001')).toBe("a&quot;b&amp;c");
  });
});
