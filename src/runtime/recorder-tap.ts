/**
 * The recorder handlers post Events through, with a tap that lets callers observe every Event
 * (`operator.observeEvents`, the testing kit's `run.events`). A tap is an observer: its failure
 * never reaches a handler.
 */
import type { KubeObject } from '../client/types.ts';
import { messageOf } from '../handlers/execution.ts';
import type { Recorder } from '../handlers/recorder.ts';
import type { EventRecorder } from '../kits/events.ts';
import type { PostedEvent } from './operator-options.ts';

/**
 * A recorder that posts through `events` and shows each Event to `tap` first.
 *
 * @example
 * ```ts
 * const recorder = tapRecorder(events, (event) => seen.push(event));
 * ```
 */
export function tapRecorder(events: EventRecorder, tap: (event: PostedEvent) => void): Recorder {
  const seen = (object: KubeObject, type: PostedEvent['type'], reason: string, message: string): void => {
    try {
      tap({ object, type, reason, message });
    } catch {
      // A tap is an observer; its failure must not reach a handler.
    }
  };
  return {
    info(object, reason, message) {
      seen(object, 'Normal', reason, message);
      events.info(object, reason, message);
    },
    warn(object, reason, message) {
      seen(object, 'Warning', reason, message);
      events.warn(object, reason, message);
    },
    exception(object, reason, error) {
      seen(object, 'Warning', reason, messageOf(error));
      events.exception(object, error, reason);
    },
  };
}
