/**
 * Certificates for the local control plane, made with the system's openssl (no shell: every call
 * is an argv). One CA signs the API server's serving certificate, the admin client certificate
 * (group system:masters, which bypasses RBAC), a client certificate per component and, for the
 * real node, its kubelet's serving certificate; a separate RSA key signs ServiceAccount tokens.
 * Files are created once per state folder and reused (the kubelet's serving certificate excepted).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  saKey: string;
  /** Client certificate and key per user name (admin, kube-controller-manager, ...). */
  client(user: string): { cert: string; key: string };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Creates (or reuses) the PKI under `dir`. `clients` maps a user name to its groups. */
export function ensurePki(dir: string, clients: Record<string, string[]>): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (f: string): string => join(dir, f);
  if (!existsSync(p('ca.crt'))) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=operon-local-ca', '-keyout', 'ca.key', '-out', 'ca.crt'], dir);
  }
  if (!existsSync(p('apiserver.crt'))) {
    writeFileSync(
      p('apiserver.ext'),
      [
        'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        '',
      ].join('\n'),
    );
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=kube-apiserver', '-keyout', 'apiserver.key', '-out', 'apiserver.csr'], dir);
    openssl(['x509', '-req', '-in', 'apiserver.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-extfile', 'apiserver.ext', '-out', 'apiserver.crt'], dir);
  }
  if (!existsSync(p('sa.key'))) openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
  writeFileSync(p('client.ext'), 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  for (const [user, groups] of Object.entries(clients)) {
    if (existsSync(p(`${user}.crt`))) continue;
    // Subject fields are argv values, but '/' and '=' still have meaning to openssl: names are ours, not user input.
    const subject = groups.map((g) => `/O=${g}`).join('') + `/CN=${user}`;
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', `${user}.key`, '-out', `${user}.csr`], dir);
    openssl(['x509', '-req', '-in', `${user}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-extfile', 'client.ext', '-out', `${user}.crt`], dir);
  }
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    saKey: p('sa.key'),
    client: (user) => ({ cert: p(`${user}.crt`), key: p(`${user}.key`) }),
  };
}

/**
 * (Re)issues a serving certificate `<name>.crt`/`<name>.key` signed by the CA, for `sans` (openssl
 * subjectAltName entries such as `IP:127.0.0.1`, `DNS:node-0`). Always issued anew, so a changed
 * address never leaves a stale certificate behind.
 */
export function issueServingCert(pki: Pki, name: string, commonName: string, sans: string[]): { cert: string; key: string } {
  const p = (f: string): string => join(pki.dir, f);
  writeFileSync(p(`${name}.ext`), [`subjectAltName=${sans.join(',')}`, 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', ''].join('\n'));
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${commonName}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], pki.dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650', '-extfile', `${name}.ext`, '-out', `${name}.crt`], pki.dir);
  return { cert: p(`${name}.crt`), key: p(`${name}.key`) };
}

/** A kubeconfig for one client-certificate user, with absolute paths. */
export function kubeconfigYaml(server: string, pki: Pki, user: string): string {
  const { cert, key } = pki.client(user);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: operon-local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${pki.caCert}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate: ${cert}`,
    `    client-key: ${key}`,
    'contexts:',
    '- name: operon-local',
    '  context:',
    '    cluster: operon-local',
    `    user: ${user}`,
    'current-context: operon-local',
    '',
  ].join('\n');
}
