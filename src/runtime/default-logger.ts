/**
 * The logger an embedded operator gets when it is given none: pino, loaded only then, so an
 * operator with a logger of its own never loads it.
 */
import type { Logger } from '../base/logger.ts';

/**
 * A pino logger named `name`, at `LOG_LEVEL` (default info).
 *
 * @example
 * ```ts
 * const logger = options.logger ?? (await pinoLogger('printer'));
 * ```
 */
export async function pinoLogger(name: string): Promise<Logger> {
  const { pino } = await import('pino');
  return pino({ name, level: process.env['LOG_LEVEL'] ?? 'info' }) as unknown as Logger;
}
