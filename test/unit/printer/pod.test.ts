/**
 * The Printer's Pod: the text is carried as data (environment variable, printenv, no shell, no
 * arguments), the name is deterministic, the Pod is owned by its Printer and locked down.
 */
import '../../support/source.ts'; // fails fast without the operon-source condition
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_IMAGE, podPrints, PRINTER_LABEL, printerImage, printerPod, printerPodName, TEXT_VARIABLE } from '../../../operators/printer/pod.ts';
import { FOUR_KIB, HOSTILE_TEXTS } from './hostile-texts.ts';

const UID = '6f2a1c4e-3b5d-4e8f-9a0b-1c2d3e4f5a6b';
const printer = (text: string, uid = UID) => ({ metadata: { name: 'my-printer', namespace: 'team-a', uid }, spec: { text } });
const build = (text: string) => printerPod(printer(text), { managedBy: 'printer-operator' });

/** Every string in a JSON value, with its path. */
function strings(value: unknown, path = '$'): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

describe('printerPod carries the text as data', () => {
  it('the 4 KiB text is 4096 bytes', () => assert.equal(Buffer.byteLength(FOUR_KIB, 'utf8'), 4096));

  for (const [label, text] of HOSTILE_TEXTS) {
    it(`carries ${label} literally, only in the environment`, () => {
      const pod = build(text);
      const [container] = pod.spec?.containers ?? [];
      assert.ok(container);
      assert.deepEqual(container.command, ['printenv', TEXT_VARIABLE]);
      assert.equal(container.args, undefined);
      assert.deepEqual(container.env, [{ name: TEXT_VARIABLE, value: text }]);
      // The text is nowhere else: not in the command, a label, an annotation or the name.
      assert.deepEqual(
        strings(pod).filter(([, s]) => s === text),
        [['$.spec.containers[0].env[0].value', text]],
      );
      // What the API server receives is JSON: the text survives the round trip unchanged.
      const sent = JSON.parse(JSON.stringify(pod)) as typeof pod;
      assert.ok(Buffer.from(sent.spec?.containers[0]?.env?.[0]?.value ?? '', 'utf8').equals(Buffer.from(text, 'utf8')));
    });
  }

  it('runs printenv directly: no shell, whatever the image', () => {
    const [container] = printerPod(printer('x'), { managedBy: 'm', image: 'registry.example/coreutils:9' }).spec?.containers ?? [];
    assert.equal(container?.command?.[0], 'printenv');
    assert.ok(!container?.command?.some((part) => /(^|\/)(sh|bash|ash|dash)$/.test(part) || part === '-c'));
  });
});

describe('printerPodName', () => {
  it('looks like the design document\'s print-wrgtvjcydk', () => {
    assert.match(printerPodName(UID, 'Hello Kube!'), /^print-[bcdfghjklmnpqrstvwxz2456789]{10}$/);
  });

  it('is the same for the same Printer and text: a second create is AlreadyExists, not a second Pod', () => {
    assert.equal(printerPodName(UID, 'Hello Kube!'), printerPodName(UID, 'Hello Kube!'));
    assert.equal(build('Hello Kube!').metadata.name, printerPodName(UID, 'Hello Kube!'));
  });

  it('differs for another Printer (uid) or another text', () => {
    const names = new Set([
      printerPodName(UID, 'Hello Kube!'),
      printerPodName('0d5e7c1a-0000-4000-8000-000000000000', 'Hello Kube!'),
      printerPodName(UID, 'Hello Kube?'),
      printerPodName(UID, 'Hello Kube!\n'),
    ]);
    assert.equal(names.size, 4);
  });

  it('is the name every earlier version gave: an upgraded operator finds the Pods it made, and makes no second ones', () => {
    assert.equal(printerPodName(UID, 'Hello Kube!'), 'print-rbwtkcpqk8');
    assert.equal(printerPodName('00000000-0000-4000-8000-000000000001', 'x'), 'print-s7dn5rw2sh');
    assert.equal(printerPodName('a', ''), 'print-j6z7g4nmtd');
  });

  it('cannot be steered by moving characters between uid and text', () => {
    assert.notEqual(printerPodName('a', 'bc'), printerPodName('ab', 'c'));
  });

  it('spreads names: 2000 texts give 2000 names', () => {
    const names = new Set(Array.from({ length: 2000 }, (_, i) => printerPodName(UID, `text ${i}`)));
    assert.equal(names.size, 2000);
  });
});

describe('printerPod metadata', () => {
  const pod = build('Hello Kube!');

  it('lives in the Printer\'s namespace', () => assert.equal(pod.metadata.namespace, 'team-a'));

  it('is owned by the Printer, as its controller, blocking the Printer\'s deletion until it is gone', () => {
    assert.deepEqual(pod.metadata.ownerReferences, [
      { apiVersion: 'operon.dev/v1', kind: 'Printer', name: 'my-printer', uid: UID, controller: true, blockOwnerDeletion: true },
    ]);
  });

  it('is labelled with the app, the operator and the Printer', () => {
    assert.deepEqual(pod.metadata.labels, {
      'app.kubernetes.io/name': 'printer',
      'app.kubernetes.io/managed-by': 'printer-operator',
      [PRINTER_LABEL]: 'my-printer',
    });
  });

  it('refuses a Printer without a namespace', () => {
    assert.throws(() => printerPod({ metadata: { name: 'p', uid: UID }, spec: { text: 'x' } }, { managedBy: 'm' }), RangeError);
  });
});

describe('printerPod is locked down', () => {
  const spec = build('Hello Kube!').spec;
  const container = spec?.containers[0];

  it('runs once', () => assert.equal(spec?.restartPolicy, 'Never'));

  it('mounts no ServiceAccount token and gets no Service variables', () => {
    assert.equal(spec?.automountServiceAccountToken, false);
    assert.equal(spec?.enableServiceLinks, false);
  });

  it('runs as nobody (65534), never root, with the RuntimeDefault seccomp profile', () => {
    assert.deepEqual(spec?.securityContext, { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } });
  });

  it('has a read-only root, no privilege escalation and no capabilities', () => {
    assert.deepEqual(container?.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('asks for little and is capped', () => {
    assert.deepEqual(container?.resources, { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '50m', memory: '32Mi' } });
  });

  it('pulls busybox:1.37 only when the node lacks it', () => {
    assert.equal(container?.image, DEFAULT_IMAGE);
    assert.equal(DEFAULT_IMAGE, 'busybox:1.37');
    assert.equal(container?.imagePullPolicy, 'IfNotPresent');
  });
});

describe('printerImage', () => {
  it('is PRINTER_IMAGE when set', () => assert.equal(printerImage({ PRINTER_IMAGE: 'mirror.example/busybox:1.37' }), 'mirror.example/busybox:1.37'));
  it('is busybox:1.37 when unset or empty', () => {
    assert.equal(printerImage({}), DEFAULT_IMAGE);
    assert.equal(printerImage({ PRINTER_IMAGE: '' }), DEFAULT_IMAGE);
  });
  it('is what the Pod runs', () => {
    const image = printerImage({ PRINTER_IMAGE: 'mirror.example/busybox:1.37' });
    assert.equal(printerPod(printer('x'), { managedBy: 'm', image }).spec?.containers[0]?.image, image);
  });
});

describe('podPrints', () => {
  it('is true for the Pod built for the uid and text, false for another text, another Printer or no controller', () => {
    const pod = build('Hello Kube!');
    assert.equal(podPrints(pod, UID, 'Hello Kube!'), true);
    assert.equal(podPrints(pod, UID, 'Hello Kube?'), false);
    assert.equal(podPrints(pod, '0d5e7c1a-0000-4000-8000-000000000000', 'Hello Kube!'), false);
    const orphan = { ...pod, metadata: { ...pod.metadata, ownerReferences: [] } };
    assert.equal(podPrints(orphan, UID, 'Hello Kube!'), false);
    const emptied = { ...pod, spec: { ...pod.spec, containers: [{ name: 'printer', image: 'busybox' }] } };
    assert.equal(podPrints(emptied, UID, 'Hello Kube!'), false);
  });
});
