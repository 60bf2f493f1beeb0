import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { textRefusal } from '../../../operators/printer/admission.ts';
import { TEXT_MAX_LENGTH } from '../../../operators/printer/resource.ts';

describe('textRefusal', () => {
  it('lets a text the Pod can carry through, up to the limit in characters (not bytes)', () => {
    assert.equal(textRefusal('hello'), undefined);
    assert.equal(textRefusal('é'.repeat(TEXT_MAX_LENGTH)), undefined);
  });
  it('names the position of a NUL and why the Pod cannot carry it', () => {
    assert.match(textRefusal('ab\u0000c') ?? '', /NUL character at position 3: .*environment variable, which ends at the first NUL/);
  });
  it('names the length and the limit of a too-long text', () => {
    assert.equal(textRefusal('x'.repeat(TEXT_MAX_LENGTH + 1)), `spec.text is ${TEXT_MAX_LENGTH + 1} characters long; a Printer carries at most ${TEXT_MAX_LENGTH}; shorten it or split it across Printers`);
  });
  it('counts characters beyond the BMP once', () => {
    assert.equal(textRefusal('😀'.repeat(TEXT_MAX_LENGTH)), undefined);
  });
});

describe('the Printer operator', () => {
  it('registers checkText as its validating webhook "text"', async () => {
    const { printers } = await import('../../../operators/printer/operator.ts');
    const { checkText } = await import('../../../operators/printer/admission.ts');
    const { defaultRegistry } = await import('../../../src/handlers/registry.ts');
    assert.deepEqual(defaultRegistry.for(printers).admission.map((a) => [a.type, a.id, a.fn]), [['validate', 'text', checkText]]);
  });
});
