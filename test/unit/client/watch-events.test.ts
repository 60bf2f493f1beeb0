import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../../src/client/errors.ts';
import { splitLines } from '../../../src/client/transport.ts';
import { parseWatchEvent } from '../../../src/client/watch-events.ts';

async function collect(chunks: Array<Buffer | string>): Promise<string[]> {
  const source = async function* (): AsyncGenerator<Buffer | string> {
    for (const c of chunks) yield c;
  };
  const out: string[] = [];
  for await (const line of splitLines(source())) out.push(line);
  return out;
}

describe('watch line parsing', () => {
  it('parses ADDED, BOOKMARK and ERROR events', () => {
    const added = parseWatchEvent('{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"5"}}}');
    assert.equal(added.type, 'ADDED');
    assert.equal(added.object.metadata?.name, 'a');
    const bookmark = parseWatchEvent('{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}');
    assert.equal(bookmark.type, 'BOOKMARK');
    const error = parseWatchEvent('{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (7)"}}');
    assert.equal(error.type, 'ERROR');
    if (error.type === 'ERROR') assert.equal(error.object.code, 410);
  });

  it('throws a ProtocolError that quotes a malformed line and names the request', () => {
    const request = { verb: 'watch', resource: 'printers.operon.dev', namespace: 'lab' };
    assert.throws(
      () => parseWatchEvent('{"type":"ADDED","object":{"metadata"', request),
      (err: unknown) => err instanceof ProtocolError && /malformed watch event on watch printers\.operon\.dev in namespace lab \(not JSON\)/.test(err.message) && err.request === request,
    );
    assert.throws(() => parseWatchEvent('[1,2]'), /not a JSON object/);
    assert.throws(() => parseWatchEvent('{"type":"UPSERTED","object":{}}'), /unknown event type "UPSERTED"/);
    assert.throws(() => parseWatchEvent('{"type":"ADDED"}'), /event without an object/);
  });
});

describe('line splitting', () => {
  it('joins a line split across chunks and splits a chunk holding several lines', async () => {
    assert.deepEqual(await collect(['{"a":', '1}\n{"b"', ':2}\n{"c":3}\n']), ['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps a multi-byte character cut between chunks intact', async () => {
    const bytes = Buffer.from('{"name":"drücker"}\n');
    const cut = bytes.indexOf(0xc3) + 1;
    assert.deepEqual(await collect([bytes.subarray(0, cut), bytes.subarray(cut)]), ['{"name":"drücker"}']);
  });

  it('accepts CRLF, skips blank lines and yields a last line without newline', async () => {
    assert.deepEqual(await collect([Buffer.from('a\r\n\n  \nb')]), ['a', 'b']);
  });
});
