/**
 * Your first operator: a Greeting gets a ConfigMap holding its message. The whole operator is the
 * declaration and one handler; `docs/getting-started.md` walks through it.
 *
 *     operon crd examples/first-operator/operator.ts | kubectl apply -f -
 *     operon run examples/first-operator/operator.ts
 */
import { adopt, builtin, resource, Type } from 'operon-k8s';

export const greetings = resource({
  group: 'first.operon.dev',
  version: 'v1',
  kind: 'Greeting',
  spec: Type.Object({ name: Type.String({ minLength: 1, maxLength: 63 }) }),
  status: Type.Object({ configMap: Type.Optional(Type.String()) }, { additionalProperties: true }),
  printerColumns: [{ name: 'ConfigMap', type: 'string', jsonPath: '.status.configMap' }],
});

const configMaps = builtin('v1', 'ConfigMap');

greetings.onCreate(async ({ body, spec, client, patch, logger }) => {
  const configMap = adopt({ metadata: { name: `greeting-${body.metadata.name}` }, data: { message: `Hello, ${spec.name}!` } }, body);
  await client.create(configMaps, configMap);
  patch.status.configMap = configMap.metadata?.name;
  logger.info({ configMap: configMap.metadata?.name }, 'greeted');
});
