/**
 * A strict JSON reader that keeps every number as its source text.
 *
 * Why not `JSON.parse`: it turns `41222.00000001` into the nearest binary double before any code
 * sees it, so digits a price API sent would be lost (or invented) before the exact arithmetic of
 * `decimal.ts` could start. This reader follows RFC 8259 and returns numbers as {@link JsonNumber}
 * holding the untouched text; strings, booleans, null, arrays and objects come back as plain JS
 * values.
 *
 * Guarantees: input that is not one complete JSON value throws {@link JsonSyntaxError} (with the
 * offset); nesting deeper than `maxDepth` (default 64) is refused, so a hostile body cannot
 * exhaust the stack; duplicate keys keep the last value, as `JSON.parse` does; a `__proto__` key
 * is an ordinary own property, never the prototype.
 */

/** A JSON number as it appeared in the text, e.g. `'4.1222e4'`. Convert with `Decimal.parse(n.text)`. */
export class JsonNumber {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | { [key: string]: JsonValue };

/** Text that is not JSON. `offset` is the character where reading stopped. */
export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.offset = offset;
  }
}

const NUMBER_AT = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Parses `text`, keeping numbers as text.
 *
 * @example
 * ```ts
 * const body = parseJsonExact('{"bitcoin":{"usd":41222.00}}');
 * // body.bitcoin.usd is JsonNumber { text: '41222.00' }
 * ```
 */
export function parseJsonExact(text: string, options: { maxDepth?: number } = {}): JsonValue {
  const maxDepth = options.maxDepth ?? 64;
  let pos = 0;

  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, pos);
  };

  const skipSpace = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  const readString = (): string => {
    pos++; // opening quote
    let out = '';
    for (;;) {
      // Copy the run up to the next quote, backslash or control character in one slice.
      const start = pos;
      while (pos < text.length) {
        const code = text.charCodeAt(pos);
        if (code === 0x22 || code === 0x5c || code < 0x20) break;
        pos++;
      }
      out += text.slice(start, pos);
      if (pos >= text.length) fail('unterminated string');
      const c = text[pos];
      if (c === '"') {
        pos++;
        return out;
      }
      if (c !== '\\') fail('control character in string');
      const e = text[pos + 1] ?? '';
      if (e === 'u') {
        const hex = text.slice(pos + 2, pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        pos += 6;
      } else {
        const mapped = ESCAPES[e];
        if (mapped === undefined) fail('bad escape');
        out += mapped;
        pos += 2;
      }
    }
  };

  const readValue = (depth: number): JsonValue => {
    if (depth > maxDepth) fail(`nesting deeper than ${maxDepth}`);
    skipSpace();
    const c = text[pos];
    switch (c) {
      case '{': {
        pos++;
        const obj: { [key: string]: JsonValue } = {};
        skipSpace();
        if (text[pos] === '}') {
          pos++;
          return obj;
        }
        for (;;) {
          skipSpace();
          if (text[pos] !== '"') fail('expected a string key');
          const key = readString();
          skipSpace();
          if (text[pos] !== ':') fail("expected ':'");
          pos++;
          // defineProperty so "__proto__" stays data and never reaches the prototype.
          Object.defineProperty(obj, key, { value: readValue(depth + 1), enumerable: true, writable: true, configurable: true });
          skipSpace();
          if (text[pos] === ',') {
            pos++;
            continue;
          }
          if (text[pos] === '}') {
            pos++;
            return obj;
          }
          fail("expected ',' or '}'");
        }
      }
      case '[': {
        pos++;
        const arr: JsonValue[] = [];
        skipSpace();
        if (text[pos] === ']') {
          pos++;
          return arr;
        }
        for (;;) {
          arr.push(readValue(depth + 1));
          skipSpace();
          if (text[pos] === ',') {
            pos++;
            continue;
          }
          if (text[pos] === ']') {
            pos++;
            return arr;
          }
          fail("expected ',' or ']'");
        }
      }
      case '"':
        return readString();
      case 't':
        return literal('true', true);
      case 'f':
        return literal('false', false);
      case 'n':
        return literal('null', null);
      default: {
        NUMBER_AT.lastIndex = pos;
        const m = NUMBER_AT.exec(text);
        if (m === null) return fail(c === undefined ? 'unexpected end of input' : `unexpected ${JSON.stringify(c)}`);
        pos += m[0].length;
        return new JsonNumber(m[0]);
      }
    }
  };

  const literal = <T extends JsonValue>(word: string, value: T): T => {
    if (!text.startsWith(word, pos)) fail(`unexpected token`);
    pos += word.length;
    return value;
  };

  const value = readValue(0);
  skipSpace();
  if (pos !== text.length) fail('unexpected text after the value');
  return value;
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}
