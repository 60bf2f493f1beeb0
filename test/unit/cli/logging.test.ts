/**
 * The CLI's JSON log lines carry each key once: the logger's name under `logger`, the object a
 * line is about under `namespace` and `name`. Regression for issue #13: lines read
 * `{"name":"operon",…,"name":"t1"}`, which JSON.parse reads as the last value and strict
 * pipelines reject. Checked on the real logger's output, in a process of its own (it writes to
 * file descriptor 2), with a scanner that sees duplicates JSON.parse hides.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { plainLine } from '../../../src/cli/logging.ts';
import { FROM_SOURCE } from '../../support/source.ts';

/** The keys of a JSON object text, each as often as it appears, at every depth. */
function keysPerObject(json: string): string[][] {
  const objects: string[][] = [];
  const stack: Array<string[] | null> = [];
  let i = 0;
  while (i < json.length) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const text = json.slice(i, j + 1);
      let k = j + 1;
      while (json[k] === ' ') k++;
      const top = stack[stack.length - 1];
      if (json[k] === ':' && top) top.push(JSON.parse(text) as string);
      i = j + 1;
      continue;
    }
    if (c === '{') stack.push([]);
    if (c === '[') stack.push(null);
    if (c === '}' || c === ']') {
      const done = stack.pop();
      if (done) objects.push(done);
    }
    i++;
  }
  return objects;
}

function logLines(): Promise<string[]> {
  const src = new URL('../../../src/cli/logging.ts', import.meta.url).href;
  const script = `import { createLogger } from ${JSON.stringify(src)};
const logger = await createLogger('operon', 'info', 'json');
logger.child({ namespace: 'shop', name: 't1', handler: 'start' }).info({ retryInMs: 1000 }, 'handler start failed, retrying in 1s');
logger.child({ name: 'cluster-wide' }).warn('a cluster-scoped object');`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...FROM_SOURCE, '--input-type=module', '-e', script], (err, _stdout, stderr) => (err ? reject(err) : resolve(stderr.trim().split('\n'))));
  });
}

describe('the CLI logger', () => {
  it('regression #13: writes JSON lines with every key once, the object under namespace/name and the logger under logger', async () => {
    const lines = await logLines();
    assert.equal(lines.length, 2);
    for (const line of lines) {
      for (const keys of keysPerObject(line)) assert.deepEqual(keys, [...new Set(keys)], `a key twice in ${line}`);
    }
    const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    assert.equal(first['logger'], 'operon');
    assert.equal(first['namespace'], 'shop');
    assert.equal(first['name'], 't1');
    assert.equal((JSON.parse(lines[1] ?? '') as Record<string, unknown>)['name'], 'cluster-wide');
  });

  it('shows the object in the plain format, namespaced or cluster-scoped, and hides the logger name', () => {
    assert.match(plainLine('{"level":30,"time":0,"logger":"operon","namespace":"shop","name":"t1","msg":"hi"}'), /INFO {2}\[shop\/t1\] hi$/);
    assert.match(plainLine('{"level":40,"time":0,"logger":"operon","name":"node-1","msg":"hi"}'), /WARN {2}\[node-1\] hi$/);
  });
});
