#!/usr/bin/env node
/**
 * The local control plane's command line.
 *
 *   node controlplane/cli.ts up [--quiet]   build if needed, start (or reuse), print the kubeconfig path;
 *                                           components that are down start again on their recorded ports and data
 *   node controlplane/cli.ts status         each component's health; exit 1 when not healthy
 *   node controlplane/cli.ts env            shell lines: export KUBECONFIG=…; PATH with the matching kubectl
 *   node controlplane/cli.ts restart <c>    stop one component and start it again (etcd, kube-apiserver, …)
 *   node controlplane/cli.ts down           stop the plane and DELETE its state (etcd data included)
 *   node controlplane/cli.ts reset          down, then up: an empty plane on new ports
 *
 * OPERON_CONTROLPLANE_DIR chooses the state folder (default: .cache/controlplane in the checkout).
 * OPERON_REAL_NODE=0 leaves the real node out, =1 makes `up` fail without it (docs/real-node.md).
 */
import { describeRealNode } from './src/node.ts';
import { COMPONENT_NAMES, down, readState, restart, status, up } from './src/plane.ts';

const [command = 'help', ...rest] = process.argv.slice(2);
const quiet = rest.includes('--quiet');
const log = quiet ? () => {} : (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  switch (command) {
    case 'up': {
      const state = await up({ log });
      console.log(state.kubeconfig);
      return 0;
    }
    case 'down':
      await down({ log });
      return 0;
    case 'reset': {
      await down({ log });
      console.log((await up({ log })).kubeconfig);
      return 0;
    }
    case 'restart': {
      const component = rest.find((a) => !a.startsWith('--'));
      if (!component) {
        console.error(`restart needs a component: ${COMPONENT_NAMES.join(', ')}`);
        return 2;
      }
      console.log((await restart(component, { log })).kubeconfig);
      return 0;
    }
    case 'status': {
      const s = await status();
      if (!s.state) {
        console.log('control plane: not started (run: node controlplane/cli.ts up)');
        return 1;
      }
      console.log(`server:     ${s.state.server}\nkubeconfig: ${s.state.kubeconfig}\nstarted:    ${s.state.startedAt}`);
      for (const [name, ok] of Object.entries(s.components)) console.log(`${ok ? 'ok  ' : 'DOWN'} ${name}`);
      console.log(describeRealNode(s.state.realNode));
      return s.healthy ? 0 : 1;
    }
    case 'env': {
      const state = readState();
      if (!state) {
        console.error('control plane: not started (run: node controlplane/cli.ts up)');
        return 1;
      }
      console.log(`export KUBECONFIG='${state.kubeconfig}'`);
      console.log(`export PATH='${state.binDir}':"$PATH"`);
      return 0;
    }
    default:
      console.error(
        [
          'usage: node controlplane/cli.ts <command>',
          '  up [--quiet]         start the plane, or start again what is down (same ports, same data)',
          '  status               health of each component; exit 1 when not healthy',
          '  env                  shell lines: export KUBECONFIG=…; PATH with the matching kubectl',
          `  restart <component>  stop and start one of: ${COMPONENT_NAMES.join(', ')}`,
          '  down                 stop the plane and delete its state, etcd data included',
          '  reset                down, then up: an empty plane',
        ].join('\n'),
      );
      return command === 'help' ? 0 : 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
