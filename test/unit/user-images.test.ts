import { describe, expect, it } from "vitest";
import { fromImages } from "../../src/runtime/docker/user-images.js";

describe("build: the images a Dockerfile builds from", () => {
  it("names FROM images, not stages or ARG-substituted ones", () => {
    expect(
      fromImages(
        "ARG B=x\nFROM tcprepro/node:latest AS build\nRUN make\nFROM --platform=linux/amd64 tcprepro/base:bookworm\nCOPY --from=build /a /a\nFROM build\nFROM ${B}\n",
      ),
    ).toEqual(["tcprepro/node:latest", "tcprepro/base:bookworm"]);
  });
});
