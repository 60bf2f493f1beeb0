/**
 * Resident memory of the compiled CVC operator as the image runs it, against a running control
 * plane: one process per run, VmRSS read from /proc once it is quiet. Figures in
 * docs/performance.md ("Idle memory and per-object cost").
 *
 *   node_modules/.bin/tsc -p tsconfig.image.json --outDir dist
 *   node bench/memory/operator-rss.ts --plane /work/plane-bench --runs 5 [--repo <checkout>] [--json-kubeconfig] [-- <node flags>]
 *
 * The operator watches all namespaces (`-A`): with no CVC anywhere this is its idle memory; with N
 * CVCs already valued it is its memory with N objects cached, read once its CPU time stopped
 * moving (three 2 s samples under 20 ms each) and 15 s after start at the earliest. A local
 * CoinGecko serves the prices. Node flags after `--` go after the image's own (V8 takes the
 * last of a flag given twice).
 *
 * `--program floor` runs `floor.mjs` instead, the least a Node program can hold doing the same idle
 * work (one TLS agent, a list and watch of CVCs, a Lease renewed every 10 s), with the same flags:
 * what no operator on Node gets under. It needs `--json-kubeconfig`.
 *
 * `--program source` runs the operator's `.ts` sources with the compiled framework, as the image
 * `operon init` writes does (Node strips the types of the operator's own files).
 *
 * `--json-kubeconfig` hands the operator the plane's kubeconfig converted to JSON, so it loads no
 * YAML parser, as in a pod (which reads the ServiceAccount's files, no kubeconfig); without it the
 * figure includes the `yaml` package (1.5 MiB), as on a developer's machine.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { CoinGeckoServer } from '../../operators/crypto/price/server.ts';
import { IMAGE_NODE_FLAGS } from '../harness/contenders.ts';
import { quietRssMiB } from './quiet.ts';

const { values, positionals } = parseArgs({
  options: {
    plane: { type: 'string' },
    runs: { type: 'string', default: '3' },
    repo: { type: 'string', default: '.' },
    'json-kubeconfig': { type: 'boolean', default: false },
    program: { type: 'string', default: 'operator' },
  },
  allowPositionals: true,
});
if (!values.plane) throw new Error('--plane <control-plane folder> is required (the folder `controlplane/cli.ts up` printed the kubeconfig of)');
if (!['operator', 'source', 'floor'].includes(values.program)) throw new Error(`--program ${values.program}: operator, source or floor`);
if (values.program === 'floor' && !values['json-kubeconfig']) throw new Error('--program floor reads a JSON kubeconfig only: add --json-kubeconfig');
const repo = resolve(values.repo);
const planeKubeconfig = join(values.plane, 'admin.kubeconfig');
const jsonDir = values['json-kubeconfig'] ? mkdtempSync(join(tmpdir(), 'operator-rss-')) : undefined;
const kubeconfig = jsonDir ? join(jsonDir, 'kubeconfig.json') : planeKubeconfig;
if (jsonDir) writeFileSync(kubeconfig, JSON.stringify(parseYaml(readFileSync(planeKubeconfig, 'utf8'))));

const server = await CoinGeckoServer.start();
const results: number[] = [];
for (let run = 0; run < Number(values.runs); run++) {
  const operator = values.program === 'source' ? join(repo, 'operators/crypto/operator.ts') : join(repo, 'dist/operators/crypto/operator.js');
  const program = values.program === 'floor' ? [join(import.meta.dirname, 'floor.mjs')] : [join(repo, 'dist/src/cli/main.js'), 'run', operator, '-A'];
  const child = spawn(process.execPath, [...IMAGE_NODE_FLAGS, ...positionals, ...program], {
    cwd: repo,
    env: { ...process.env, KUBECONFIG: kubeconfig, COINGECKO_BASE_URL: server.baseUrl, CVC_REFRESH_SECONDS: '3600' },
    stdio: 'ignore',
  });
  results.push(await quietRssMiB(child, 15_000));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}
await server.close();
if (jsonDir) rmSync(jsonDir, { recursive: true, force: true });
const sorted = [...results].sort((a, b) => a - b);
console.log(`VmRSS MiB: ${results.map((r) => r.toFixed(1)).join(', ')}; median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)}`);
