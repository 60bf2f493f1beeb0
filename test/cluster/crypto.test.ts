/**
 * The CryptoValueCalculator operator (operators/crypto/operator.ts) end to end: the real API
 * server, the operator in-process, and a local CoinGecko-format server on 127.0.0.1 with a 2 s
 * refresh. Proves: the design document's `kubectl get cvc` numbers; a CVC valued by the document's
 * operator is taken over and its stale annotations removed; the timer follows the price
 * with a Change column; no write when nothing changed; 50 CVCs cost one price request per refresh;
 * 429, 500, a hung request and malformed JSON become PriceStale conditions that clear on recovery;
 * an absurd amount and an unlisted coin get their own conditions while the others are served;
 * a CVC created in v1 reads the same in v2 (converted by the CVC operator's webhook) and back.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import type { Condition } from '../../src/index.ts';
import { startOperator, waitFor } from '../../src/testing/index.ts';
import { CoinGeckoServer, type Fault } from '../../operators/crypto/price/server.ts';
import { CryptoValueCalculator, type CryptoValueCalculatorObject } from '../../operators/crypto/resource.ts';
import { eventually, useCluster } from '../support/cluster.ts';
import { useCvcCrd } from '../support/cvc-crd.ts';
import { freePort } from '../support/processes.ts';

const path = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const REFRESH_SECONDS = 2;

const cluster = await useCluster();
const ns = await cluster.namespace('crypto');
// Both versions, with the plane's conversion webhook (the real CVC operator) answering.
await useCvcCrd(cluster);

const server = await CoinGeckoServer.start();
after(() => server.close());
process.env['COINGECKO_BASE_URL'] = server.baseUrl;
process.env['CVC_REFRESH_SECONDS'] = String(REFRESH_SECONDS);
// The operator reads its configuration when loaded, as `operon run` loads it.
const { default: operator } = await import('../../operators/crypto/operator.ts');

// Stored before the operator's supply webhook existed (it would refuse it now): the operator
// must still serve it, with a condition that says why it has no value.
await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'crypto.tools/v1', kind: 'CryptoValueCalculator', metadata: { name: 'absurd', namespace: ns }, spec: { coin: 'bitcoin', amount: 1e308 } }) });

// The operator serves its webhooks as `operon run` does with OPERON_WEBHOOK_URL, on the shared
// plane as a developer's process on a shared cluster would: the CRD's conversion stays with the
// plane's CVC operator (test/support/cvc-crd.ts), and its supply webhook applies to the
// namespace it serves only, so crypto-admission.test.ts's CVCs are not its to refuse.
const webhookPort = await freePort();
const webhookName = `crypto-${ns}`;
const run = startOperator(await operator.build(), {
  kubeconfig: cluster.kubeconfig,
  namespaces: [ns],
  webhooks: { clientConfig: { url: `https://127.0.0.1:${webhookPort}` }, host: '127.0.0.1', port: webhookPort, name: webhookName, certificates: { secret: { namespace: ns, name: 'crypto-webhook-tls' } }, patchCrds: false },
});
after(async () => {
  await run.stop();
  // Configurations stay on stop (other replicas serve them); this test's replica was the only one.
  await cluster.kubectlResult(['delete', 'validatingwebhookconfiguration', webhookName, '--ignore-not-found']);
});
await run.ready;
const client = run.client;

type Cvc = CryptoValueCalculatorObject;
const condition = (cvc: Cvc | undefined, type: string): Condition | undefined => (cvc?.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

function create(name: string, coin: string, amount: number, labels: Record<string, string> = {}): Promise<unknown> {
  return client.create(CryptoValueCalculator, { apiVersion: CryptoValueCalculator.apiVersion, kind: CryptoValueCalculator.kind, metadata: { name, namespace: ns, labels }, spec: { coin, amount } } as never);
}

function until(name: string, predicate: (cvc: Cvc | undefined) => boolean, what: string, timeoutMs = 20_000): Promise<Cvc | undefined> {
  return waitFor(client, CryptoValueCalculator, name, ns, predicate as never, { timeoutMs, what: `${name}: ${what}` }) as Promise<Cvc | undefined>;
}

describe('the CryptoValueCalculator operator', () => {
  it("shows the design document's values in kubectl get cvc", async () => {
    await cluster.kubectl(['apply', '-n', ns, '-f', path('../../operators/crypto/examples/bitcoin.yaml'), '-f', path('../../operators/crypto/examples/ethereum.yaml')]);
    const btc = await until('bitcoin-stash', (c) => c?.status?.value !== undefined, 'a value');
    await until('lump-of-ethereum', (c) => c?.status?.value !== undefined, 'a value');
    assert.equal(btc?.status?.exactValue, '94.8106');
    assert.equal(btc?.status?.price, '41222');
    assert.equal(condition(btc, 'Ready')?.status, 'True');
    const table = await cluster.kubectl(['get', 'cvc', '-n', ns]);
    assert.match(table, /^NAME\s+COIN\s+AMOUNT\s+VALUE\s+CHANGE\n/);
    assert.match(table, /^bitcoin-stash\s+bitcoin\s+0\.0023\s+\$94\.8106\s*\n/m);
    assert.match(table, /^lump-of-ethereum\s+ethereum\s+1\.47\s+\$4550\.7672\s*\n/m);
  });

  it('converts a CVC created in v1 to v2 and back through the operator, every digit of the amount kept', async () => {
    const v1 = { apiVersion: 'crypto.tools/v1', kind: 'CryptoValueCalculator', metadata: { name: 'versions', namespace: ns }, spec: { coin: 'bitcoin', amount: 0.0023 } };
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(v1) });
    await until('versions', (c) => c?.status?.value !== undefined, 'a value');
    type Read = { apiVersion: string; spec: Record<string, unknown> } & Record<string, unknown>;
    const read = async (version: string): Promise<Read> => JSON.parse(await cluster.kubectl(['get', `cryptovaluecalculators.${version}.crypto.tools`, 'versions', '-n', ns, '-o', 'json'])) as Read;
    const { apiVersion: v1Version, ...asV1 } = await read('v1');
    const { apiVersion: v2Version, spec: v2Spec, ...asV2 } = await read('v2');
    const { apiVersion: backVersion, ...back } = await read('v1');
    assert.deepEqual([v1Version, v2Version, backVersion], ['crypto.tools/v1', 'crypto.tools/v2', 'crypto.tools/v1']);
    assert.deepEqual(v2Spec, { coin: 'bitcoin', amount: '0.0023' });
    assert.equal(JSON.stringify(back), JSON.stringify(asV1), 'v1 read after a v2 read is byte-identical');
    // Where the schemas overlap (everything but the amount's type) v2 is byte-identical to v1.
    const { spec: v1Spec, ...v1Rest } = asV1;
    assert.equal(JSON.stringify(asV2), JSON.stringify(v1Rest));
    assert.equal(v2Spec['coin'], (v1Spec as Record<string, unknown>)['coin']);

    // kubectl get cvc (v2, the preferred version) and the v1 table show the same columns and cells.
    const tableV2 = await cluster.kubectl(['get', 'cryptovaluecalculators.v2.crypto.tools', 'versions', '-n', ns]);
    const tableV1 = await cluster.kubectl(['get', 'cryptovaluecalculators.v1.crypto.tools', 'versions', '-n', ns]);
    assert.equal(tableV2, tableV1);
    assert.match(tableV2, /^NAME\s+COIN\s+AMOUNT\s+VALUE\s+CHANGE\n/);

    // Written in v2 with more digits than a double holds: the operator values every one of them.
    const exact = '0.12345678901234567890123';
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'crypto.tools/v2', kind: 'CryptoValueCalculator', metadata: { name: 'exact', namespace: ns }, spec: { coin: 'bitcoin', amount: exact } }) });
    const stored = JSON.parse(await cluster.kubectl(['get', 'cryptovaluecalculators.v2.crypto.tools', 'exact', '-n', ns, '-o', 'json'])) as { spec: { amount: string } };
    assert.equal(stored.spec.amount, exact);
    const valued = await until('exact', (c) => c?.status?.exactValue !== undefined, 'a value');
    // 41222 × 0.12345678901234567890123, exactly (through a double it would differ after ~17 digits).
    assert.equal(valued?.status?.exactValue, '5089.13575666691357566650306');
  });

  it("takes over a CVC the design document's operator valued, removing its stale annotations", async () => {
    await client.create(CryptoValueCalculator, {
      apiVersion: CryptoValueCalculator.apiVersion,
      kind: CryptoValueCalculator.kind,
      metadata: { name: 'from-kopf', namespace: ns, annotations: { value: '$1.0000', change: '+$0.1000 (+11.11%)', 'example.com/keep': 'yes' } },
      spec: { coin: 'bitcoin', amount: 0.0023 },
    } as never);
    const taken = await until('from-kopf', (c) => c?.metadata.annotations?.['value'] === undefined && c?.status?.value !== undefined, 'the annotations gone and a value');
    assert.equal(taken?.status?.value, '$94.8106');
    assert.equal(taken?.metadata.annotations?.['change'], undefined);
    assert.equal(taken?.metadata.annotations?.['example.com/keep'], 'yes', "others' annotations stay");
    await client.delete(CryptoValueCalculator, 'from-kopf', { namespace: ns });
  });

  it('follows the price on its timer, with the change since the previous value', async () => {
    server.setPrice('bitcoin', '43283.1');
    const moved = await until('bitcoin-stash', (c) => c?.status?.value === '$99.5511', 'the new value');
    assert.equal(moved?.status?.change, '+$4.7405 (+5.00%)');
    assert.deepEqual(moved?.status?.exactChange, { absolute: '4.74053', percent: '5' });
    assert.equal(moved?.status?.exactValue, '99.55113');
    const table = await cluster.kubectl(['get', 'cvc', 'bitcoin-stash', '-n', ns]);
    assert.match(table, /^bitcoin-stash\s+bitcoin\s+0\.0023\s+\$99\.5511\s+\+\$4\.7405 \(\+5\.00%\)\n/m);
  });

  it('writes nothing when the price did not change', async () => {
    const before = await client.get<Cvc>(CryptoValueCalculator, 'bitcoin-stash', { namespace: ns });
    const requests = server.priceRequestCount;
    // Three more requests: at least two full refreshes, each followed by a timer run of every CVC.
    await eventually(() => server.priceRequestCount >= requests + 3, { what: 'three more price requests', timeoutMs: 20_000 });
    const after = await client.get<Cvc>(CryptoValueCalculator, 'bitcoin-stash', { namespace: ns });
    assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, `no write while the price stands still: ${JSON.stringify(before)} ${JSON.stringify(after)}`);
  });

  it('serves 50 CVCs with one price request per refresh', async () => {
    const coins = ['bitcoin', 'ethereum', 'dogecoin', 'shiba-inu'];
    const names = Array.from({ length: 50 }, (_, i) => `fifty-${i}`);
    await Promise.all(names.map((name, i) => create(name, coins[i % 4] as string, i + 1, { batch: 'fifty' })));
    await Promise.all(names.map((name) => until(name, (c) => c?.status?.value !== undefined, 'a value', 30_000)));
    // Every coin moves; the next refresh must carry all 50 to their new values.
    server.requests.length = 0;
    const started = Date.now();
    for (const [coin, price] of [['bitcoin', '50000'], ['ethereum', '4000'], ['dogecoin', '0.2'], ['shiba-inu', '0.00003']] as const) server.setPrice(coin, price);
    await Promise.all(
      names.map((name, i) => {
        const price = { bitcoin: '50000', ethereum: '4000', dogecoin: '0.2', 'shiba-inu': '0.00003' }[coins[i % 4] as string];
        return until(name, (c) => c?.status?.price === price, 'the new price', 30_000);
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const priceRequests = server.requests.filter((r) => r.path === '/api/v3/simple/price');
    assert.ok(priceRequests.length >= 1);
    assert.ok(priceRequests.length <= Math.ceil(seconds / REFRESH_SECONDS) + 1, `${priceRequests.length} requests in ${seconds} s`);
    for (const r of priceRequests) assert.equal(r.query['ids'], 'bitcoin,dogecoin,ethereum,shiba-inu', 'one request carries every coin');
    for (let i = 1; i < priceRequests.length; i++) {
      const gap = (priceRequests[i]?.time ?? 0) - (priceRequests[i - 1]?.time ?? 0);
      assert.ok(gap >= REFRESH_SECONDS * 1000 * 0.75, `requests ${gap} ms apart: one per refresh, not one per CVC`);
    }
    await cluster.kubectl(['delete', 'cvc', '-n', ns, '-l', 'batch=fifty', '--wait=false']);
  });

  for (const [fault, kind] of [
    [{ kind: 'RateLimited', retryAfterSeconds: 1 }, 'RateLimited'],
    [{ kind: 'ServerError' }, 'ServerError'],
    [{ kind: 'Hang' }, 'Timeout'],
    [{ kind: 'Malformed' }, 'Malformed'],
  ] as Array<[Fault, string]>) {
    it(`keeps the last value through a ${fault.kind} answer with PriceStale=${kind}, and recovers`, async () => {
      const before = await client.get<Cvc>(CryptoValueCalculator, 'lump-of-ethereum', { namespace: ns });
      // Two failures in a row: the backoff keeps the price stale for longer than one timer period.
      server.failNext(fault, 2);
      const stale = await until('lump-of-ethereum', (c) => condition(c, 'PriceStale')?.status === 'True', `PriceStale ${kind}`);
      assert.equal(condition(stale, 'PriceStale')?.reason, kind);
      assert.match(condition(stale, 'PriceStale')?.message ?? '', /the value uses the ethereum price fetched at .*, over \d+s old/);
      assert.equal(stale?.status?.value, before?.status?.value, 'the last value stays');
      assert.equal(condition(stale, 'Ready')?.status, 'True');
      await until('lump-of-ethereum', (c) => condition(c, 'PriceStale')?.status === 'False', 'PriceStale to clear', 30_000);
      assert.ok(run.eventsFor('lump-of-ethereum').some((e) => e.type === 'Warning' && e.reason === 'PriceStale'));
    });
  }

  it('gives an absurd amount Ready=False InvalidAmount, a Warning Event and a log line, and serves the others', async () => {
    const absurd = await until('absurd', (c) => condition(c, 'Ready')?.status === 'False', 'Ready=False');
    assert.equal(condition(absurd, 'Ready')?.reason, 'InvalidAmount');
    assert.match(condition(absurd, 'Ready')?.message ?? '', /spec\.amount 1e\+308 is more bitcoin than exists.*set spec\.amount/);
    assert.equal(absurd?.status?.value, undefined);
    await eventually(() => run.eventsFor('absurd').some((e) => e.type === 'Warning' && e.reason === 'InvalidAmount'), { what: 'a Warning Event InvalidAmount' });
    assert.ok(run.logs.some((l) => /spec\.amount 1e\+308/.test(l.msg) && l['name'] === 'absurd'), 'a log line naming the object');
    // Fixing the amount fixes the object.
    // `cvc` is v2, the preferred version: its amount is a decimal string.
    await cluster.kubectl(['patch', 'cvc', 'absurd', '-n', ns, '--type=merge', '-p', '{"spec":{"amount":"2"}}']);
    const fixed = await until('absurd', (c) => c?.status?.value !== undefined, 'a value after the fix');
    assert.equal(fixed?.status?.value, '$100000.0000');
    assert.equal(condition(fixed, 'Ready')?.status, 'True');
    // The others went on being served meanwhile.
    server.setPrice('ethereum', '3100');
    await until('lump-of-ethereum', (c) => c?.status?.value === '$4557.0000', 'the new ethereum value');
  });

  it('flags a coin the price API stops listing with PriceMissing, and recovers when it returns', async () => {
    server.removeCoin('dogecoin');
    await create('doge', 'dogecoin', 100);
    const missing = await until('doge', (c) => condition(c, 'PriceMissing')?.status === 'True', 'PriceMissing=True');
    assert.equal(condition(missing, 'PriceMissing')?.reason, 'CoinNotListed');
    assert.match(condition(missing, 'PriceMissing')?.message ?? '', /dogecoin/);
    assert.ok(run.eventsFor('doge').some((e) => e.type === 'Warning'));
    // Others are unaffected.
    assert.equal(condition(await client.get<Cvc>(CryptoValueCalculator, 'lump-of-ethereum', { namespace: ns }), 'PriceMissing')?.status, 'False');
    server.setPrice('dogecoin', '0.1465');
    const back = await until('doge', (c) => condition(c, 'PriceMissing')?.status === 'False' && c?.status?.value === '$14.6500', 'the coin to return');
    assert.equal(back?.status?.change, '-$5.3500 (-26.75%)');
    assert.equal(condition(back, 'Ready')?.status, 'True');
  });
});
