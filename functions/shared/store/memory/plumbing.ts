/**
 * What every in-memory store shares: copies of plain data (a caller never holds a reference into
 * the store, as with DynamoDB), DynamoDB's string order for sort keys, sorted key lists and the
 * refusal of a conditional write.
 */

/**
 * A deep copy of plain JSON-like data (objects, arrays, primitives). Keys holding `undefined` are
 * left out, as the DynamoDB marshaller (removeUndefinedValues) leaves them out of a stored item.
 */
export function copyOf<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyOf(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = copyOf(v);
  }
  return out as T;
}

/** DynamoDB orders string sort keys by their bytes, not by locale: `#` before digits before letters. */
export function compareKeys(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Keys kept sorted ascending, as a DynamoDB partition keeps its sort keys. Inserting at the end
 * (the usual case: time moves forward) costs O(1); elsewhere a binary search and a splice.
 */
export class SortedKeys<K extends string | number> {
  private readonly keys: K[] = [];

  /** Adds `key` unless present; returns whether it was added. */
  add(key: K): boolean {
    const n = this.keys.length;
    if (n === 0 || this.keys[n - 1] < key) {
      this.keys.push(key);
      return true;
    }
    const i = this.lowerBound(key);
    if (this.keys[i] === key) return false;
    this.keys.splice(i, 0, key);
    return true;
  }

  delete(key: K): boolean {
    const i = this.lowerBound(key);
    if (this.keys[i] !== key) return false;
    this.keys.splice(i, 1);
    return true;
  }

  /** Keys in [from, to] (both included, like a BETWEEN key condition), ascending. */
  between(from: K, to: K): K[] {
    if (from > to) return [];
    return this.keys.slice(this.lowerBound(from), this.upperBound(to));
  }

  /** Keys strictly below `bound`, ascending. */
  below(bound: K): K[] {
    return this.keys.slice(0, this.lowerBound(bound));
  }

  /** Keys at or above `bound`, ascending. */
  atOrAbove(bound: K): K[] {
    return this.keys.slice(this.lowerBound(bound));
  }

  /** The `limit` greatest keys, greatest first. */
  last(limit: number): K[] {
    const n = this.keys.length;
    const out: K[] = [];
    for (let i = n - 1; i >= 0 && out.length < limit; i--) out.push(this.keys[i]);
    return out;
  }

  all(): readonly K[] {
    return this.keys;
  }

  /** First index whose key is >= key. */
  private lowerBound(key: K): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose key is > key. */
  private upperBound(key: K): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid] <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * A conditional write the item's state refused, where the DynamoDB adapter lets DynamoDB's own
 * ConditionalCheckFailedException through: same name, so code that tells it apart
 * (isConditionalCheckFailure) sees the same thing on both.
 */
export class ConditionalWriteRefused extends Error {
  override readonly name = "ConditionalCheckFailedException";
}
