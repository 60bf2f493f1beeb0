import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { LazyJit, tieringChosen, type JitHost } from '../../../src/cli/jit.ts';

/** A host whose CPU clock the test moves by hand, and the flags it was given. */
function fakeHost(): JitHost & { flags: string[]; cpu: number } {
  const host = {
    flags: [] as string[],
    cpu: 0,
    setFlags: (f: string) => void host.flags.push(f),
    cpuMicros: () => host.cpu,
  };
  return host;
}

describe('LazyJit', () => {
  it('turns the optimizing compilers off, and on after the first window with enough CPU', async () => {
    const host = fakeHost();
    const clock = new ManualClock();
    const jit = new LazyJit({ host, clock, busyCpuMs: 100, windowMs: 1000 });
    jit.defer();
    assert.deepEqual(host.flags, ['--no-turbofan', '--no-maglev']);
    assert.equal(jit.enabled, false);
    host.cpu = 400_000; // loading the modules: before watch(), it does not count
    jit.watch();
    host.cpu += 5_000;
    await clock.advance(1000);
    host.cpu += 99_000;
    await clock.advance(1000);
    assert.equal(jit.enabled, false, 'an idle window keeps them off');
    host.cpu += 100_000;
    await clock.advance(1000);
    assert.equal(jit.enabled, true);
    assert.deepEqual(host.flags.slice(2), ['--turbofan', '--maglev', '--osr-from-maglev']);
    assert.equal(clock.pending, 0, 'measuring stops once they are on');
    host.cpu += 1_000_000;
    jit.enable();
    assert.equal(host.flags.length, 5, 'on for good, set once');
  });

  it('changes nothing when never deferred, and stop() leaves them off', () => {
    const host = fakeHost();
    const clock = new ManualClock();
    const jit = new LazyJit({ host, clock });
    jit.watch();
    jit.enable();
    assert.deepEqual(host.flags, []);
    jit.defer();
    jit.watch();
    jit.stop();
    assert.equal(clock.pending, 0);
    assert.equal(jit.enabled, false);
  });

  it("sees a process started with its own tiering flags, in execArgv or NODE_OPTIONS, with - or _", () => {
    assert.equal(tieringChosen(['--max-semi-space-size=1'], undefined), false);
    assert.equal(tieringChosen(['--conditions=operon-source'], '--max-old-space-size=256 --enable-source-maps'), false);
    for (const flag of ['--no-opt', '--opt', '--maglev', '--no-maglev', '--turbofan', '--jitless', '--lite-mode', '--no_sparkplug', '--invocation-count-for-turbofan=9000', '--invocation_count_for_maglev=1']) {
      assert.equal(tieringChosen([flag], undefined), true, flag);
      assert.equal(tieringChosen([], `--max-old-space-size=256 ${flag}`), true, flag);
    }
    assert.equal(tieringChosen(['--optimize-for-size'], '--maglevish'), false);
  });

  it("keeps a hot function unoptimized while deferred, and V8 optimizes it once enabled", () => {
    // A real V8: %GetOptimizationStatus bit 16 is "optimized" (Maglev or TurboFan).
    const script = `
      import { LazyJit } from ${JSON.stringify(new URL('../../../src/cli/jit.ts', import.meta.url).href)};
      const hot = (a) => { let s = 0; for (let i = 0; i < 50; i++) s += (a * i) % 7; return s; };
      const optimized = () => (%GetOptimizationStatus(hot) & 16) !== 0;
      const spin = async () => { for (let round = 0; round < 200; round++) { for (let i = 0; i < 2000; i++) hot(i); await new Promise((r) => setTimeout(r, 1)); } };
      const jit = new LazyJit();
      jit.defer();
      await spin();
      const before = optimized();
      jit.enable();
      await spin();
      console.log(JSON.stringify({ before, after: optimized() }));
    `;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { before: false, after: true });
  });
});
