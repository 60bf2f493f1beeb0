import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../../src/base/clock.ts';
import { silentLogger } from '../../../src/base/logger.ts';
import type { KubeClient } from '../../../src/client/client.ts';
import { Registry } from '../../../src/handlers/registry.ts';
import { servingHosts, WebhookRuntime, type WebhookOptions } from '../../../src/runtime/webhooks.ts';

const make = (clientConfig: WebhookOptions['clientConfig']): WebhookRuntime =>
  new WebhookRuntime({ registry: new Registry(), client: {} as KubeClient, logger: silentLogger, clock: systemClock, operatorName: 'op', options: { clientConfig } });

describe('WebhookRuntime', () => {
  it('refuses client configs the API server would refuse, naming the fix', () => {
    assert.throws(() => make({ url: 'http://127.0.0.1:9443' }), /must be https with no user, query or fragment .*use e\.g\. https:\/\/127\.0\.0\.1:9443/);
    assert.throws(() => make({ url: 'https://127.0.0.1:9443/?x=1' }), /must be https/);
    assert.throws(() => make({ url: 'not a url' }), /is not a URL/);
    assert.throws(() => make({ service: { namespace: '', name: 'x' } }), /needs a namespace and a name/);
    assert.doesNotThrow(() => make({ url: 'https://127.0.0.1:9443' }));
  });
});

describe('servingHosts', () => {
  it('is the URL host (IPv6 without brackets) or the Service names', () => {
    assert.deepEqual(servingHosts({ url: 'https://127.0.0.1:9443' }), ['127.0.0.1']);
    assert.deepEqual(servingHosts({ url: 'https://[::1]:9443' }), ['::1']);
    assert.deepEqual(servingHosts({ service: { namespace: 'ops', name: 'hooks' } }), ['hooks.ops.svc', 'hooks.ops.svc.cluster.local']);
  });
});
