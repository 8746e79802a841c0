import { Signal } from "#domain/schemas.js";
import type { SignalStore } from "#store/ports.js";
import { ConditionalWriteRefused, compareKeys, copyOf, SortedKeys } from "./plumbing.js";

/** `2024-06-30T23`: the hour partition of the signals table's byHour index. */
const hourOf = (iso: string) => iso.slice(0, 13);
/** createdAt then signalId: the index order, ties broken by the table key. */
const indexKey = (s: Signal) => `${s.createdAt}\u0000${s.signalId}`;
const idOfIndexKey = (key: string) => key.slice(key.indexOf("\u0000") + 1);

/** Signals by id, with the byHour and bySymbol indexes of the signals table. */
export class MemorySignalStore implements SignalStore {
  private readonly byId = new Map<string, Signal>();
  private readonly hours = new SortedKeys<string>();
  private readonly byHour = new Map<string, SortedKeys<string>>();
  private readonly bySymbol = new Map<string, SortedKeys<string>>();

  async putSignal(signal: Signal): Promise<boolean> {
    if (this.byId.has(signal.signalId)) return false;
    const stored = Signal.parse(signal);
    this.byId.set(stored.signalId, stored);
    const hour = hourOf(stored.createdAt);
    this.hours.add(hour);
    indexOf(this.byHour, hour).add(indexKey(stored));
    indexOf(this.bySymbol, stored.symbol).add(indexKey(stored));
    return true;
  }

  async getSignal(signalId: string): Promise<Signal | undefined> {
    const s = this.byId.get(signalId);
    return s ? copyOf(s) : undefined;
  }

  async signalsSince(since: Date, now: Date): Promise<Signal[]> {
    const from = since.toISOString();
    const out: Signal[] = [];
    // the hour partitions from the one of `since` to the one of `now`, as the DynamoDB adapter queries them
    for (const hour of this.hours.between(hourOf(from), hourOf(now.toISOString()))) {
      for (const key of this.byHour.get(hour)!.atOrAbove(from))
        out.push(copyOf(this.byId.get(idOfIndexKey(key))!));
    }
    return out.sort((a, b) => compareKeys(b.createdAt, a.createdAt));
  }

  async latestSignalsOfSymbol(symbol: string, limit: number): Promise<Signal[]> {
    const index = this.bySymbol.get(symbol);
    if (!index) return [];
    return index.last(limit).map((key) => copyOf(this.byId.get(idOfIndexKey(key))!));
  }

  async markProcessed(signalId: string): Promise<void> {
    const s = this.byId.get(signalId);
    if (!s) throw new ConditionalWriteRefused(`signal ${signalId} does not exist: nothing to mark processed`);
    this.byId.set(signalId, { ...s, processed: true });
  }
}

function indexOf(indexes: Map<string, SortedKeys<string>>, key: string): SortedKeys<string> {
  let index = indexes.get(key);
  if (!index) {
    index = new SortedKeys<string>();
    indexes.set(key, index);
  }
  return index;
}
