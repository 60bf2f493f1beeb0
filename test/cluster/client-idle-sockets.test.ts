/**
 * A pooled keep-alive socket that the server closed while this process could not notice (its
 * event loop blocked by synchronous work for longer than the server's idle timeout) is not reused:
 * the request after the block gets a fresh connection instead of `socket hang up`. The first
 * fresh-machine run of the benchmark smoke test failed this way (its harness blocked for minutes
 * on a Go build with sockets in its pool); an operator whose handler blocks would too.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/index.ts';
import type { KubeObject, ResourceRef } from '../../src/client/index.ts';
import { useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const ns = await cluster.namespace('idle-sockets');
const configmaps: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespaced: true };

/** Starts the idle-closing proxy in front of the API server; resolves with its port and a count of its idle closes. */
async function startProxy(idleMs: number): Promise<{ port: number; closes: () => number; stop: () => void }> {
  const upstream = new URL(cluster.state.server);
  const child = spawn(process.execPath, [new URL('../support/idle-closing-proxy.ts', import.meta.url).pathname, upstream.hostname, upstream.port, String(idleMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let closes = 0;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the proxy exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [what, n] = line.split(' ');
      if (what === 'port') resolve(Number(n));
      if (what === 'closed') closes = Number(n);
    });
  });
  return { port, closes: () => closes, stop: () => child.kill('SIGTERM') };
}

/** Blocks this thread, timers and I/O included, as a synchronous build or a CPU-bound handler does. */
function blockEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('pooled sockets after a blocked event loop', () => {
  it('sends the first request after the block on a fresh connection, even a create, which is never retried blindly', async () => {
    // The proxy plays a server with a 400 ms idle timeout; the client's own idle timeout (150 ms)
    // is shorter, as Operon's default (30 s) is shorter than the API server's (90 s).
    const proxy = await startProxy(400);
    after(proxy.stop);
    const admin = await KubeClient.load({ kubeconfig: cluster.kubeconfig });
    const client = KubeClient.fromConfig({ ...admin.config, server: `https://127.0.0.1:${proxy.port}` }, { idleSocketTimeoutMs: 150, maxRetries: 0 });
    admin.close();
    after(() => client.close());
    const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns } });

    await client.create(configmaps, cm('before-block'));

    blockEventLoop(1_500);
    // Started in the same turn of the loop as the block's end: the pool's timer has not run, and
    // the proxy's FIN has not been read.
    const created = await client.create(configmaps, cm('after-block'));

    assert.equal(created.metadata.name, 'after-block');
    const names = (await client.list(configmaps, { namespace: ns })).items.map((o) => o.metadata.name).filter((n) => n !== 'kube-root-ca.crt').sort();
    assert.deepEqual(names, ['after-block', 'before-block']);
    assert.ok(proxy.closes() >= 1, 'the proxy closed the idle connection during the block (else this test proves nothing)');
  });
});
