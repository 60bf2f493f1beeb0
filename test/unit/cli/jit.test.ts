import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/base/clock.ts';
import { LazyJit, tieringChosen, V8_INVOCATIONS_FOR_MAGLEV, V8_INVOCATIONS_FOR_TURBOFAN, type JitHost } from '../../../src/cli/jit.ts';

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
    assert.deepEqual(host.flags, ['--no-turbofan', '--no-maglev', '--invocation-count-for-turbofan=400']);
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
    assert.deepEqual(host.flags.slice(3), ['--turbofan', '--maglev', '--osr-from-maglev', '--invocation-count-for-turbofan=3000']);
    assert.equal(clock.pending, 0, 'measuring stops once they are on');
    host.cpu += 1_000_000;
    jit.enable();
    assert.equal(host.flags.length, 7, 'on for good, set once');
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

  it("puts back V8's own invocation counts: the ones this Node's V8 has", () => {
    const options = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    const count = (flag: string): number => Number(new RegExp(`default: --${flag}=(\\d+)`).exec(options)?.[1]);
    assert.equal(count('invocation-count-for-maglev'), V8_INVOCATIONS_FOR_MAGLEV, 'V8 changed its Maglev count: update V8_INVOCATIONS_FOR_MAGLEV in src/cli/jit.ts');
    assert.equal(count('invocation-count-for-turbofan'), V8_INVOCATIONS_FOR_TURBOFAN, 'V8 changed its TurboFan count: update V8_INVOCATIONS_FOR_TURBOFAN in src/cli/jit.ts');
  });

  it('optimizes functions that got hot while deferred within Maglev\'s count of calls once enabled', () => {
    // 40 functions (each its own code, so its own budget) called many times while deferred, then
    // 1,000 times each once enabled: all optimized, as 1,000 calls optimize a new function with
    // the compilers on. Without the deferral's count, those whose TurboFan budget had just been
    // set waited up to 3,000 more calls (4 of 40 were optimized).
    const script = `
      import { LazyJit } from ${JSON.stringify(new URL('../../../src/cli/jit.ts', import.meta.url).href)};
      const fns = Array.from({ length: 40 }, (_, k) => new Function('a', 'return (a * ' + (k + 3) + ' + 7) % 13;'));
      const optimized = (f) => (%GetOptimizationStatus(f) & 16) !== 0;
      const jit = new LazyJit();
      jit.defer();
      fns.forEach((f, k) => { for (let i = 0; i < 20000 + k * 337; i++) f(i); });
      const before = fns.filter(optimized).length;
      jit.enable();
      for (const f of fns) for (let i = 0; i < 1000; i++) f(i);
      await new Promise((r) => setTimeout(r, 200)); // Maglev compiles on another thread
      for (const f of fns) f(1); // and its code is installed at the next call
      console.log(JSON.stringify({ before, after: fns.filter(optimized).length }));
    `;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { before: 0, after: 40 });
  });
});
