import { ManagedPosition } from "#domain/schemas.js";
import type { ManagedPositionStore } from "#store/ports.js";
import { compareKeys, copyOf, SortedKeys } from "./plumbing.js";

/**
 * Managed positions with the same open markers as the DynamoDB adapter: a marker is set when a
 * position not CLOSED is opened (also on a repeated open) and removed when an update closes it, so
 * openPositions answers from the markers alone, never from the history.
 */
export class MemoryManagedPositionStore implements ManagedPositionStore {
  private readonly positions = new Map<string, ManagedPosition>();
  private readonly openMarkers = new SortedKeys<string>();

  async open(position: ManagedPosition): Promise<{ created: boolean; position: ManagedPosition }> {
    const item = ManagedPosition.parse(position);
    const existing = this.positions.get(item.positionId);
    const created = existing === undefined;
    if (created) this.positions.set(item.positionId, item);
    const stored = existing ?? item;
    if (stored.status !== "CLOSED") this.openMarkers.add(stored.positionId);
    return { created, position: copyOf(stored) };
  }

  async get(positionId: string): Promise<ManagedPosition | undefined> {
    const p = this.positions.get(positionId);
    return p ? copyOf(p) : undefined;
  }

  async openPositions(): Promise<ManagedPosition[]> {
    const out: ManagedPosition[] = [];
    for (const positionId of [...this.openMarkers.all()]) {
      const position = this.positions.get(positionId);
      if (position && position.status !== "CLOSED") out.push(copyOf(position));
      else this.openMarkers.delete(positionId);
    }
    return out;
  }

  async update(position: ManagedPosition, expectedVersion: number): Promise<boolean> {
    const item = ManagedPosition.parse({ ...position, version: expectedVersion + 1 });
    const stored = this.positions.get(item.positionId);
    if (!stored || stored.version !== expectedVersion) return false;
    this.positions.set(item.positionId, item);
    if (item.status === "CLOSED") this.openMarkers.delete(item.positionId);
    return true;
  }

  async allPositions(): Promise<ManagedPosition[]> {
    return [...this.positions.values()]
      .sort((a, b) => compareKeys(a.positionId, b.positionId))
      .map((p) => copyOf(p));
  }
}
