/**
 * Operon's webhook server alone in a process, serving the CVC's supply check (`checkSupply`) at
 * /validate on 127.0.0.1:--port with the certificate in --cert-dir: the Operon side of
 * `latency.ts`, which runs each contender in a process of its own, as the API server sees them.
 * Prints `listening` when it accepts connections.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkSupply } from '../../operators/crypto/supply.ts';
import { admit } from '../../src/admission/review.ts';
import { normalizeAdmission } from '../../src/admission/options.ts';
import { silentLogger } from '../../src/base/logger.ts';
import { WebhookServer } from '../../src/server/webhooks.ts';

const { values } = parseArgs({ options: { 'cert-dir': { type: 'string' }, port: { type: 'string', default: '9443' } } });
const dir = values['cert-dir'] ?? '.';
const spec = normalizeAdmission('validate', checkSupply as never, { id: 'supply' });
const server = new WebhookServer({
  certificate: { cert: readFileSync(join(dir, 'tls.crt'), 'utf8'), key: readFileSync(join(dir, 'tls.key'), 'utf8') },
  port: Number(values.port),
  host: '127.0.0.1',
  logger: silentLogger,
});
server.route('/validate', (body) => admit(spec, body, silentLogger));
await server.listen();
console.log('listening');
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
