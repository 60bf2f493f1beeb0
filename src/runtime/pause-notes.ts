/**
 * Says so when an object is paused or resumed (the pause annotation, state/pause.ts): an Event on
 * the object (`kubectl describe`) and a log line, once per pause in this process. Nothing is
 * written to the object itself: a paused object is left exactly as it is.
 */
import type { Logger } from '../base/logger.ts';
import type { Stored } from '../client/types.ts';
import type { Recorder } from '../handlers/recorder.ts';
import { pauseKey } from '../state/pause.ts';

/**
 * The objects seen paused, by uid.
 *
 * @example
 * ```ts
 * const pauses = new PauseNotes(recorder, 'operon.dev');
 * pauses.note(body, isPaused(body), logger); // an Event when the state changed
 * ```
 */
export class PauseNotes {
  readonly #recorder: Recorder;
  readonly #key: string;
  readonly #paused = new Set<string>();

  constructor(recorder: Recorder, prefix: string) {
    this.#recorder = recorder;
    this.#key = pauseKey(prefix);
  }

  /** Records whether `body` is paused now; posts `Paused` or `Resumed` when that changed. */
  note(body: Stored, paused: boolean, logger: Logger): void {
    const uid = body.metadata.uid;
    if (paused === this.#paused.has(uid)) return;
    const key = this.#key;
    if (paused) {
      this.#paused.add(uid);
      logger.info({ annotation: key }, 'paused: no handler runs until the annotation is removed');
      this.#recorder.info(body, 'Paused', `handling is paused by the annotation ${key}; remove it to resume (the finalizer stays, so a deletion waits)`);
    } else {
      this.#paused.delete(uid);
      logger.info({ annotation: key }, 'resumed: the pause annotation is gone');
      this.#recorder.info(body, 'Resumed', `handling resumed: the annotation ${key} is gone`);
    }
  }

  /** Forgets a deleted object. */
  forget(uid: string): void {
    this.#paused.delete(uid);
  }
}
