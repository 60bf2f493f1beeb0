import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { lazyChild, recordingLogger, type Logger } from '../../../src/base/logger.ts';

/** A pino logger at `level` writing JSON lines into `lines`, counting the children made of it. */
function pinoInto(level: string): { logger: Logger; lines: Array<Record<string, unknown>>; children: () => number } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const base = pino({ level, base: undefined, timestamp: false }, stream);
  let made = 0;
  const logger: Logger = Object.assign(Object.create(base) as Logger, {
    child: (bindings: Record<string, unknown>) => {
      made++;
      return base.child(bindings);
    },
  });
  return { logger, lines, children: () => made };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('lazyChild', () => {
  it('makes no child for lines below the level that is on, and one child, kept, for the lines written', async () => {
    const { logger, lines, children } = pinoInto('info');
    const log = lazyChild(logger, { namespace: 'shop', name: 'btc' });
    log.debug('reconciled');
    log.debug({ requeueAfter: 5 }, 'reconciled; requeued');
    assert.equal(children(), 0, 'debug is off: no child');
    log.info({ value: '$1' }, 'valued');
    log.warn('slow');
    await flush();
    assert.equal(children(), 1);
    assert.deepEqual(lines, [
      { level: 30, namespace: 'shop', name: 'btc', value: '$1', msg: 'valued' },
      { level: 40, namespace: 'shop', name: 'btc', msg: 'slow' },
    ]);
  });

  it('children of a lazy child write with both bindings, share their parent\'s child, and make none until a line is written', async () => {
    const { logger, lines, children } = pinoInto('debug');
    const cycle = lazyChild(logger, { name: 'btc' });
    const value = lazyChild(cycle, { handler: 'value' });
    const stale = cycle.child({ handler: 'stale' });
    assert.equal(children(), 0);
    value.debug('ran');
    stale.info('ran');
    value.info('again');
    await flush();
    assert.equal(children(), 1, 'one child of the operator\'s logger, for the cycle, shared by both handlers');
    assert.deepEqual(lines, [
      { level: 20, name: 'btc', handler: 'value', msg: 'ran' },
      { level: 30, name: 'btc', handler: 'stale', msg: 'ran' },
      { level: 30, name: 'btc', handler: 'value', msg: 'again' },
    ]);
  });

  it('needs its logger as `this`, as pino does', () => {
    const { logger } = recordingLogger();
    const log = lazyChild(logger, { name: 'p1' });
    const detached = log.info;
    assert.throws(() => detached('lost'), TypeError);
  });

  it('writes every level through a logger that cannot tell its level (the recording logger)', () => {
    const { logger, records } = recordingLogger();
    const log = lazyChild(logger, { name: 'p1' });
    log.debug('d');
    log.error({ err: 'x' }, 'e');
    assert.deepEqual(records, [
      { name: 'p1', level: 'debug', msg: 'd' },
      { name: 'p1', err: 'x', level: 'error', msg: 'e' },
    ]);
  });
});
