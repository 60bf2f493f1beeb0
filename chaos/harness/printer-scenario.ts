/**
 * The Printer operator (operators/printer/operator.ts) under operator SIGKILLs while a share of
 * its Printers is deleted at random moments. Judged by the harness's own watches of Printers and
 * Pods: every remaining Printer has exactly one Pod ever and a status that follows it, no Pod is
 * left that no Printer controls (the garbage collector removes a deleted Printer's Pod, and any
 * Pod a stale cache made for a Printer already gone), and no deleted Printer is stuck.
 */
import { createPrinters, PRINTER_GROUP_PATH, printerName, PrinterTracker } from '../../bench/harness/printers.ts';
import { seconds, sleep, type Scenario } from './scenario.ts';
import { check, inSession, writesTo } from './session.ts';

/** kwok's simulated Node runs the Pods, whatever the harness's environment says. */
const PRINTER_ENV = { PRINTER_NODE_SELECTOR: '', PRINTER_TOLERATIONS: '' };

/** `count` distinct indices below `n`, from a fixed stride: the same "random" share every run. */
function spread(n: number, count: number): number[] {
  const picked = new Set<number>();
  for (let i = 0; picked.size < count; i++) picked.add((i * 7919 + 13) % n);
  return [...picked];
}

export const printerKills: Scenario = {
  name: 'printer-kills',
  title: 'Printers deleted at random while the operator is SIGKILLed again and again',
  run: (ctx) =>
    inSession(ctx, 'printer-kills', printerKills.title, async (s) => {
      const n = ctx.sizes.printers;
      const kills = ctx.sizes.printerKills;
      const tracker = new PrinterTracker(ctx.api, s.namespace, true);
      await tracker.start();
      try {
        const { operator, proxy } = await s.operator('operators/printer/operator.ts', { env: PRINTER_ENV });
        if (!(await operator.ready())) throw new Error(`the operator did not become ready; see ${operator.options.logFile}`);
        const rssBeforeMiB = operator.rssMiB();
        const since = Date.now();
        const doomed = spread(n, Math.min(ctx.sizes.printersDeleted, n));
        const perKill = Math.ceil(doomed.length / kills);
        const creating = createPrinters(ctx.api, s.namespace, n, 16);
        for (let k = 0; k < kills; k++) {
          await sleep(1_500 + ((k * 997) % 1_000));
          await operator.kill();
          for (const i of doomed.slice(k * perKill, (k + 1) * perKill)) {
            await ctx.api.json('DELETE', `${PRINTER_GROUP_PATH}/namespaces/${s.namespace}/printers/${printerName(i)}`, undefined, [200, 202, 404]);
          }
        }
        const created = await creating;
        if (created.failures) throw new Error(`${created.failures} creates failed`);
        const ended = performance.now();
        const left = n - doomed.length;
        // Converged: the deleted Printers gone, every remaining one done, and the garbage collector
        // has removed the Pods of deleted Printers (kwok ends them).
        const settled = (): boolean => tracker.printers.size === left && tracker.done === left && tracker.strayPods === 0;
        while (!settled() && performance.now() - ended < ctx.sizes.convergeTimeoutMs) await sleep(250);
        const done = settled();
        const convergeSeconds = done ? seconds(performance.now() - ended) : null;
        let stuck = 0;
        for (const i of doomed) {
          const res = await ctx.api.request('GET', `${PRINTER_GROUP_PATH}/namespaces/${s.namespace}/printers/${printerName(i)}`);
          if (res.status !== 404) stuck++;
        }
        const lost = left - tracker.done;
        const pods = writesTo(proxy.requests, 'pods', since);
        const podCreates = pods.all.filter((r) => r.method === 'POST');
        return {
          faults: [`${kills} operator SIGKILLs, 1.5–2.5 s apart, during the creation of ${n} Printers; ${doomed.length} Printers deleted, a few right after each kill`],
          objects: n,
          convergeSeconds,
          lost,
          duplicatePods: tracker.extraPodsEver,
          rssBeforeMiB,
          checks: [
            check('converged: every remaining Printer has its Pod and a status that follows it', convergeSeconds !== null, tracker.wrong()),
            check('0 Printers without their finished Pod', lost === 0, tracker.wrong()),
            check('exactly one Pod per Printer, ever (deleted ones included)', tracker.extraPodsEver === 0, tracker.extraPodsEver),
            check('0 orphan Pods (no live Printer controls them)', tracker.strayPods === 0, tracker.strayPods),
            check('0 stuck deletions: every deleted Printer is gone', stuck === 0, stuck),
          ],
          extra: { deleted: doomed.length, remaining: left, podCreatesAnswered201: podCreates.filter((r) => r.status === 201).length, podCreates409: podCreates.filter((r) => r.status === 409).length },
        };
      } finally {
        await tracker.stop();
      }
    }),
};
