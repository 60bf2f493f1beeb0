import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand } from '../../../src/cli/args.ts';

describe('operon command line', () => {
  it('parses run with namespaces, globs and a log level', () => {
    const c = parseCommand(['run', 'a.ts', 'b.ts', '-n', 'team-*', '--namespace', 'prod', '--debug', '--log-format', 'plain']);
    assert.equal(c.command, 'run');
    if (c.command !== 'run') return;
    assert.deepEqual(c.files, ['a.ts', 'b.ts']);
    assert.deepEqual(c.namespaces, ['team-*', 'prod']);
    assert.equal(c.logLevel, 'trace');
    assert.equal(c.logFormat, 'plain');
    assert.equal(c.allNamespaces, false);
  });

  it('maps --verbose to debug and --quiet to warn, defaulting to info', () => {
    const level = (flag?: string) => {
      const c = parseCommand(['run', 'a.ts', ...(flag ? [flag] : [])]);
      return c.command === 'run' ? c.logLevel : undefined;
    };
    assert.deepEqual([level(), level('--verbose'), level('--debug'), level('--quiet')], ['info', 'debug', 'trace', 'warn']);
  });

  it('defaults to JSON logs off a terminal and plain logs on one', () => {
    const off = parseCommand(['run', 'a.ts'], false);
    const on = parseCommand(['run', 'a.ts'], true);
    assert.ok(off.command === 'run' && off.logFormat === 'json');
    assert.ok(on.command === 'run' && on.logFormat === 'plain');
  });

  it('turns --liveness into a health address', () => {
    const c = parseCommand(['run', 'a.ts', '--liveness', 'http://0.0.0.0:8080/healthz']);
    assert.ok(c.command === 'run' && c.healthAddress === '0.0.0.0:8080');
  });

  for (const [argv, pattern] of [
    [['run'], /at least one operator file/],
    [['run', 'a.ts', '--bogus'], /Unknown option '--bogus'/],
    [['run', 'a.ts', '-A', '-n', 'x'], /exclude each other/],
    [['run', 'a.ts', '--debug', '--quiet'], /choose one/],
    [['run', 'a.ts', '--log-format', 'xml'], /json or plain/],
    [['run', 'a.ts', '-n', 'Bad_NS'], /not a namespace name/],
    [['run', 'a.ts', '--liveness', 'not a url'], /not a URL/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['crd'], /at least one file/],
    [['run', 'a.ts', '--lease-name', 'x'], /need --leader-elect/],
    [['run', 'a.ts', '--leader-elect', '--lease-name', 'Not_A_Name'], /not a valid object name/],
    [['run', 'a.ts', '--leader-elect', '--lease-namespace', 'a.b'], /not a namespace name/],
    [['rbac'], /at least one file/],
    [['run', 'a.ts', '--concurrency', '0'], /from 1 to 1000/],
    [['run', 'a.ts', '--concurrency', '2.5'], /whole number/],
  ] as const) {
    it(`rejects ${JSON.stringify(argv)} with exit code 2 and a clear message`, () => {
      const c = parseCommand(argv);
      assert.equal(c.command, 'usage');
      if (c.command !== 'usage') return;
      assert.equal(c.exitCode, 2);
      assert.match(c.message, pattern);
      assert.match(c.message, /operon --help/);
    });
  }

  it('parses --concurrency, leaving the default when absent', () => {
    const c = parseCommand(['run', 'a.ts', '--concurrency', '32']);
    assert.ok(c.command === 'run' && c.concurrency === 32);
    const d = parseCommand(['run', 'a.ts']);
    assert.ok(d.command === 'run' && d.concurrency === undefined);
  });

  it('parses --leader-elect with and without the lease flags', () => {
    const plain = parseCommand(['run', 'a.ts']);
    assert.ok(plain.command === 'run' && plain.leaderElection === undefined);
    const bare = parseCommand(['run', 'a.ts', '--leader-elect']);
    assert.ok(bare.command === 'run');
    if (bare.command === 'run') assert.deepEqual(bare.leaderElection, { leaseName: undefined, leaseNamespace: undefined });
    const named = parseCommand(['run', 'a.ts', '--leader-elect', '--lease-name', 'printers.demo.operon.dev', '--lease-namespace', 'operators']);
    assert.ok(named.command === 'run');
    if (named.command === 'run') assert.deepEqual(named.leaderElection, { leaseName: 'printers.demo.operon.dev', leaseNamespace: 'operators' });
  });

  it('parses rbac with the operator name, namespace and watched namespaces', () => {
    const c = parseCommand(['rbac', 'op.ts', '--name', 'printer', '--namespace', 'ops', '-w', 'a', '--watch-namespace', 'b']);
    assert.deepEqual(c, { command: 'rbac', files: ['op.ts'], name: 'printer', namespace: 'ops', watchNamespaces: ['a', 'b'] });
  });

  it('shows help for no arguments', () => {
    const c = parseCommand([]);
    assert.ok(c.command === 'help' && c.text.includes('operon run'));
  });
});
