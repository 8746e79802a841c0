/**
 * The life of a managed position in the books, pure: opened from an entry's fills, advanced by an
 * evaluation of the exit policy, reduced by an exit's fills, put back when an exit failed, closed
 * when nothing (or only dust below the product's minimum size) is left. The portfolio step and the
 * position manager call these; quantities are decimals (they become order sizes), the policy's
 * levels are numbers.
 */
import { hash } from "node:crypto";
import { Decimal } from "decimal.js";
import {
  type ExitReason,
  exitLabel,
  type ManagedPosition,
  type PositionExit,
} from "#domain/managed-position.js";
import type { ExitState } from "./exit-policy.js";
import { openExitState } from "./exit-policy.js";
import type { ExitSettings } from "./exit-settings.js";

/** Recommendation ids stay well inside DynamoDB's key limit and readable in logs. */
const MAX_EXIT_ID_LENGTH = 200;

/**
 * The exit's recommendation id, a pure function of the position, the reason, the leg and the attempt:
 * two evaluations of the same crossing (repeated, concurrent) make the same id, so one SELL. A
 * re-issue after a failed attempt counts up (`-2`, `-3`, ...), so it is a new order.
 */
export function exitIdFor(positionId: string, reason: ExitReason, leg: number, attempt = 1): string {
  const suffix = `${exitLabel(reason, leg)}${attempt > 1 ? `-${attempt}` : ""}`;
  const id = `exit-${positionId}-${suffix}`;
  if (id.length <= MAX_EXIT_ID_LENGTH) return id;
  const digest = hash("sha256", positionId).slice(0, 32);
  return `exit-${digest}-${suffix}`;
}

/** What the executor's fills of one order add up to. */
export interface FillTotals {
  /** base filled */
  base: Decimal;
  /** quote value of the fills, fees excluded */
  value: Decimal;
  fees: Decimal;
  /** the latest fill's time (ISO), if any */
  lastAt?: string;
}

export function fillTotals(
  fills: readonly { size: string; price: string; commission: string; tradeTime: string }[],
): FillTotals {
  let base = new Decimal(0);
  let value = new Decimal(0);
  let fees = new Decimal(0);
  let lastAt: string | undefined;
  for (const f of fills) {
    base = base.plus(f.size);
    value = value.plus(new Decimal(f.size).mul(f.price));
    fees = fees.plus(f.commission);
    if (!lastAt || f.tradeTime > lastAt) lastAt = f.tradeTime;
  }
  return { base, value, fees, ...(lastAt ? { lastAt } : {}) };
}

/** Why an entry cannot carry exit levels (no stop decided, or a stop that is no fraction of the price), or undefined. */
export function stopDistanceOf(entry: { entryPrice: number; stopLoss?: number }): number | string {
  if (entry.stopLoss === undefined) return "the entry was approved without a stop-loss";
  const d = 1 - entry.stopLoss / entry.entryPrice;
  if (!(d > 0 && d < 1))
    return `the approved stop ${entry.stopLoss} is not below the entry price ${entry.entryPrice}`;
  return d;
}

/** A new managed position from the fills of its entry and the stop distance the risk manager decided. */
export function openManagedPosition(
  entry: { positionId: string; symbol: string; stopDistance: number },
  fills: FillTotals,
  openedAt: Date,
  settings: ExitSettings,
  intervalSeconds: number,
): ManagedPosition {
  const price = fills.value.div(fills.base).toNumber();
  const state = openExitState(
    {
      price,
      quantity: fills.base.toNumber(),
      stopDistance: entry.stopDistance,
      openedAtMs: openedAt.getTime(),
    },
    settings,
    intervalSeconds,
  );
  const at = openedAt.toISOString();
  return {
    positionId: entry.positionId,
    symbol: entry.symbol,
    status: "OPEN",
    entryPrice: price,
    entryQuantity: fills.base.toFixed(),
    quantity: fills.base.toFixed(),
    entryCostUsd: fills.value.plus(fills.fees).toNumber(),
    riskPerUnit: state.riskPerUnit,
    stopLoss: state.stopLoss,
    takeProfits: state.takeProfits.map((t) => ({ ...t })),
    targetsHit: 0,
    highWaterMark: state.highWaterMark,
    openedAt: at,
    ...(Number.isFinite(state.expiresAtMs) ? { expiresAt: new Date(state.expiresAtMs).toISOString() } : {}),
    evaluatedAt: at,
    exits: [],
    realizedPnlUsd: 0,
    version: 0,
  };
}

/** Exits issued and not yet settled (no outcome); a resting stop is not one (exits/resting-stop.ts). */
export function pendingExits(position: ManagedPosition): PositionExit[] {
  return position.exits.filter((e) => e.outcome === undefined && e.resting === undefined);
}

/** Base held by the position that no pending exit is selling yet: what the policy may still sell. */
export function unexitedBase(position: ManagedPosition): Decimal {
  const pending = pendingExits(position).reduce((sum, e) => sum.plus(e.baseSize), new Decimal(0));
  return Decimal.max(new Decimal(position.quantity).minus(pending), 0);
}

/** The policy's view of a position: its levels, and the base not already being sold. */
export function exitStateOf(position: ManagedPosition): ExitState {
  return {
    entryPrice: position.entryPrice,
    entryQuantity: Number(position.entryQuantity),
    quantity: unexitedBase(position).toNumber(),
    riskPerUnit: position.riskPerUnit,
    stopLoss: position.stopLoss,
    takeProfits: position.takeProfits,
    targetsHit: position.targetsHit,
    highWaterMark: position.highWaterMark,
    trailingStop: position.trailingStop ?? Number.NaN,
    expiresAtMs: position.expiresAt ? Date.parse(position.expiresAt) : Number.POSITIVE_INFINITY,
  };
}

/** How many times this (reason, leg) was issued as a market SELL before: the next attempt's number. */
export function nextAttempt(position: ManagedPosition, reason: ExitReason, leg: number): number {
  return (
    position.exits.filter((e) => e.reason === reason && e.leg === leg && e.resting === undefined).length + 1
  );
}

/**
 * The exit's size in base: a whole exit sells exactly what is not yet being sold (no float drift),
 * a ladder leg its share, never more than that.
 */
export function exitBaseSize(position: ManagedPosition, quantity: number, wholeRest: boolean): string {
  const rest = unexitedBase(position);
  if (wholeRest) return rest.toFixed();
  const leg = new Decimal(quantity).toSignificantDigits(15, Decimal.ROUND_DOWN);
  return Decimal.min(leg, rest).toFixed();
}

/** The position after an exit's order is done: quantity, P&L and the exit's outcome booked; CLOSED when only dust is left. */
export function bookExitFill(
  position: ManagedPosition,
  exitId: string,
  fills: FillTotals,
  baseMinSize: string,
  now: Date,
): ManagedPosition {
  const exit = position.exits.find((e) => e.exitId === exitId);
  if (!exit || exit.outcome !== undefined) return position;
  // a resting stop that ends with nothing filled was cancelled (by the manager, or the venue)
  if (fills.base.lte(0) && exit.resting) return settleExit(position, exitId, "CANCELLED");
  if (fills.base.lte(0)) return bookExitFailure(position, exitId, baseMinSize, now);
  const held = new Decimal(position.quantity);
  const sold = Decimal.min(fills.base, held);
  const costShare = new Decimal(position.entryCostUsd).mul(sold).div(position.entryQuantity);
  const pnl = fills.value.minus(fills.fees).minus(costShare).toNumber();
  const booked: PositionExit = {
    ...exit,
    filledBase: sold.toFixed(),
    averagePrice: fills.value.div(fills.base).toNumber(),
    pnlUsd: pnl,
    outcome: "FILLED",
  };
  const next: ManagedPosition = {
    ...position,
    quantity: held.minus(sold).toFixed(),
    exits: position.exits.map((e) => (e.exitId === exitId ? booked : e)),
    realizedPnlUsd: position.realizedPnlUsd + pnl,
  };
  return settleStatus(next, baseMinSize, now);
}

/**
 * The position after an exit failed (refused, cancelled, nothing filled): the exit is marked FAILED
 * and the position is OPEN again, so the next evaluation issues it anew (with the next attempt's id).
 * A failed ladder leg is taken again from that leg.
 */
export function bookExitFailure(
  position: ManagedPosition,
  exitId: string,
  baseMinSize: string,
  now: Date,
): ManagedPosition {
  const exit = position.exits.find((e) => e.exitId === exitId);
  if (!exit || exit.outcome !== undefined) return position;
  const laterLeg = position.exits.some(
    (e) => e.reason === "TAKE_PROFIT" && e.leg > exit.leg && e.outcome !== "FAILED",
  );
  const targetsHit =
    exit.reason === "TAKE_PROFIT" && !laterLeg
      ? Math.min(position.targetsHit, exit.leg - 1)
      : position.targetsHit;
  const next: ManagedPosition = {
    ...position,
    targetsHit,
    exits: position.exits.map((e) => (e.exitId === exitId ? { ...e, outcome: "FAILED" as const } : e)),
  };
  return settleStatus(next, baseMinSize, now);
}

/** The exit settled with this outcome and nothing else changed (a resting stop cancelled or refused). */
export function settleExit(
  position: ManagedPosition,
  exitId: string,
  outcome: "FAILED" | "CANCELLED",
): ManagedPosition {
  const exit = position.exits.find((e) => e.exitId === exitId);
  if (!exit || exit.outcome !== undefined) return position;
  return { ...position, exits: position.exits.map((e) => (e.exitId === exitId ? { ...e, outcome } : e)) };
}

/** CLOSED when only dust is left; OPEN when no exit is pending any more; otherwise as it was. */
function settleStatus(position: ManagedPosition, baseMinSize: string, now: Date): ManagedPosition {
  if (isDust(position.quantity, baseMinSize)) {
    return { ...position, status: "CLOSED", closedAt: now.toISOString() };
  }
  return pendingExits(position).length === 0 ? { ...position, status: "OPEN" } : position;
}

/** Nothing, or less than the product's minimum order size: it can never be sold, so it is nothing. */
export function isDust(quantity: string, baseMinSize: string): boolean {
  const q = new Decimal(quantity);
  return q.lte(0) || q.lt(baseMinSize);
}
