import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommand, SUBCOMMANDS, subcommand, type ParseEnv } from '../../../src/cli/args.ts';
import type { GenerateCommand, RunCommand } from '../../../src/cli/options.ts';
import { closest, editDistance } from '../../../src/cli/flags.ts';

/** The options a command line parses to, or a failure naming what it parsed to instead. */
function options<T>(argv: readonly string[], env: Partial<ParseEnv> = {}): T {
  const c = parseCommand(argv, env);
  assert.equal(c.command, 'invoke', `expected ${JSON.stringify(argv)} to parse, got ${JSON.stringify(c)}`);
  return (c as unknown as { options: T }).options;
}
const run = (argv: readonly string[], env: Partial<ParseEnv> = {}) => options<RunCommand>(['run', ...argv], env);

describe('operon command line', () => {
  it('parses run with namespaces, globs and a log level', () => {
    const c = run(['a.ts', 'b.ts', '-n', 'team-*', '--namespace', 'prod', '--debug', '--log-format', 'plain']);
    assert.deepEqual(c.files, ['a.ts', 'b.ts']);
    assert.deepEqual(c.namespaces, ['team-*', 'prod']);
    assert.equal(c.logLevel, 'trace');
    assert.equal(c.logFormat, 'plain');
    assert.equal(c.allNamespaces, false);
  });

  it('maps --verbose to debug and --quiet to warn, defaulting to info', () => {
    const level = (flag?: string) => run(['a.ts', ...(flag ? [flag] : [])]).logLevel;
    assert.deepEqual([level(), level('--verbose'), level('--debug'), level('--quiet')], ['info', 'debug', 'trace', 'warn']);
  });

  it('defaults to JSON logs off a terminal and plain logs on one', () => {
    assert.equal(run(['a.ts'], { isTty: false }).logFormat, 'json');
    assert.equal(run(['a.ts'], { isTty: true }).logFormat, 'plain');
  });

  it("defers V8's optimizing compilers unless --jit eager", () => {
    assert.equal(run(['a.ts']).jit, 'lazy');
    assert.equal(run(['a.ts', '--jit', 'eager']).jit, 'eager');
  });

  it('takes --concurrency as a fixed number or an adaptive range', () => {
    assert.equal(run(['a.ts']).concurrency, undefined, 'the default (adaptive 8-64) is the runtime\'s');
    assert.equal(run(['a.ts', '--concurrency', '16']).concurrency, 16);
    assert.deepEqual(run(['a.ts', '--concurrency', '4-32']).concurrency, { min: 4, max: 32 });
  });

  it('turns --liveness into a health address', () => {
    assert.equal(run(['a.ts', '--liveness', 'http://0.0.0.0:8081/healthz']).healthAddress, '0.0.0.0:8081');
    assert.equal(run(['a.ts', '--liveness', 'http://0.0.0.0:8081/healthz']).livenessPath, undefined);
    assert.equal(run(['a.ts', '--liveness', 'http://0.0.0.0:8080/alive']).livenessPath, '/alive', "kopf's probe path is the URL's");
  });

  it('shards on --shard-ring, with the Leases in --lease-namespace, and not by default', () => {
    assert.deepEqual(run(['a.ts', '--shard-ring', 'chores', '--lease-namespace', 'ops']).sharding, { ring: 'chores', namespace: 'ops' });
    assert.deepEqual(run(['a.ts', '--shard-ring', 'chores']).sharding, { ring: 'chores', namespace: undefined });
    assert.equal(run(['a.ts']).sharding, undefined);
  });

  it('takes the probe and metrics addresses apart, serving neither unless asked', () => {
    const c = run(['a.ts', '--health-address', ':8081', '--metrics-address', ':8080']);
    assert.deepEqual([c.healthAddress, c.metricsAddress], [':8081', ':8080']);
    const none = run(['a.ts']);
    assert.deepEqual([none.healthAddress, none.metricsAddress], [undefined, undefined]);
  });

  it('type-checks .ts files by default, never .js files or in production, and obeys --check/--no-check', () => {
    assert.equal(run(['a.ts']).check, true);
    assert.equal(run(['a.js']).check, false);
    assert.equal(run(['a.ts'], { production: true }).check, false);
    assert.equal(run(['a.ts', '--no-check']).check, false);
    assert.equal(run(['a.js', '--check']).check, true);
    assert.equal(run(['a.ts', '--tsconfig', 'tsconfig.build.json']).tsconfig, 'tsconfig.build.json');
  });

  for (const [argv, pattern] of [
    [['run'], /^operon run: needs at least one operator file/],
    [['run', 'a.ts', '-A', '-n', 'x'], /exclude each other/],
    [['run', 'a.ts', '--debug', '--quiet'], /choose one/],
    [['run', 'a.ts', '--log-format', 'xml'], /json or plain/],
    [['run', 'a.ts', '-n', 'Bad_NS'], /not a namespace name/],
    [['run', 'a.ts', '--liveness', 'not a url'], /not a URL/],
    [['run', 'a.ts', '--health-address', ':8081', '--metrics-address', ':8081'], /give each its own port/],
    [['run', 'a.ts', '--metrics-address', '8080'], /must be host:port, e.g. :8080/],
    [['crd'], /at least one file/],
    [['run', 'a.ts', '--lease-name', 'x'], /needs --leader-elect/],
    [['run', 'a.ts', '--lease-namespace', 'x'], /needs --leader-elect or --shard-ring/],
    [['run', 'a.ts', '--shard-ring', 'Chores'], /--shard-ring "Chores" is not a valid ring name/],
    [['run', 'a.ts', '--leader-elect', '--lease-name', 'Not_A_Name'], /not a valid object name/],
    [['run', 'a.ts', '--leader-elect', '--lease-namespace', 'a.b'], /not a namespace name/],
    [['rbac'], /at least one file/],
    [['run', 'a.ts', '--jit', 'never'], /--jit must be lazy or eager, not "never"/],
    [['run', 'a.ts', '--concurrency', '0'], /from 1 to 1000/],
    [['run', 'a.ts', '--concurrency', '2.5'], /whole number/],
    [['run', 'a.ts', '--concurrency'], /^operon run: --concurrency needs a value, e.g. --concurrency N\|MIN-MAX$/],
    [['run', 'a.ts', '--concurrency', '64-8'], /a range such as 8-64 \(lowest first\)/],
    [['run', 'a.ts', '--concurrency', '8-1001'], /from 1 to 1000/],
    [['run', 'a.ts', '--concurrency', '8-'], /whole number/],
    [['run', 'a.ts', '--verbose=yes'], /^operon run: --verbose takes no value$/],
    [['run', 'a.ts', '--no-verbose'], /^operon run: unknown flag --no-verbose$/],
    [['crd', 'a.ts', '--namespace', 'x'], /^operon crd: unknown flag --namespace$/],
    [['crd', 'a.ts', '--conversion-service', 'crypto'], /is not <namespace>\/<name>\[:<port>\]/],
    [['crd', 'a.ts', '--conversion-service', 'a/b', '--conversion-url', 'https://h:1'], /not both/],
    [['crd', 'a.ts', '--conversion-url', 'http://h:1'], /not an https base URL/],
    [['run', 'a.ts', '-x'], /^operon run: unknown flag -x$/],
  ] as const) {
    it(`rejects ${JSON.stringify(argv)} with exit code 2 and one line`, () => {
      const c = parseCommand(argv);
      assert.equal(c.command, 'usage');
      if (c.command !== 'usage') return;
      assert.equal(c.exitCode, 2);
      assert.match(c.message, pattern);
      assert.doesNotMatch(c.message, /\n/);
    });
  }

  it('names a mistyped flag and suggests the closest one (issue #13: parseArgs text, unbalanced quote, no suggestion)', () => {
    const c = parseCommand(['run', 'a.ts', '--concurency', '4']);
    assert.deepEqual(c, { command: 'usage', message: 'operon run: unknown flag --concurency; did you mean --concurrency?', exitCode: 2 });
    const eq = parseCommand(['run', 'a.ts', '--helth-address=:8081']);
    assert.ok(eq.command === 'usage' && eq.message === 'operon run: unknown flag --helth-address; did you mean --health-address?');
    const neg = parseCommand(['run', 'a.ts', '--no-chek']);
    assert.ok(neg.command === 'usage' && neg.message === 'operon run: unknown flag --no-chek; did you mean --no-check?');
    const far = parseCommand(['run', 'a.ts', '--frobnicate']);
    assert.ok(far.command === 'usage' && far.message === 'operon run: unknown flag --frobnicate');
  });

  it('suggests the closest command for a mistyped one', () => {
    const c = parseCommand(['rnu', 'a.ts']);
    assert.deepEqual(c, { command: 'usage', message: 'operon: unknown command "rnu"; did you mean operon run?', exitCode: 2 });
    const far = parseCommand(['frobnicate']);
    assert.ok(far.command === 'usage' && /unknown command "frobnicate"; run 'operon --help'/.test(far.message));
  });

  it('counts a swap of neighbours as one edit and keeps far words unmatched', () => {
    assert.equal(editDistance('concurency', 'concurrency'), 1);
    assert.equal(editDistance('rnu', 'run'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(closest('kubconfig', ['context', 'kubeconfig']), 'kubeconfig');
    assert.equal(closest('zzz', ['run', 'crd']), undefined);
  });

  it('parses rbac with the operator name, namespace and watched namespaces', () => {
    const c = options<GenerateCommand>(['rbac', 'op.ts', '--name', 'printer', '--namespace', 'ops', '-w', 'a', '--watch-namespace', 'b']);
    assert.deepEqual(c, { command: 'rbac', files: ['op.ts'], name: 'printer', namespace: 'ops', watchNamespaces: ['a', 'b'], namespaceSelector: false, sharding: false });
    assert.equal(options<GenerateCommand>(['rbac', 'op.ts', '--namespace-selector']).namespaceSelector, true);
    assert.deepEqual(options<GenerateCommand>(['crd', 'op.ts', '--conversion-service', 'ops/crypto-webhooks']).conversion, { service: { namespace: 'ops', name: 'crypto-webhooks', port: 443 } });
    assert.deepEqual(options<GenerateCommand>(['crd', 'op.ts', '--conversion-service', 'ops/crypto-webhooks:8443']).conversion, { service: { namespace: 'ops', name: 'crypto-webhooks', port: 8443 } });
    assert.deepEqual(options<GenerateCommand>(['crd', 'op.ts', '--conversion-url', 'https://127.0.0.1:18443/']).conversion, { url: 'https://127.0.0.1:18443' });
    assert.equal(options<GenerateCommand>(['rbac', 'op.ts', '--sharded']).sharding, true);
  });

  it('parses run --namespace-selector', () => {
    assert.equal(run(['a.ts', '--namespace-selector', 'operon.dev/watch=true']).namespaceSelector, 'operon.dev/watch=true');
    assert.equal(run(['a.ts']).namespaceSelector, undefined);
  });

  it('shows the commands for no arguments and --help', () => {
    for (const argv of [[], ['--help'], ['-h'], ['help']]) {
      const c = parseCommand(argv);
      assert.ok(c.command === 'help');
      if (c.command !== 'help') return;
      for (const s of SUBCOMMANDS) assert.ok(c.text.split('\n').some((l) => l.startsWith(`  ${s.name} `) && l.endsWith(s.summary)), `lists ${s.name}`);
      assert.match(c.text, /operon <command> --help/);
    }
  });

  it("gives every subcommand its own --help listing each flag with its default (issue #13: 'Unknown option --help')", () => {
    for (const s of SUBCOMMANDS) {
      for (const argv of [[s.name, '--help'], [s.name, 'a.ts', '-h'], ['help', s.name]]) {
        const c = parseCommand(argv);
        assert.equal(c.command, 'help', `${argv.join(' ')} shows help`);
        if (c.command !== 'help') return;
        assert.match(c.text, new RegExp(`^Usage: ${s.synopsis.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
        for (const [name, flag] of Object.entries(s.flags)) {
          const line = c.text.split('\n').findIndex((l) => l.includes(`--${name}`) || l.includes(`--[no-]${name}`));
          assert.ok(line >= 0, `${s.name} --help lists --${name}`);
          if (flag.defaultText !== undefined) assert.match(c.text, new RegExp(`\\(default: ${flag.defaultText.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`), `${s.name} --help gives --${name}'s default`);
        }
      }
    }
    const runHelp = parseCommand(['run', '--help']);
    assert.ok(runHelp.command === 'help' && /--concurrency N\|MIN-MAX +.*\(default: 8-64, adaptive\)/.test(runHelp.text));
    assert.ok(/--\[no-\]check/.test(runHelp.text));
  });

  it('takes a new subcommand from one table entry: parsing, help and dispatch', async () => {
    const greet = subcommand({
      name: 'greet',
      summary: 'say hello',
      synopsis: 'operon greet <name>',
      description: 'Says hello.',
      flags: { loud: { type: 'boolean', help: 'shout' } },
      parse: ({ values, positionals }) => (positionals[0] ? { who: positionals[0], loud: values.loud === true } : { usage: 'needs a name' }),
      run: async (o) => (o.loud && o.who === 'x' ? 7 : 0),
    });
    const table = [...SUBCOMMANDS, greet];
    const c = parseCommand(['greet', 'x', '--loud'], {}, table);
    assert.ok(c.command === 'invoke');
    if (c.command === 'invoke') assert.equal(await c.run(), 7);
    assert.ok(parseCommand([], {}, table).command === 'help');
    const help = parseCommand(['greet', '--help'], {}, table);
    assert.ok(help.command === 'help' && /--loud +shout/.test(help.text));
    assert.deepEqual(parseCommand(['greet', '--lound'], {}, table), { command: 'usage', message: 'operon greet: unknown flag --lound; did you mean --loud?', exitCode: 2 });
  });
});
