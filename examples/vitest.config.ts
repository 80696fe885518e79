import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Installed standalone (`npm install` here, with tcprepro built: `npm run build` in ..), the
// package resolves as published. Run from the repository without installing (what its `npm test`
// does), "tcprepro" is the repository's build when there is one, else its TypeScript sources.
const repo = fileURLToPath(new URL("..", import.meta.url));
const built = existsSync(`${repo}dist/index.js`);
const installed = existsSync(new URL("./node_modules/tcprepro/package.json", import.meta.url));
const from = (name: string) => (built ? `${repo}dist/${name}.js` : `${repo}src/${name}.ts`);

export default defineConfig({
  resolve: {
    alias:
      installed && built
        ? []
        : [
            { find: /^tcprepro\/vitest$/, replacement: from("vitest") },
            { find: /^tcprepro$/, replacement: from("index") },
          ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
