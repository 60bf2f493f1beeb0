/**
 * `operon cluster up | status | env | restart <component> | down | reset`: the local control plane
 * (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok; src/cluster/plane.ts) from
 * the package's own recipe. State lives in the project (`.operon/cluster`) or in
 * `$XDG_CACHE_HOME/operon/cluster`; binaries are built once into `~/.cache/operon`.
 *
 * Guarantees: `up` never deletes anything (a plane with components down gets only those started
 * again, on the recorded ports and data); `down` and `reset` are the only commands that delete, and
 * say so in the help.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeRealNode } from '../cluster/node.ts';
import { COMPONENT_NAMES, defaultStateDir, down, readState, restart, status, up } from '../cluster/plane.ts';
import { CliError } from './load.ts';
import type { ClusterCommand } from './options.ts';


/** True when a plane's binaries can be had: cached already, or Go is there to build them. */
function checkPrerequisites(): void {
  if (readState(defaultStateDir) !== undefined) return;
  const missing = ['go', 'openssl'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  // A cached build needs no Go (build.sh prints the folder and stops), so only a cold cache fails.
  const cache = join(process.env['OPERON_CACHE'] ?? join(process.env['HOME'] ?? '/', '.cache', 'operon'), 'controlplane');
  const needsGo = missing.includes('go') && !existsSync(cache);
  const blocking = missing.filter((m) => m !== 'go' || needsGo);
  if (blocking.length > 0) {
    throw new CliError(`operon cluster up needs ${blocking.join(' and ')} (Go >= 1.26 builds Kubernetes once into ~/.cache/operon); without them, point KUBECONFIG at any cluster (kind, k3d, a real one)`, 2);
  }
}

/** Runs `operon cluster <action>`; returns the exit code. */
export async function clusterCommand(cmd: ClusterCommand): Promise<number> {
  const log = cmd.quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  const dir = defaultStateDir;
  switch (cmd.action) {
    case 'up':
      checkPrerequisites();
      console.log((await up({ dir, log })).kubeconfig);
      return 0;
    case 'reset':
      await down({ dir, log });
      checkPrerequisites();
      console.log((await up({ dir, log })).kubeconfig);
      return 0;
    case 'down':
      await down({ dir, log });
      return 0;
    case 'restart':
      if (cmd.component === undefined) throw new CliError(`cluster restart needs a component: ${COMPONENT_NAMES.join(', ')}`, 2);
      try {
        console.log((await restart(cmd.component, { dir, log })).kubeconfig);
      } catch (err) {
        if (err instanceof Error && /^(unknown component|no control plane)/.test(err.message)) throw new CliError(err.message, 2);
        throw err;
      }
      return 0;
    case 'status': {
      const s = await status(dir);
      if (!s.state) {
        console.log(`cluster: not started in ${dir} (run: operon cluster up)`);
        return 1;
      }
      console.log(`server:     ${s.state.server}\nkubeconfig: ${s.state.kubeconfig}\nstate:      ${dir}\nstarted:    ${s.state.startedAt}`);
      for (const [name, ok] of Object.entries(s.components)) console.log(`${ok ? 'ok  ' : 'DOWN'} ${name}`);
      console.log(describeRealNode(s.state.realNode));
      return s.healthy ? 0 : 1;
    }
    case 'env': {
      const state = readState(dir);
      if (!state) throw new CliError(`cluster: not started in ${dir} (run: operon cluster up)`, 1);
      console.log(`export KUBECONFIG='${state.kubeconfig}'`);
      console.log(`export PATH='${state.binDir}':"$PATH"`);
      return 0;
    }
  }
}
