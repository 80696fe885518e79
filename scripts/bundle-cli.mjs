// `npm run build`, second step: the CLI as one file, dist/tcprepro.js, with its dependencies in
// it. Node then resolves and loads one module instead of some two hundred (zod alone is ~100):
// `tcprepro --version` takes about half as long. The Docker client stays outside (it is loaded on
// first use, and ssh2 under it has native parts); so does testcontainers.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/tcprepro.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  external: ["dockerode", "testcontainers"],
  // The CommonJS dependencies inside call require() for Node's own modules.
  banner: {
    js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
  },
  logLevel: "warning",
});
