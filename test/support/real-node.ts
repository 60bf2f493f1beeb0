/**
 * Whether the real-node tests run, decided from what `up` recorded about the real node — so they
 * are never skipped silently:
 * - running: the tests run;
 * - unsupported (the machine failed the preflight, or OPERON_REAL_NODE=0): the designed outcome on
 *   such a machine; a test asserts that the plane says why;
 * - broken (the machine passes the preflight but the node did not start, was interrupted, or the
 *   plane predates the real node): a failure with the reason.
 */
import { isRealNode, preflight, type RealNode } from '../../src/cluster/node.ts';
import type { Cluster } from './cluster.ts';

export type RealNodeGate = { kind: 'running'; node: RealNode } | { kind: 'unsupported'; reason: string } | { kind: 'broken'; reason: string };

export function realNodeGate(cluster: Cluster): RealNodeGate {
  const recorded = cluster.state.realNode;
  if (recorded === undefined) {
    const machine = preflight();
    if (!machine.ok) return { kind: 'unsupported', reason: machine.reason };
    return {
      kind: 'broken',
      reason: `the plane in ${cluster.state.dir} was started without the real node, yet this machine passes its preflight: restart the plane (node controlplane/cli.ts down; node controlplane/cli.ts up)`,
    };
  }
  if (isRealNode(recorded)) {
    if (recorded.status === 'running') return { kind: 'running', node: recorded };
    return { kind: 'broken', reason: `the real node's start was interrupted (state "${recorded.status}"); restart the plane` };
  }
  if (recorded.status === 'unsupported') return { kind: 'unsupported', reason: recorded.reason };
  return { kind: 'broken', reason: recorded.reason };
}
