/**
 * Ctrl-C during an image build (the long debootstrap step) stops debootstrap and its children
 * and removes the temporary rootfs; the existing images are untouched.
 */
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cli, docker } from "./helpers.js";

const rootfsDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith("tcprepro-rootfs-"));
const debootstraps = () => {
  try {
    return execFileSync("pgrep", ["-f", "debootstrap.*tcprepro-rootfs"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};

describe("interrupting an image build", () => {
  it("SIGINT during debootstrap leaves no rootfs, no debootstrap, and the old images", async () => {
    const imagesBefore = (await docker.listImages({ filters: { reference: ["tcprepro/*"] } }))
      .map((i) => i.Id)
      .sort();
    const delay = 3000 + Math.round(Math.random() * 5000);
    const run = await cli(["images", "build", "--force"], undefined, { TCPREPRO_ROOTFS: "" }, [], {
      trigger: /debootstrap/,
      afterMs: delay,
      signal: "SIGINT",
    });
    expect(run.code, run.stderr).toBe(130);
    expect(rootfsDirs()).toEqual([]);
    expect(debootstraps()).toEqual([]);
    const imagesAfter = (await docker.listImages({ filters: { reference: ["tcprepro/*"] } }))
      .map((i) => i.Id)
      .sort();
    expect(imagesAfter).toEqual(imagesBefore);
  });
});
