import { describe, expect, it } from "vitest";
import { LineFeed } from "../../src/util/lines.js";

describe("LineFeed", () => {
  it("splits chunks into lines, keeps early lines for the first listener, and flushes a tail", () => {
    const feed = new LineFeed();
    feed.push('{"ev":"listen');
    feed.push('ing"}\n{"ev":"start"}\n');
    const a: string[] = [];
    const b: string[] = [];
    feed.onLine((l) => a.push(l));
    feed.push("x\ny");
    feed.onLine((l) => b.push(l));
    feed.end();
    expect(a).toEqual(['{"ev":"listening"}', '{"ev":"start"}', "x", "y"]);
    expect(b).toEqual(["y"]);
  });
});
