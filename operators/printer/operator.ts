/**
 * The Printer operator on Operon: each Printer gets one Pod that prints its `spec.text`, and the
 * Printer's status follows that Pod.
 *
 *     operon crd operators/printer/resource.ts | kubectl apply -f -
 *     operon run operators/printer/operator.ts
 *
 * Guarantees:
 * - **One Pod per Printer and text.** The Pod's name is a hash of the Printer's uid and text
 *   (`pod.ts`), so a second create (a retry, a restarted operator, a racing handler) meets
 *   AlreadyExists and adopts the Pod already there: never two Pods for one text, whenever the
 *   operator is killed.
 * - **A changed text prints again, and the old Pod goes.** The new text gets a new Pod; once it
 *   exists, Pods this Printer controls for an earlier text are deleted, so a Printer has one Pod
 *   and `kubectl logs` of its Pod shows its current text.
 * - **Deleting the Printer deletes its Pod**, through the ownerReference (`adopt`) and the
 *   garbage collector; the operator needs no finalizer.
 * - Status: `pod`, `summary` and `observedGeneration` when the Pod is created; `phase` and the
 *   `Printed` condition from the Pod, as the operator's cache sees it.
 * - A Pod the API server refuses (Pod Security, quota, a bad `PRINTER_IMAGE`) gives
 *   `Printed=False` with reason `PodRejected`, a Warning Event and a log line with the API
 *   server's reason, and is retried every minute until the cause is fixed.
 *
 * Configuration (checked when the operator loads; a bad value stops it with the variable named):
 * `PRINTER_IMAGE` (default busybox:1.37), `PRINTER_NODE_SELECTOR` (`key=value,…`) and
 * `PRINTER_TOLERATIONS` (`key=value:Effect,key:Effect,…`).
 */
import type { Toleration } from 'kubernetes-types/core/v1.d.ts';
import {
  adopt,
  builtin,
  controllerOf,
  findCondition,
  isApiError,
  isOwnedBy,
  PermanentError,
  resource,
  setCondition,
  TemporaryError,
  type FieldContext,
  type RbacRule,
  type Stored,
} from 'operon-k8s';
import { checkText } from './admission.ts';
import { podPrints, printerImage, printerPod } from './pod.ts';
import { Printer, type PrinterObject, type PrinterPhase } from './resource.ts';
import { PRINTED, printedConditions, summarize } from './status.ts';

/** Names the operator in its Pods' `app.kubernetes.io/managed-by` label. */
export const MANAGED_BY = 'operon-printer';

// Kubernetes label syntax: an optional DNS-subdomain prefix and a name of up to 63 characters.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const EFFECTS = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

const image = printerImage(process.env);
const nodeSelector = parseNodeSelector(process.env['PRINTER_NODE_SELECTOR']);
const tolerations = parseTolerations(process.env['PRINTER_TOLERATIONS']);

// Operon's state (the last handled text) in status.operon: it goes out in the same request as
// the status the handler writes, one write per cycle instead of two. The create handler is
// idempotent (the Pod's name is a hash of uid and text), so a restore that drops status is safe.
export const printers = resource(Printer, { state: 'status' });

// A text the Pod could not carry is refused with the reason (served when webhooks are configured).
printers.validate(checkText, { id: 'text' });

/**
 * Permissions beyond what the registrations imply, for `operon rbac`: the reconcile handler
 * deletes the Pods of a Printer's earlier texts (owning Pods only implies creating them).
 */
export const rbac: RbacRule[] = [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }];
const pods = builtin('v1', 'Pod');
// Pods filed under the uid of the Printer that controls them: the reconcile finds a Printer's
// Pods without scanning the namespace's (a scan per reconcile made a burst of N Printers cost N²).
const BY_PRINTER = 'printer';
printers.owns(pods, { indexes: { [BY_PRINTER]: (pod) => { const owner = controllerOf(pod); return owner ? [owner.uid] : []; } } });

printers.onField('spec.text', async function printText({ body, name, namespace, client, patch, logger, warn }: FieldContext<Stored<PrinterObject>>) {
  const built = printerPod(body, { managedBy: MANAGED_BY, image });
  const pod = adopt({ ...built, spec: { ...built.spec, ...(nodeSelector && { nodeSelector }), ...(tolerations && { tolerations }) } }, body);
  const podName = pod.metadata.name;
  // The Pod as the API server answered, so its first phase goes out with the Pod's name.
  let answered: { status?: { phase?: string } } | undefined;
  try {
    answered = await client.create(pods, pod);
    logger.info({ pod: podName }, `created Pod ${podName}`);
  } catch (error) {
    if (isApiError(error, 'AlreadyExists')) {
      const existing = await client.get(pods, podName, { namespace });
      if (!isOwnedBy(existing, body)) throw new PermanentError(`Pod ${namespace}/${podName} exists and does not belong to Printer ${name}; delete or rename it`);
      // The text went back to an earlier one whose Pod is still being deleted: create it again once it is gone.
      if (existing.metadata.deletionTimestamp) throw new TemporaryError(`Pod ${podName} for this text is still being deleted; creating it again once it is gone`, { delay: '2s' });
      answered = existing;
      logger.info({ pod: podName }, `Pod ${podName} already exists (an earlier attempt created it); recording it`);
    } else if (isApiError(error, 'Invalid') || isApiError(error, 'Forbidden')) {
      const message = `the API server refused Pod ${podName} for Printer ${namespace}/${name}: ${error.message}. Fix the operator's configuration (PRINTER_IMAGE, PRINTER_NODE_SELECTOR, PRINTER_TOLERATIONS) or the namespace's policy or quota; retrying every minute`;
      patch.status.conditions = setCondition(body.status?.conditions, { type: PRINTED, status: false, reason: 'PodRejected', message, observedGeneration: body.metadata.generation }, new Date());
      logger.error({ pod: podName }, message);
      warn('PodRejected', message);
      throw new TemporaryError(message, { delay: '60s' });
    } else {
      throw error;
    }
  }
  patch.status.pod = podName;
  patch.status.summary = summarize(body.spec.text);
  patch.status.observedGeneration = body.metadata.generation;
  // The phase and the Printed condition as the Pod is now, in this same write: the reconcile
  // below then finds nothing to change until the Pod moves on (one status write fewer per Printer).
  const phase = answered?.status?.phase as PrinterPhase | undefined;
  if (phase) {
    patch.status.phase = phase;
    patch.status.conditions = printedConditions(phase, body.metadata.generation, body.status?.conditions, new Date());
  } else if (body.status?.pod !== podName) {
    patch.status.phase = null;
  }
});

printers.reconcile(async function followPod({ body, status, namespace, uid, cache, client, patch, logger, warn }) {
  const podCache = cache.of(pods);
  // The Pod the status names, if it prints the current text; otherwise the field handler has yet to record the Pod of this text.
  const pod = status.pod ? podCache.get(status.pod, namespace) : undefined;
  if (pod === undefined || !podPrints(pod, uid, body.spec.text)) return;
  const current = pod.metadata.name;
  const phase = pod.status?.phase as PrinterPhase | undefined;
  if (phase && phase !== status.phase) {
    patch.status.phase = phase;
    if (phase === 'Failed') warn('PrintFailed', `Pod ${current} failed: ${pod.status?.message ?? pod.status?.reason ?? 'see kubectl describe pod'}`);
  }
  if (phase) {
    const conditions = printedConditions(phase, body.metadata.generation, status.conditions, new Date());
    const [before, after] = [findCondition(status.conditions, PRINTED), findCondition(conditions, PRINTED)];
    if (before?.status !== after?.status || before?.reason !== after?.reason || before?.observedGeneration !== after?.observedGeneration) patch.status.conditions = conditions;
  }
  // The Pods of earlier texts, now that the current one exists.
  for (const old of podCache.byIndex(BY_PRINTER, uid)) {
    if (old.metadata.name === current || old.metadata.deletionTimestamp) continue;
    try {
      await client.delete(pods, old.metadata.name, { namespace });
      logger.info({ pod: old.metadata.name }, `deleted Pod ${old.metadata.name}, which printed an earlier text`);
    } catch (error) {
      if (!isApiError(error, 'NotFound')) throw error;
    }
  }
});

/**
 * `PRINTER_NODE_SELECTOR`: `key=value` pairs, comma-separated, with Kubernetes label syntax.
 *
 * @example
 * ```ts
 * parseNodeSelector('operon.dev/node=real,disk=ssd'); // { 'operon.dev/node': 'real', disk: 'ssd' }
 * ```
 */
export function parseNodeSelector(text: string | undefined): Record<string, string> | undefined {
  if (!text?.trim()) return undefined;
  const selector: Record<string, string> = {};
  for (const item of text.split(',').map((s) => s.trim())) {
    const [key = '', value, extra] = item.split('=');
    if (value === undefined || extra !== undefined || !isLabelKey(key) || !isLabelValue(value)) {
      throw new RangeError(`PRINTER_NODE_SELECTOR: ${JSON.stringify(item)} is not key=value with a label key and value; e.g. PRINTER_NODE_SELECTOR=operon.dev/node=real`);
    }
    selector[key] = value;
  }
  return selector;
}

/**
 * `PRINTER_TOLERATIONS`: comma-separated `key=value:Effect` (operator Equal), `key:Effect` or
 * `key` (operator Exists); without an effect the toleration matches every effect.
 *
 * @example
 * ```ts
 * parseTolerations('operon.dev/real-node=true:NoSchedule');
 * // [{ key: 'operon.dev/real-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]
 * ```
 */
export function parseTolerations(text: string | undefined): Toleration[] | undefined {
  if (!text?.trim()) return undefined;
  return text.split(',').map((raw) => {
    const item = raw.trim();
    const colon = item.lastIndexOf(':');
    const effect = colon < 0 ? undefined : item.slice(colon + 1);
    const [key = '', value, extra] = (colon < 0 ? item : item.slice(0, colon)).split('=');
    if (extra !== undefined || !isLabelKey(key) || (value !== undefined && !isLabelValue(value)) || (effect !== undefined && !EFFECTS.has(effect))) {
      throw new RangeError(
        `PRINTER_TOLERATIONS: ${JSON.stringify(item)} is not key=value:Effect, key:Effect or key, with Effect one of ${[...EFFECTS].join(', ')}; e.g. PRINTER_TOLERATIONS=operon.dev/real-node=true:NoSchedule`,
      );
    }
    return { key, operator: value === undefined ? 'Exists' : 'Equal', ...(value !== undefined && { value }), ...(effect !== undefined && { effect }) };
  });
}


function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

function isLabelValue(value: string): boolean {
  return value === '' || LABEL_NAME.test(value);
}
