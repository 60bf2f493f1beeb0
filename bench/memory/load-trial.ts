/**
 * The independent load trial of the per-object-cost issue, repeated: the CVC operator run from its
 * `.ts` sources (as the image `operon init` writes runs a user's operator) with a health server,
 * watching all namespaces; its resident memory with no objects, once it has valued N CVCs, and
 * after a price change re-valued a quarter of them (one coin of four). Figures in
 * docs/performance.md ("Idle: the TypeScript stripper").
 *
 *   node_modules/.bin/tsc -p tsconfig.image.json --outDir dist
 *   node bench/memory/load-trial.ts --plane /work/plane-bench --n 5000 [--runs 2] [--program source|operator]
 *
 * Each run alternates the two arms: Node's compile cache as `operon run` turns it on (filled by a
 * start before the run) and `NODE_DISABLE_COMPILE_CACHE=1`. VmRSS with no objects is read once the
 * operator's CPU time has stopped moving (three 2 s samples under 20 ms each); with objects, two
 * refresh intervals (20 s each) after every value was right. The plane must hold no other CVCs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminApi } from '../harness/api.ts';
import { applyCrd, cleanUp, createNamespace } from '../harness/cluster.ts';
import { IMAGE_NODE_FLAGS } from '../harness/contenders.ts';
import { createCvcs, CvcTracker } from '../harness/cvcs.ts';
import { up } from '../../src/cluster/plane.ts';
import { CoinGeckoServer, SAMPLE_PRICES } from '../../operators/crypto/price/server.ts';
import { quietRssMiB, rssMiB } from './quiet.ts';

const { values } = parseArgs({
  options: {
    plane: { type: 'string' },
    n: { type: 'string', default: '5000' },
    runs: { type: 'string', default: '2' },
    program: { type: 'string', default: 'source' },
  },
});
if (!values.plane) throw new Error('--plane <control-plane folder> is required');
if (values.program !== 'source' && values.program !== 'operator') throw new Error(`--program ${values.program}: source or operator`);
const repo = resolve('.');
const n = Number(values.n);
const refreshSeconds = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * VmRSS two refresh intervals after the values became right. With N objects the operator is never
 * quiet (every CVC's timer ticks once an interval), so both arms wait the same fixed time instead.
 */
async function settledRss(child: ChildProcess): Promise<number> {
  await sleep(2 * refreshSeconds * 1000);
  if (child.exitCode !== null) throw new Error(`the operator exited with ${child.exitCode}`);
  return rssMiB(child.pid ?? 0);
}

const plane = await up({ dir: values.plane, log: () => {} });
const api = new AdminApi(plane);
await applyCrd(api, repo);
const server = await CoinGeckoServer.start();
const operator = values.program === 'source' ? join(repo, 'operators/crypto/operator.ts') : join(repo, 'dist/operators/crypto/operator.js');

function start(arm: 'cache' | 'no cache'): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: join(values.plane ?? '', 'admin.kubeconfig'), COINGECKO_BASE_URL: server.baseUrl, CVC_REFRESH_SECONDS: String(refreshSeconds), NODE_ENV: 'production' };
  delete env['NODE_OPTIONS'];
  delete env['NODE_COMPILE_CACHE'];
  if (arm === 'no cache') env['NODE_DISABLE_COMPILE_CACHE'] = '1';
  else delete env['NODE_DISABLE_COMPILE_CACHE'];
  const log = openSync(join(tmpdir(), `load-trial-${arm.replace(' ', '-')}.log`), 'w');
  return spawn(process.execPath, [...IMAGE_NODE_FLAGS, join(repo, 'dist/src/cli/main.js'), 'run', operator, '-A', '--health-address', '127.0.0.1:0'], { cwd: repo, env, stdio: ['ignore', log, log] });
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
}

// A start that fills the compile cache, so the cache arm measures a start that hits it.
const warm = start('cache');
await quietRssMiB(warm);
await stop(warm);

for (let run = 1; run <= Number(values.runs); run++) {
  for (const arm of run % 2 === 1 ? (['cache', 'no cache'] as const) : (['no cache', 'cache'] as const)) {
    const namespace = `load-trial-${Date.now()}`;
    for (const [coin, price] of Object.entries(SAMPLE_PRICES)) server.setPrice(coin, price);
    const child = start(arm);
    const idle = await quietRssMiB(child);
    await createNamespace(api, namespace);
    const tracker = new CvcTracker(api, namespace, new Map(Object.entries(SAMPLE_PRICES)));
    await tracker.start();
    await createCvcs(api, namespace, n, 32);
    if (!(await tracker.allCorrect(n, 300_000))) throw new Error(`${arm}: not every CVC valued: ${JSON.stringify(tracker.wrong())}`);
    const valued = await settledRss(child);
    const bitcoin = String(Number(SAMPLE_PRICES['bitcoin']) * 1.05);
    server.setPrice('bitcoin', bitcoin);
    const changed = tracker.setPrices(new Map([...Object.entries(SAMPLE_PRICES), ['bitcoin', bitcoin]]));
    if (!(await tracker.allCorrect(n, (refreshSeconds * 3 + 120) * 1000))) throw new Error(`${arm}: the price change was not applied: ${JSON.stringify(tracker.wrong())}`);
    const revalued = await settledRss(child);
    console.log(`run ${run}, ${arm}: idle ${idle.toFixed(1)} MiB; ${n} valued ${valued.toFixed(1)} MiB (${(((valued - idle) * 1024) / n).toFixed(1)} KiB per object); ${changed} re-valued ${revalued.toFixed(1)} MiB`);
    await stop(child);
    await tracker.stop();
    await cleanUp(api, namespace, () => {});
  }
}
await server.close();
api.close();
