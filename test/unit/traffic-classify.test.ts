import { describe, expect, it } from "vitest";
import { attemptsOf, classifyCurl, type CommandRun } from "../../src/traffic/classify.js";
import { abAttempts, abRequests, wrkAttempts } from "../../src/traffic/summaries.js";
import { substitute } from "../../src/traffic/command-traffic.js";
import { literalAddressIn } from "../../src/scenario/schema-user.js";

const run = (exitCode: number | null, stderr = "", stdout = ""): CommandRun => ({
  run: 0,
  startMs: 10,
  durationMs: 5,
  exitCode,
  stdout,
  stderr,
});

const counts = (attempts: { outcome: string; phase: string }[]) => {
  const out: Record<string, number> = {};
  for (const a of attempts)
    out[`${a.outcome}@${a.phase}`] = (out[`${a.outcome}@${a.phase}`] ?? 0) + 1;
  return out;
};

describe("curl's exit codes", () => {
  it("names the kernel's error or curl's own timeout, with its phase", () => {
    // Messages as curl 7.88 (Debian bookworm) prints them.
    expect(classifyCurl(run(0))).toEqual({ outcome: "connected", phase: "done" });
    expect(
      classifyCurl(
        run(
          7,
          "curl: (7) Failed to connect to 127.0.0.1 port 81 after 0 ms: Couldn't connect to server",
        ),
      ),
    ).toEqual({ outcome: "ECONNREFUSED", phase: "connect" });
    expect(
      classifyCurl(
        run(
          28,
          "curl: (28) Failed to connect to 127.0.0.1 port 80 after 1001 ms: Timeout was reached",
        ),
      ),
    ).toEqual({ outcome: "timeout", phase: "connect" });
    expect(
      classifyCurl(run(28, "curl: (28) Connection timed out after 1000 milliseconds")),
    ).toEqual({ outcome: "timeout", phase: "connect" });
    expect(
      classifyCurl(
        run(28, "curl: (28) Operation timed out after 3000 milliseconds with 0 bytes received"),
      ),
    ).toEqual({ outcome: "timeout", phase: "reply" });
    expect(classifyCurl(run(56, "curl: (56) Recv failure: Connection reset by peer"))).toEqual({
      outcome: "ECONNRESET",
      phase: "reply",
    });
    expect(classifyCurl(run(52, "curl: (52) Empty reply from server")).outcome).toBe("EOF");
    expect(classifyCurl(run(7, "No route to host")).outcome).toBe("EHOSTUNREACH");
  });

  it("an outcomes map wins over the built-in reading, for failed runs only", () => {
    const map = { "Connection reset": "ECONNRESET@connect", exit: "nope" };
    expect(
      counts(attemptsOf("c", ["curl", "x"], run(56, "Connection reset by peer"), map)),
    ).toEqual({
      "ECONNRESET@connect": 1,
    });
    expect(counts(attemptsOf("c", ["curl", "x"], run(0, "exit"), map))).toEqual({
      "connected@done": 1,
    });
    expect(counts(attemptsOf("c", ["./my-client"], run(3, "boom"), { boom: "EOF" }))).toEqual({
      "EOF@reply": 1,
    });
    expect(counts(attemptsOf("c", ["./my-client"], run(3, "?")))).toEqual({ "exit3@done": 1 });
    expect(counts(attemptsOf("c", ["./my-client"], run(137)))).toEqual({ "timeout@reply": 1 });
  });
});

describe("ab and wrk summaries become one attempt per request", () => {
  it("ab: complete, failed by kind, non-2xx", () => {
    const out = [
      "Complete requests:      100",
      "Failed requests:        7",
      "   (Connect: 2, Receive: 3, Length: 1, Exceptions: 1)",
      "Non-2xx responses:      4",
    ].join("\n");
    expect(
      counts(
        abAttempts(["ab", "-n", "100", "-c", "10", "u"], run(0, "", out)).flatMap((c) =>
          Array.from({ length: c.count ?? 1 }, () => c),
        ),
      ),
    ).toEqual({
      "connected@done": 90,
      "httpError@done": 4,
      "ECONNREFUSED@connect": 2,
      "ECONNRESET@reply": 3,
      "exception@reply": 1,
    });
  });

  it("ab stopped at its first error: the unfinished requests take that error", () => {
    const c = abAttempts(
      ["ab", "-n50", "u"],
      run(104, "apr_socket_recv: Connection reset by peer (104)\nTotal of 20 requests completed"),
    );
    expect(c).toEqual([
      { outcome: "connected", phase: "done", count: 20 },
      { outcome: "ECONNRESET", phase: "reply", count: 30 },
    ]);
    expect(abRequests(["ab", "u"])).toBe(1);
    expect(
      abAttempts(
        ["ab", "-n", "3", "u"],
        run(119, "apr_pollset_poll: The timeout specified has expired (70007)"),
      ),
    ).toEqual([{ outcome: "timeout", phase: "reply", count: 3 }]);
  });

  it("wrk: requests and socket errors", () => {
    const out =
      "  1200 requests in 1.00s, 1.2MB read\n  Socket errors: connect 3, read 2, write 0, timeout 5\n  Non-2xx or 3xx responses: 10";
    expect(wrkAttempts(run(0, "", out))).toEqual([
      { outcome: "connected", phase: "done", count: 1190 },
      { outcome: "httpError", phase: "done", count: 10 },
      { outcome: "ECONNREFUSED", phase: "connect", count: 3 },
      { outcome: "ECONNRESET", phase: "reply", count: 2 },
      { outcome: "timeout", phase: "reply", count: 5 },
    ]);
  });
});

describe("a command's target", () => {
  it("placeholders become the route the client takes", () => {
    expect(
      substitute(["curl", "{url}/x", "-H", "Host: {host}", "{target}", "-p{port}"], {
        host: "198.18.0.10",
        port: 80,
      }),
    ).toEqual([
      "curl",
      "http://198.18.0.10:80/x",
      "-H",
      "Host: 198.18.0.10",
      "198.18.0.10:80",
      "-p80",
    ]);
  });

  it("literal addresses are refused; placeholders, flags and durations are not", () => {
    for (const bad of [
      "http://93.184.216.34/",
      "10.0.0.1",
      "1.2.3.4:80",
      "http://localhost/",
      "[::1]:80",
      "https://example.com/",
    ])
      expect(literalAddressIn(bad), bad).toBeDefined();
    for (const ok of [
      "{url}/",
      "-sS",
      "--connect-timeout",
      "2.5",
      "{host}:{port}",
      "1.5",
      "-n",
      "100",
    ])
      expect(literalAddressIn(ok), ok).toBeUndefined();
  });
});
