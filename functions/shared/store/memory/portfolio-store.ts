import { EquitySnapshot, type KillSwitch, Position } from "#domain/schemas.js";
import { killSwitchState } from "#store/kill-switch-state.js";
import type { KillSwitchStore, KillSwitchTripRecord, PortfolioStore, Reservation } from "#store/ports.js";
import { compareKeys, copyOf, SortedKeys } from "./plumbing.js";

/** Positions by symbol, equity snapshots by time, reservations and the daily approval counters. */
export class MemoryPortfolioStore implements PortfolioStore {
  private readonly positions = new Map<string, Position>();
  private readonly snapshotTimes = new SortedKeys<string>();
  private readonly snapshots = new Map<string, EquitySnapshot>();
  private readonly reserved = new Map<string, Reservation>();
  private readonly approvals = new Map<string, number>();

  async getPositions(): Promise<Position[]> {
    return [...this.positions.values()].sort((a, b) => compareKeys(a.symbol, b.symbol)).map((p) => copyOf(p));
  }

  async putPosition(position: Position): Promise<void> {
    const parsed = Position.parse(position);
    this.positions.set(parsed.symbol, parsed);
  }

  async putEquitySnapshot(snapshot: EquitySnapshot): Promise<void> {
    const parsed = EquitySnapshot.parse(snapshot);
    this.snapshots.set(parsed.at, parsed);
    this.snapshotTimes.add(parsed.at);
  }

  async latestEquitySnapshot(): Promise<EquitySnapshot | undefined> {
    const at = this.snapshotTimes.last(1)[0];
    return at === undefined ? undefined : copyOf(this.snapshots.get(at)!);
  }

  async equityHistory(from: Date, to: Date): Promise<EquitySnapshot[]> {
    return this.snapshotTimes
      .between(from.toISOString(), to.toISOString())
      .map((at) => copyOf(this.snapshots.get(at)!));
  }

  async recordApproval(reservation: Reservation, day: string): Promise<void> {
    // only the reservation's creation counts a trade: a redelivered approval never counts twice
    if (this.reserved.has(reservation.recommendationId)) return;
    this.reserved.set(reservation.recommendationId, copyOf(reservation));
    this.approvals.set(day, (this.approvals.get(day) ?? 0) + 1);
  }

  async reservations(): Promise<Reservation[]> {
    return [...this.reserved.values()]
      .sort((a, b) => compareKeys(a.recommendationId, b.recommendationId))
      .map((r) => copyOf(r));
  }

  async releaseReservation(recommendationId: string): Promise<void> {
    this.reserved.delete(recommendationId);
  }

  async approvalsOn(day: string): Promise<number> {
    return this.approvals.get(day) ?? 0;
  }
}

const KILL_SWITCH_OFF: KillSwitch = {
  active: false,
  changedBy: "system",
  changedAt: "1970-01-01T00:00:00.000Z",
  reason: "never set: trading allowed",
};

/** The kill switch and its audit trail (one entry per time and author, as the table keys them). */
export class MemoryKillSwitchStore implements KillSwitchStore {
  private current: KillSwitch | undefined;
  private readonly auditKeys = new SortedKeys<string>();
  private readonly audit = new Map<string, KillSwitch>();

  async get(): Promise<KillSwitch> {
    return copyOf(this.current ?? KILL_SWITCH_OFF);
  }

  async set(
    active: boolean,
    changedBy: string,
    reason: string,
    now: Date,
    trip?: KillSwitchTripRecord,
    options: { peakResetAt?: Date } = {},
  ): Promise<KillSwitch> {
    const state = killSwitchState(active, changedBy, reason, now, trip, options);
    // the same audit key as the DynamoDB adapter: a second change by the same author at the same instant replaces the first
    const key = `${state.changedAt}#${changedBy}`;
    this.audit.set(key, state);
    this.auditKeys.add(key);
    this.current = state;
    return copyOf(state);
  }

  async auditTrail(limit: number): Promise<KillSwitch[]> {
    return this.auditKeys.last(limit).map((key) => copyOf(this.audit.get(key)!));
  }
}
