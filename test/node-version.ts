/** Vitest's global setup: every test run's output says which Node ran it. */
export default function setup(): void {
  process.stdout.write(`tcprepro tests on Node ${process.version} (${process.execPath})\n`);
}
