/**
 * JUnit XML: one testcase per scenario variant, in the shape Jenkins, GitLab and GitHub's
 * reporters read (testsuites > testsuite > testcase with skipped / failure / error).
 */
import { failureLines } from "./failure-lines.js";
import { NOTHING_CHECKED, type RunReport, type VariantResult } from "../verdict/result.js";

export function xmlEscape(text: string): string {
  return (
    text
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      // Characters XML 1.0 forbids, even escaped.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "")
  );
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(scenario: string, file: string, v: VariantResult): string {
  const open = `    <testcase classname="${xmlEscape(scenario)}" name="${xmlEscape((v.kernel ? `${v.variant} [kernel ${v.kernel}]` : v.variant) + (v.family ? ` [${v.family}]` : ""))}" file="${xmlEscape(file)}" time="${seconds(v.durationMs)}">`;
  const details = failureLines(v).join("\n");
  const causes = v.causes.map((c) => `${c.cause} at ${c.node}: ${c.because}`).join("\n");
  switch (v.verdict) {
    case "pass":
      if (v.nothingChecked)
        return `${open}\n      <skipped message="${xmlEscape(NOTHING_CHECKED)}"/>\n    </testcase>`;
      return `${open}\n      <system-out>${xmlEscape(causes)}</system-out>\n    </testcase>`;
    case "skip":
      return `${open}\n      <skipped message="${xmlEscape(v.reason)}"/>\n    </testcase>`;
    case "fail":
      return `${open}\n      <failure message="${xmlEscape(v.reason)}" type="expectation">${xmlEscape(details || v.reason)}</failure>\n    </testcase>`;
    case "error":
      return `${open}\n      <error message="${xmlEscape(v.reason)}" type="error">${xmlEscape(v.reason)}</error>\n    </testcase>`;
  }
}

type Kind = VariantResult["verdict"];
/** A pass that checked nothing is reported as skipped. */
const kind = (v: VariantResult): Kind => (v.nothingChecked ? "skip" : v.verdict);

export function junitXml(report: RunReport): string {
  const suites = report.scenarios.map((s) => {
    const count = (k: Kind) => s.variants.filter((v) => kind(v) === k).length;
    const time = s.variants.reduce((t, v) => t + v.durationMs, 0);
    return [
      `  <testsuite name="${xmlEscape(s.name)}" tests="${s.variants.length}" failures="${count("fail")}" errors="${count("error")}" skipped="${count("skip")}" time="${seconds(time)}" timestamp="${report.startedAt}">`,
      `    <properties><property name="kernel" value="${xmlEscape(report.kernel)}"/><property name="runtime" value="${xmlEscape(report.runtime)}"/>${familyProperty(s.variants)}</properties>`,
      ...s.variants.map((v) => testcase(s.name, s.file, v)),
      "  </testsuite>",
    ].join("\n");
  });
  const all = report.scenarios.flatMap((s) => s.variants);
  const n = (k: Kind) => all.filter((v) => kind(v) === k).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tcprepro" tests="${all.length}" failures="${n("fail")}" errors="${n("error")}" skipped="${n("skip")}" time="${seconds(report.durationMs)}">`,
    ...suites,
    "</testsuites>",
    "",
  ].join("\n");
}

/** The families the suite's variants ran over, when any is not IPv4 alone. */
function familyProperty(variants: VariantResult[]): string {
  if (!variants.some((v) => v.family)) return "";
  const fams = [...new Set(variants.map((v) => v.family ?? "ipv4"))].join(",");
  return `<property name="family" value="${xmlEscape(fams)}"/>`;
}
