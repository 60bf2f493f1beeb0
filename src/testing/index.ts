/**
 * `operon/testing`: helpers for testing operators. Deterministic time for unit tests of anything
 * that waits, and recording loggers to assert what an operator said.
 */
export { ManualClock, systemClock, type Clock } from '../base/clock.ts';
export { recordingLogger, silentLogger, type LogRecord } from '../base/logger.ts';
