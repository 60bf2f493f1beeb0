/**
 * What sharding reports, as hooks: the server's Prometheus registry implements them
 * (`Metrics.shardingMetrics`), and a test can count with plain functions.
 */

/** Hooks for sharding metrics. */
export interface ShardingMetrics {
  /** Main objects per shard (`''` for unassigned), counted every retry period. */
  objects(counts: ReadonlyMap<string, number>): void;
  /** One label write of the sharder: `assign`, `drain` or `move`. */
  placed(kind: 'assign' | 'drain' | 'move'): void;
  /** A drain acknowledged, this many seconds after the drain label was written. */
  drained(seconds: number): void;
}

