/**
 * Hostile input for both reference operators: amounts at the edges of a float64 (1e308, 5e-324,
 * -0, more digits than a double holds), texts a Pod cannot carry or a terminal may choke on (a
 * NUL, lone surrogates, 16 KiB of emoji), and objects with 1,000 annotations. Every object is sent
 * as raw JSON, so the API server sees exactly these bytes.
 *
 * Each case states the one outcome a user should get, and the scenario checks it: the API server
 * refuses the object (HTTP 4xx naming the field), the operator gives it a named condition
 * (`Ready=False`, reason `InvalidAmount`), the operator writes the exact value of what was stored,
 * or the Printer's one Pod prints and its status follows. Neither operator may exit.
 */
import { expectedValue, GROUP_PATH, type CvcSpec } from '../../bench/harness/cvcs.ts';
import { pricesOf } from '../../bench/harness/cluster.ts';
import { PRINTER_GROUP_PATH } from '../../bench/harness/printers.ts';
import { SAMPLE_PRICES } from '../../operators/crypto/price/server.ts';
import { SUMMARY_MAX_LENGTH, TEXT_MAX_LENGTH } from '../../operators/printer/resource.ts';
import { seconds, sleep, type Scenario } from './scenario.ts';
import { check } from './session.ts';
import { inSession } from './session.ts';

type Expect = 'refused' | 'condition' | 'value' | 'printed';

interface Case {
  name: string;
  kind: 'cvc' | 'printer';
  /** What is sent, in words. */
  what: string;
  /** The object's JSON text, byte for byte. */
  body: string;
  expect: Expect;
  /** The refusal's message, or the condition's reason, must match this. */
  matches?: RegExp;
}

/** What became of a case. */
interface Outcome {
  kind: Expect | 'pending';
  detail: string;
}

const EMOJI = '\u{1F600}'; // 4 bytes in UTF-8, 2 UTF-16 units

function annotations(count: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < count; i++) out[`chaos.operon.dev/a-${String(i).padStart(4, '0')}`] = 'v'.repeat(100);
  return out;
}

function cvc(name: string, amount: string, extra: Record<string, unknown> = {}): string {
  return `{"apiVersion":"crypto.tools/v1","kind":"CryptoValueCalculator","metadata":${JSON.stringify({ name, ...extra })},"spec":{"coin":"bitcoin","amount":${amount}}}`;
}

function printer(name: string, textJson: string, extra: Record<string, unknown> = {}): string {
  return `{"apiVersion":"operon.dev/v1","kind":"Printer","metadata":${JSON.stringify({ name, ...extra })},"spec":{"text":${textJson}}}`;
}

/** The cases, in the order they are sent. */
export function badInputCases(): Case[] {
  return [
    { name: 'amount-1e308', kind: 'cvc', what: 'amount 1e308', body: cvc('amount-1e308', '1e308'), expect: 'condition', matches: /^InvalidAmount: / },
    { name: 'amount-5e-324', kind: 'cvc', what: 'amount 5e-324 (the smallest double)', body: cvc('amount-5e-324', '5e-324'), expect: 'value' },
    { name: 'amount-minus-0', kind: 'cvc', what: 'amount -0', body: cvc('amount-minus-0', '-0'), expect: 'value' },
    { name: 'amount-long', kind: 'cvc', what: 'amount 0.1000000000000000055511151231257827021181583404541015625 (more digits than a double)', body: cvc('amount-long', '0.1000000000000000055511151231257827021181583404541015625'), expect: 'value' },
    { name: 'amount-1e400', kind: 'cvc', what: 'amount 1e400 (beyond a double)', body: cvc('amount-1e400', '1e400'), expect: 'refused', matches: /amount|1e400|range/i },
    { name: 'amount-negative', kind: 'cvc', what: 'amount -1', body: cvc('amount-negative', '-1'), expect: 'refused', matches: /spec\.amount/ },
    { name: 'amount-text', kind: 'cvc', what: 'amount "12" (a string)', body: cvc('amount-text', '"12"'), expect: 'refused', matches: /spec\.amount/ },
    { name: 'cvc-1000-annotations', kind: 'cvc', what: 'amount 1.5 with 1,000 annotations (130 KB)', body: cvc('cvc-1000-annotations', '1.5', { annotations: annotations(1_000) }), expect: 'value' },
    { name: 'cvc-plain', kind: 'cvc', what: 'amount 0.25 beside them (nothing wrong)', body: cvc('cvc-plain', '0.25'), expect: 'value' },
    { name: 'text-nul', kind: 'printer', what: 'text with a NUL', body: printer('text-nul', JSON.stringify('before\u0000after')), expect: 'refused', matches: /spec\.text/ },
    { name: 'text-lone-surrogates', kind: 'printer', what: 'text with lone surrogates (\\ud800, \\udfff)', body: printer('text-lone-surrogates', '"lone \\ud800 and \\udfff here"'), expect: 'printed' },
    { name: 'text-emoji-16k', kind: 'printer', what: `${TEXT_MAX_LENGTH} emoji (16 KiB of UTF-8, the longest text allowed)`, body: printer('text-emoji-16k', JSON.stringify(EMOJI.repeat(TEXT_MAX_LENGTH))), expect: 'printed' },
    { name: 'text-emoji-over', kind: 'printer', what: `${TEXT_MAX_LENGTH + 1} emoji (one too many)`, body: printer('text-emoji-over', JSON.stringify(EMOJI.repeat(TEXT_MAX_LENGTH + 1))), expect: 'refused', matches: /spec\.text/ },
    { name: 'printer-1000-annotations', kind: 'printer', what: 'a Printer with 1,000 annotations', body: printer('printer-1000-annotations', '"annotated"', { annotations: annotations(1_000) }), expect: 'printed' },
  ];
}

interface CvcObject {
  spec?: CvcSpec;
  status?: { value?: string; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}

interface PrinterObject {
  metadata: { uid: string };
  status?: { phase?: string; summary?: string };
}

interface PodList {
  items: Array<{ metadata: { name: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> }; status?: { phase?: string } }>;
}

const FINISHED = new Set(['Succeeded', 'Failed']);

export const badInput: Scenario = {
  name: 'bad-input',
  title: 'hostile amounts, texts and annotations: each refused, named or valued exactly; no crash',
  run: (ctx) =>
    inSession(ctx, 'bad-input', badInput.title, async (s) => {
      const prices = pricesOf(ctx.prices, new Map(), { ...SAMPLE_PRICES });
      const cvcs = await s.operator('operators/crypto/operator.ts', { env: { COINGECKO_BASE_URL: ctx.prices.baseUrl, CVC_REFRESH_SECONDS: String(ctx.sizes.refreshSeconds) }, label: 'cvc' });
      const printers = await s.operator('operators/printer/operator.ts', { env: { PRINTER_NODE_SELECTOR: '', PRINTER_TOLERATIONS: '' }, label: 'printer' });
      for (const op of [cvcs.operator, printers.operator]) if (!(await op.ready())) throw new Error(`an operator did not become ready; see ${op.options.logFile}`);
      const rssBeforeMiB = cvcs.operator.rssMiB();
      const cases = badInputCases();
      const outcomes = new Map<string, Outcome>();
      const collection = (c: Case): string => (c.kind === 'cvc' ? `${GROUP_PATH}/namespaces/${s.namespace}/cryptovaluecalculators` : `${PRINTER_GROUP_PATH}/namespaces/${s.namespace}/printers`);
      for (const c of cases) {
        const res = await ctx.api.request('POST', collection(c), c.body);
        if (res.status !== 201) {
          let message = res.text;
          try {
            message = (JSON.parse(res.text) as { message?: string }).message ?? res.text;
          } catch {
            // not a Status
          }
          outcomes.set(c.name, { kind: 'refused', detail: `HTTP ${res.status}: ${message.slice(0, 300)}` });
        }
      }
      const sent = performance.now();

      const look = async (c: Case): Promise<Outcome> => {
        const res = await ctx.api.request('GET', `${collection(c)}/${c.name}`);
        if (res.status !== 200) return { kind: 'pending', detail: `GET: HTTP ${res.status}` };
        if (c.kind === 'cvc') {
          const o = JSON.parse(res.text) as CvcObject;
          const ready = o.status?.conditions?.find((x) => x.type === 'Ready');
          if (ready?.status === 'False' && ready.reason) return { kind: 'condition', detail: `${ready.reason}: ${ready.message ?? ''}` };
          let expected: string | undefined;
          try {
            expected = o.spec ? expectedValue(o.spec, prices) : undefined;
          } catch (err) {
            return { kind: 'pending', detail: `the harness cannot value the stored spec ${JSON.stringify(o.spec)}: ${(err as Error).message}` };
          }
          if (o.status?.value !== undefined && o.status.value === expected) return { kind: 'value', detail: `${o.status.value} (stored amount ${String(o.spec?.amount)})` };
          return { kind: 'pending', detail: `value ${o.status?.value ?? 'none'}, expected ${expected ?? '?'}` };
        }
        const p = JSON.parse(res.text) as PrinterObject;
        const pods = await ctx.api.json<PodList>('GET', `/api/v1/namespaces/${s.namespace}/pods`);
        const own = pods.items.filter((pod) => pod.metadata.ownerReferences?.some((r) => r.controller && r.uid === p.metadata.uid));
        const phase = own[0]?.status?.phase;
        const summary = p.status?.summary ?? '';
        if (own.length === 1 && FINISHED.has(phase ?? '') && p.status?.phase === phase) {
          return { kind: 'printed', detail: `one Pod, ${phase}; summary ${JSON.stringify(summary)} (${[...summary].length} characters)` };
        }
        return { kind: 'pending', detail: `${own.length} Pods, Pod phase ${phase ?? '-'}, status.phase ${p.status?.phase ?? '-'}` };
      };

      let convergeSeconds: number | null = null;
      while (performance.now() - sent < ctx.sizes.convergeTimeoutMs) {
        for (const c of cases) {
          const now = outcomes.get(c.name);
          if (now && now.kind !== 'pending') continue;
          outcomes.set(c.name, await look(c));
        }
        if (cases.every((c) => outcomes.get(c.name)?.kind === c.expect)) {
          convergeSeconds = seconds(performance.now() - sent);
          break;
        }
        await sleep(500);
      }
      const wrong = cases.filter((c) => {
        const o = outcomes.get(c.name);
        return o?.kind !== c.expect || (c.matches !== undefined && !c.matches.test(o.detail));
      });
      const summaries = cases.filter((c) => c.kind === 'printer' && outcomes.get(c.name)?.kind === 'printed');
      const checks = cases.map((c) => {
        const o = outcomes.get(c.name);
        const ok = o?.kind === c.expect && (c.matches === undefined || c.matches.test(o.detail));
        return check(`${c.what}: ${c.expect === 'refused' ? 'refused by the API server, naming the field' : c.expect === 'condition' ? 'a named condition (Ready=False, InvalidAmount)' : c.expect === 'value' ? 'its exact value' : 'printed by its one Pod, status following it'}`, ok, o ? `${o.kind}: ${o.detail}` : 'nothing');
      });
      checks.push(
        check(`no operator exited (${[cvcs.operator, printers.operator].map((op) => op.exits.length).join(' + ')} exits)`, cvcs.operator.exits.length === 0 && printers.operator.exits.length === 0, [...cvcs.operator.exits, ...printers.operator.exits]),
        check(`every summary fits the ${SUMMARY_MAX_LENGTH}-character column`, summaries.every((c) => /\((\d+) characters\)/.exec(outcomes.get(c.name)?.detail ?? '')?.[1] !== undefined && Number(/\((\d+) characters\)/.exec(outcomes.get(c.name)?.detail ?? '')?.[1]) <= SUMMARY_MAX_LENGTH)),
      );
      return {
        faults: [`${cases.length} objects as raw JSON: ${cases.map((c) => c.what).join('; ')}`],
        objects: cases.length,
        convergeSeconds,
        lost: wrong.length,
        rssBeforeMiB,
        checks,
        extra: { outcomes: Object.fromEntries(cases.map((c) => [c.name, outcomes.get(c.name)])) },
      };
    }),
};
