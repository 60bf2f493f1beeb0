/**
 * The testing kit cleans up after a user's test file: a namespace made by `cluster.namespace()`
 * is gone when the file's process ends, even when its objects carry the finalizer of the
 * operator the file ran (that operator, stopped after the namespace's deletion, removes it).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { KubeClient } from '../../src/client/client.ts';
import { loadClusterConfig } from '../../src/client/kubeconfig.ts';
import { builtin, isApiError } from '../../src/index.ts';
import { useCluster } from '../support/cluster.ts';

const cluster = await useCluster();
const client = KubeClient.fromConfig(loadClusterConfig({ kubeconfig: cluster.kubeconfig }));
after(() => client.close());
const fixture = fileURLToPath(new URL('./fixtures/kit-cleanup.ts', import.meta.url));

function runFile(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of running as a test run of its own.
    const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
    const child = spawn(process.execPath, ['--conditions=operon-source', '--test', '--test-reporter=tap', file], {
      env: { ...env, KUBECONFIG: cluster.kubeconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('operon-k8s/testing cleanup', () => {
  it("deletes the file's namespace before its operator stops, so the operator's finalizers do not hold it", async () => {
    const { code, stdout, stderr } = await runFile(fixture);
    assert.equal(code, 0, `the fixture's tests failed:\n${stdout}\n${stderr}`);
    const namespace = /KIT_NAMESPACE=(\S+)/.exec(stdout)?.[1];
    assert.ok(namespace, `the fixture printed no namespace:\n${stdout}`);
    assert.doesNotMatch(stderr, /was not deleted/);
    // Gone already: the file's end waited for it.
    await assert.rejects(client.get(builtin('v1', 'Namespace'), namespace), (err) => isApiError(err, 'NotFound'));
  });
});
