/**
 * What the runtime remembers about objects in this process, beyond what is on the objects
 * themselves: the part of {@link ObjectMemory} the planner reads, and which warnings were given.
 * Lost on restart by design: resume handlers run again once per process, as in kopf.
 */
import type { Logger } from '../base/logger.ts';
import { defaults } from '../defaults.ts';
import type { ObjectMemory } from '../lifecycle/plan.ts';

/** Unheld deletions remembered at most; the oldest go first. Bounds memory under churn. */
const MAX_UNHELD = 10_000;

/**
 * The in-process memory of one resource's objects, by uid.
 *
 * @example
 * ```ts
 * const memory = new ObjectMemories();
 * plan(planner, body, memory.of(uid, tasks.daemonsRunning(uid)), now);
 * ```
 */
export class ObjectMemories {
  /** Objects whose resume handlers are done, or that were created, in this process. */
  readonly #resumed = new Set<string>();
  /** Objects deleted without our finalizer whose optional delete handlers already ran. */
  readonly #deletedUnheld = new Set<string>();
  /** Objects already warned about a diff base too large for its annotation. */
  readonly #hashedWarned = new Set<string>();

  /** What the planner reads about `uid`. */
  of(uid: string, daemonsRunning: number): ObjectMemory {
    return { resumed: this.#resumed.has(uid), optionalDeleteRan: this.#deletedUnheld.has(uid), daemonsRunning };
  }

  /** `uid` needs no resuming in this process (resumed, or created under it). */
  resumed(uid: string): void {
    this.#resumed.add(uid);
  }

  /** `uid`'s deletion was handled: remember an unheld one, so its optional handlers run once. */
  deletionHandled(uid: string, held: boolean): void {
    this.#resumed.delete(uid);
    if (held) return;
    this.#deletedUnheld.add(uid);
    // A Set iterates in insertion order: the oldest entry goes first.
    if (this.#deletedUnheld.size > MAX_UNHELD) this.#deletedUnheld.delete(this.#deletedUnheld.values().next().value as string);
  }

  /** Warns, once per object, that its diff base had to be stored as hashes. */
  warnHashed(uid: string, logger: Logger): void {
    if (this.#hashedWarned.has(uid)) return;
    this.#hashedWarned.add(uid);
    logger.warn(
      { annotationBudgetBytes: defaults.state.annotationBudgetBytes },
      'the object is too large to keep its last handled state in an annotation; storing hashes instead, so update handlers get a coarse diff without old values',
    );
  }

  /** Forgets an object that is gone (its unheld-deletion record stays: the watch may replay it). */
  forget(uid: string): void {
    this.#resumed.delete(uid);
    this.#hashedWarned.delete(uid);
  }
}
