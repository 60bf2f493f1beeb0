/**
 * Installing a test's own CRD on the shared control plane: each test file declares a resource in
 * a group of its own (`<theme>.test.operon.dev`), so files never see each other's objects, and
 * waits until the API server serves it.
 */
import { CRD_RESOURCE, type KubeClient } from '../../src/client/client.ts';
import { isApiError } from '../../src/client/errors.ts';
import { toCrd } from '../../src/manifests/index.ts';
import type { CustomResource } from '../../src/schema/index.ts';

/** Creates (or replaces) the CRD of `resource` and waits until it is established. */
export async function installCrd(client: KubeClient, resource: CustomResource): Promise<void> {
  const crd = toCrd(resource);
  try {
    await client.create(CRD_RESOURCE, crd);
  } catch (error) {
    if (!isApiError(error, 'AlreadyExists')) throw error;
    const existing = await client.get(CRD_RESOURCE, crd.metadata.name);
    await client.replace(CRD_RESOURCE, { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata.resourceVersion } });
  }
  await client.waitForCrdEstablished(crd.metadata.name);
}
