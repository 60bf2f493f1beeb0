/**
 * A TCP pass-through in front of the API server that closes a client connection once it has been
 * quiet for `idleMs`, as Go's net/http server (the kube-apiserver's `IdleTimeout`, 90 s) and load
 * balancers do with idle keep-alive connections. TLS runs end to end through it.
 *
 * It runs as a separate process on purpose: a test blocks its own event loop to reproduce a stale
 * pooled socket, and an in-process proxy would be blocked with it.
 *
 *   node test/support/idle-closing-proxy.ts <upstream-host> <upstream-port> <idle-ms>
 *
 * prints `port <n>` once listening, then `closed <n>` each time it closes an idle connection
 * (n counts them).
 */
import net from 'node:net';

const [host = '127.0.0.1', port = '', idle = '1000'] = process.argv.slice(2);
const idleMs = Number(idle);
let closed = 0;

const server = net.createServer((client) => {
  const upstream = net.connect(Number(port), host);
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      client.end();
      upstream.destroy();
      process.stdout.write(`closed ${++closed}\n`);
    }, idleMs);
  };
  const drop = (): void => {
    clearTimeout(timer);
    client.destroy();
    upstream.destroy();
  };
  client.on('data', arm);
  upstream.on('data', arm);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', drop);
  upstream.on('error', drop);
  client.on('close', drop);
  upstream.on('close', drop);
  arm();
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
