/**
 * The consistent-hash ring that maps an object's sharding key to one member (a shard): each member
 * places {@link defaults}.sharding.virtualNodes tokens on a 64-bit circle, and a key belongs to the
 * member of the first token at or after the key's hash, wrapping around.
 *
 * Guarantees: the mapping depends only on the set of member names (not on their order or on who
 * computes it), so every replica and the sharder agree; adding a member takes keys only for the
 * new member (about 1/N of them), removing one moves only the keys it had. The ring is immutable:
 * a change of membership builds a new ring (as the reference sharder does on every sync).
 *
 * The hash is FNV-1a 64 followed by MurmurHash3's 64-bit finaliser ({@link hash64}), both written
 * here; the reference uses xxhash64, knative FNV-1a 64. FNV-1a alone spreads strings that differ
 * only in their last characters (`shard0`…`shard99`, `chore-1`…) over a narrow arc of the circle,
 * which gave one of three members 80% of the keys; the finaliser mixes every bit into every
 * other. It is not cryptographic and need not be: keys are not chosen by an adversary.
 */
import { defaults } from '../defaults.ts';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const encoder = new TextEncoder();

/**
 * FNV-1a 64 of the UTF-8 bytes of `text`, as an unsigned 64-bit bigint.
 *
 * @example
 * ```ts
 * fnv1a64(''); // 0xcbf29ce484222325n
 * ```
 */
export function fnv1a64(text: string): bigint {
  let hash = FNV_OFFSET;
  for (const byte of encoder.encode(text)) {
    hash ^= BigInt(byte);
    hash = BigInt.asUintN(64, hash * FNV_PRIME);
  }
  return hash;
}

const MASK = (1n << 64n) - 1n;

/**
 * The ring's hash: {@link fnv1a64}, then MurmurHash3's `fmix64` so that nearby inputs land far
 * apart on the circle.
 *
 * @example
 * ```ts
 * hash64('shard-a0') !== hash64('shard-a1'); // and not close to each other either
 * ```
 */
export function hash64(text: string): bigint {
  let h = fnv1a64(text);
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & MASK;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & MASK;
  h ^= h >> 33n;
  return h;
}

/**
 * An immutable consistent-hash ring over a set of member names.
 *
 * @example
 * ```ts
 * const ring = new HashRing(['shard-a', 'shard-b', 'shard-c']);
 * ring.ownerOf('printers.example.com/Printer/lab/p1'); // 'shard-b', the same on every replica
 * ```
 */
export class HashRing {
  /** The members, sorted. */
  readonly members: readonly string[];
  readonly #tokens: readonly bigint[];
  readonly #owners: readonly string[];

  constructor(members: Iterable<string>, virtualNodes: number = defaults.sharding.virtualNodes) {
    if (!(Number.isInteger(virtualNodes) && virtualNodes >= 1)) throw new RangeError(`a hash ring needs at least one virtual node per member, not ${virtualNodes}`);
    this.members = [...new Set(members)].sort();
    const points: Array<{ token: bigint; owner: string }> = [];
    for (const member of this.members) {
      for (let i = 0; i < virtualNodes; i++) points.push({ token: hash64(`${member}${i}`), owner: member });
    }
    // A token collision is resolved by name, so the order (and the owner) is the same everywhere.
    points.sort((a, b) => (a.token < b.token ? -1 : a.token > b.token ? 1 : a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0));
    this.#tokens = points.map((p) => p.token);
    this.#owners = points.map((p) => p.owner);
  }

  /** True when the ring has no member: no key has an owner. */
  get empty(): boolean {
    return this.members.length === 0;
  }

  /**
   * The member `key` belongs to, or undefined on an empty ring.
   *
   * @example
   * ```ts
   * new HashRing(['a']).ownerOf('anything'); // 'a'
   * ```
   */
  ownerOf(key: string): string | undefined {
    const tokens = this.#tokens;
    if (tokens.length === 0) return undefined;
    const hash = hash64(key);
    let lo = 0;
    let hi = tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((tokens[mid] as bigint) < hash) lo = mid + 1;
      else hi = mid;
    }
    return this.#owners[lo === tokens.length ? 0 : lo];
  }
}
