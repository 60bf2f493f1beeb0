/**
 * The CLI's logger: pino writing JSON lines (for log collectors), or a plain one-line-per-event
 * format for people at a terminal. The plain format is a small stream transform of pino's own
 * output, so both formats carry exactly the same fields; no pretty-printing dependency.
 */
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import type { Logger } from '../base/logger.ts';
import type { LogFormat, LogLevel } from './options.ts';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'logger', 'name', 'namespace', 'v']);

/** Formats one pino JSON line as `12:00:01.234 INFO  [ns/name] message key=value ...`. */
export function plainLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof record['time'] === 'number' ? new Date(record['time']).toISOString().slice(11, 23) : '';
  const level = (LEVELS[Number(record['level'])] ?? 'INFO').padEnd(5);
  const ns = typeof record['namespace'] === 'string' ? record['namespace'] : undefined;
  const name = typeof record['name'] === 'string' ? record['name'] : undefined;
  const where = ns !== undefined || name !== undefined ? ` [${[ns, name].filter(Boolean).join('/')}]` : '';
  const rest = Object.entries(record)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? (/\s/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level}${where} ${String(record['msg'] ?? '')}${rest ? `  ${rest}` : ''}`;
}

/**
 * A pino logger at `level`, writing JSON or plain lines to stderr. The logger's own name goes
 * under `logger`, not pino's usual `name`: `name` (with `namespace`) is the object a line is
 * about, and a line with the key twice (`{"name":"operon",…,"name":"t1"}`) is one that JSON.parse
 * reads as the last and strict log pipelines reject.
 */
export async function createLogger(name: string, level: LogLevel, format: LogFormat): Promise<Logger> {
  const { pino } = await import('pino');
  const options = { level, base: { pid: process.pid, hostname: hostname(), logger: name } };
  if (format === 'json') return pino(options, pino.destination(2)) as unknown as Logger;
  let pending = '';
  const plain = new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        process.stderr.write(`${plainLine(pending.slice(0, nl))}\n`);
        pending = pending.slice(nl + 1);
      }
      done();
    },
  });
  return pino(options, plain) as unknown as Logger;
}
