/**
 * `operon run` against the real API server, where a mistake only shows once the cluster answers:
 * a busy health or metrics port (issue #13: it printed `unexpected error` and a stack) is one
 * line naming the port, what it serves and the flag to change, exit 2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { useCluster } from '../support/cluster.ts';
import { operon } from '../unit/cli/process.ts';

const cluster = await useCluster();
const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'operon-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'operator.ts'),
  `import { builtin, resource } from ${JSON.stringify(pathToFileURL(join(root, 'src/index.ts')).href)};
resource(builtin('v1', 'ConfigMap')).onCreate(() => {});
`,
);

/** A port something else listens on, for as long as the test runs. */
async function busyPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  return (server.address() as AddressInfo).port;
}

describe('operon run on a busy port', () => {
  for (const [flag, what] of [
    ['--health-address', 'health probes'],
    ['--metrics-address', 'metrics'],
  ] as const) {
    it(`names the port, what it serves and ${flag}, in one line with exit 2`, async () => {
      const port = await busyPort();
      const { code, stderr } = await operon(['run', 'operator.ts', '--no-check', '-n', 'default', '--kubeconfig', cluster.kubeconfig, '--log-format', 'json', '--quiet', flag, `127.0.0.1:${port}`], dir);
      assert.equal(code, 2);
      assert.equal(stderr, `operon: port ${port} is in use (${what}); choose another with ${flag} or stop the other process\n`);
    });
  }
});
