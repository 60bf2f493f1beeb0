/**
 * The demo. Today: the local control plane, and what it serves. It grows with the reference
 * operators (Printer, CryptoValueCalculator).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { up } from '../controlplane/src/plane.ts';

const plane = await up();
const kubectl = join(plane.binDir, 'kubectl');
const env = { ...process.env, KUBECONFIG: plane.kubeconfig };
const show = (args: string[]): void => {
  console.log(`\n$ kubectl ${args.join(' ')}`);
  console.log(execFileSync(kubectl, args, { env, encoding: 'utf8' }).trimEnd());
};
show(['version']);
show(['get', 'nodes,namespaces']);
console.log(`\nThe control plane keeps running. Use it with:\n  eval "$(node controlplane/cli.ts env)"   # KUBECONFIG and a matching kubectl\nStop it with:\n  node controlplane/cli.ts down`);
