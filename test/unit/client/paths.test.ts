import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePatch, escapeJsonPointer } from '../../../src/client/patch.ts';
import { apiVersionOf, describeRequest, groupVersionPath, parseApiVersion, queryString, resourceName, resourcePath } from '../../../src/client/paths.ts';
import type { ResourceRef } from '../../../src/client/types.ts';

const pods: ResourceRef = { group: '', version: 'v1', plural: 'pods', namespaced: true };
const printers: ResourceRef = { group: 'operon.dev', version: 'v1', plural: 'printers', namespaced: true };
const nodes: ResourceRef = { group: '', version: 'v1', plural: 'nodes', namespaced: false };
const crds: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', namespaced: false };

describe('resource paths', () => {
  it('puts the core group under /api/v1 and others under /apis/{group}/{version}', () => {
    assert.equal(resourcePath(pods, { namespace: 'default', name: 'web-0' }), '/api/v1/namespaces/default/pods/web-0');
    assert.equal(resourcePath(printers, { namespace: 'lab', name: 'p1' }), '/apis/operon.dev/v1/namespaces/lab/printers/p1');
    assert.equal(resourcePath(crds, { name: 'printers.operon.dev' }), '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/printers.operon.dev');
  });

  it('lists a namespaced resource across all namespaces when no namespace is given', () => {
    assert.equal(resourcePath(pods), '/api/v1/pods');
    assert.equal(resourcePath(printers, {}), '/apis/operon.dev/v1/printers');
  });

  it('never puts a namespace into the path of a cluster-scoped resource', () => {
    assert.equal(resourcePath(nodes, { namespace: 'default', name: 'n1' }), '/api/v1/nodes/n1');
  });

  it('appends a subresource and refuses one without a name', () => {
    assert.equal(resourcePath(printers, { namespace: 'lab', name: 'p1', subresource: 'status' }), '/apis/operon.dev/v1/namespaces/lab/printers/p1/status');
    assert.throws(() => resourcePath(printers, { namespace: 'lab', subresource: 'status' }), /needs an object name/);
    assert.throws(() => resourcePath(printers, { namespace: 'lab', name: '' }), /empty object name/);
  });

  it('percent-encodes names and namespaces', () => {
    assert.equal(resourcePath(pods, { namespace: 'a b', name: 'x/y?z' }), '/api/v1/namespaces/a%20b/pods/x%2Fy%3Fz');
  });

  it('builds discovery paths and apiVersions', () => {
    assert.equal(groupVersionPath('', 'v1'), '/api/v1');
    assert.equal(groupVersionPath('apps', 'v1'), '/apis/apps/v1');
    assert.equal(apiVersionOf(pods), 'v1');
    assert.equal(apiVersionOf(printers), 'operon.dev/v1');
    assert.deepEqual(parseApiVersion('v1'), { group: '', version: 'v1' });
    assert.deepEqual(parseApiVersion('operon.dev/v1alpha1'), { group: 'operon.dev', version: 'v1alpha1' });
  });
});

describe('query strings', () => {
  it('encodes every value and leaves out undefined ones', () => {
    assert.equal(queryString({}), '');
    assert.equal(queryString({ a: undefined }), '');
    assert.equal(
      queryString({ labelSelector: 'app in (a,b),tier!=x', limit: 10, continue: undefined, watch: true, fieldSelector: 'metadata.name=a+b&c' }),
      '?labelSelector=app%20in%20(a%2Cb)%2Ctier!%3Dx&limit=10&watch=true&fieldSelector=metadata.name%3Da%2Bb%26c',
    );
  });
});

describe('request descriptions', () => {
  it('names the resource as RBAC does', () => {
    assert.equal(resourceName(pods), 'pods');
    assert.equal(resourceName(printers), 'printers.operon.dev');
    assert.deepEqual(describeRequest('patch', printers, { namespace: 'lab', name: 'p1', subresource: 'status' }), {
      verb: 'patch',
      resource: 'printers.operon.dev/status',
      namespace: 'lab',
      name: 'p1',
    });
    assert.deepEqual(describeRequest('list', nodes, { namespace: 'ignored' }), { verb: 'list', resource: 'nodes' });
  });
});

describe('patch encoding', () => {
  it('sends a merge patch as application/merge-patch+json', () => {
    const p = encodePatch({ type: 'merge', body: { metadata: { labels: { a: null } } } });
    assert.equal(p.contentType, 'application/merge-patch+json');
    assert.equal(p.body, '{"metadata":{"labels":{"a":null}}}');
    assert.deepEqual(p.query, {});
  });

  it('sends JSON patch operations, test included, as application/json-patch+json', () => {
    const p = encodePatch({
      type: 'json',
      ops: [
        { op: 'test', path: '/metadata/resourceVersion', value: '42' },
        { op: 'remove', path: `/metadata/labels/${escapeJsonPointer('app.kubernetes.io/name')}` },
      ],
    });
    assert.equal(p.contentType, 'application/json-patch+json');
    assert.deepEqual(JSON.parse(p.body), [
      { op: 'test', path: '/metadata/resourceVersion', value: '42' },
      { op: 'remove', path: '/metadata/labels/app.kubernetes.io~1name' },
    ]);
  });

  it('sends server-side apply as application/apply-patch+yaml with a field manager, defaulted when absent', () => {
    const body = { apiVersion: 'operon.dev/v1', kind: 'Printer', metadata: { name: 'p1' } };
    const a = encodePatch({ type: 'apply', body });
    assert.equal(a.contentType, 'application/apply-patch+yaml');
    assert.deepEqual(a.query, { fieldManager: 'operon' });
    assert.deepEqual(JSON.parse(a.body), body);
    assert.deepEqual(encodePatch({ type: 'apply', body, fieldManager: 'printer-op', force: true }).query, { fieldManager: 'printer-op', force: true });
  });

  it('escapes JSON pointer segments', () => {
    assert.equal(escapeJsonPointer('a~b/c'), 'a~0b~1c');
  });
});
