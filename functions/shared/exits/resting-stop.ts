/**
 * The protective stop that rests on the venue (EXIT_RESTING_STOP), pure: once an entry filled, the
 * position manager places a STOP_LIMIT SELL of the whole position at the stop in force, so the stop
 * holds while Lambda or the pipeline is down. It is a PositionExit with reason STOP_LOSS (or
 * TRAILING_STOP once the trail is the stop in force, so a fill is booked under the rule that sold)
 * and `resting` terms, under its own id (position + placement), and it is not an exit in flight: the
 * position stays OPEN, pendingExits and unexitedBase ignore it, and the policy still watches the
 * whole position. Before any other sell of the position it is cancelled (never two sells live for
 * the same base); it is replaced, higher, once the trail rose 0.5R above it.
 *
 * The backtest (backtest/resting-stop.ts) replays the same stop with these functions: its terms
 * (restingTerms), its id (restingExitIdFor), its reason (restingReason) and when it is replaced
 * (stopLagsTrail).
 */
import { hash } from "node:crypto";
import { Decimal } from "decimal.js";
import type { ManagedPosition, PositionExit, RestingTerms } from "#domain/managed-position.js";
import { powerOfTenPlaces } from "#exchange/order-math.js";
import { ceilToGridWithin, plainTextOf, textOfUnits, unitsOf } from "#exchange/plain-decimal.js";

/** Refused placements (since the last operator clear) after which no resting stop is placed again. */
export const MAX_RESTING_STOP_FAILURES = 3;

/** The trail must rise this many R above the resting stop before the stop is replaced. */
export const REPLACE_AFTER_R = 0.5;

const MAX_ID_LENGTH = 200;
/** float noise of a level computed in doubles: a stop within this many grid steps of a line is on it */
const GRID_TOLERANCE = 1e-9;
/** GRID_TOLERANCE as 10^-GRID_TOLERANCE_PLACES */
const GRID_TOLERANCE_PLACES = 9;

/** The resting stop's recommendation id: the position and the placement (1, 2, ...), so a repeat names the same order. */
export function restingExitIdFor(positionId: string, placement: number): string {
  const id = `exit-${positionId}-RESTING_STOP-${placement}`;
  if (id.length <= MAX_ID_LENGTH) return id;
  const digest = hash("sha256", positionId).slice(0, 32);
  return `exit-${digest}-RESTING_STOP-${placement}`;
}

/** The resting stop live on the venue (placed or being placed, not settled), if any. */
export function restingExit(position: ManagedPosition): PositionExit | undefined {
  return position.exits.find((e) => e.resting !== undefined && e.outcome === undefined);
}

/** Placements refused by the venue since the last operator clear. */
export function restingFailures(position: ManagedPosition): number {
  const since = position.failuresClearedAt;
  return position.exits.filter(
    (e) => e.resting !== undefined && e.outcome === "FAILED" && (since === undefined || e.at >= since),
  ).length;
}

/** The stop-limit for a stop level: the stop up onto the grid, the limit `offset` under it, up onto the grid. */
export function restingTerms(stopLevel: number, priceIncrement: string, offset: number): RestingTerms {
  const gridPlaces = powerOfTenPlaces(priceIncrement);
  const level = plainTextOf(stopLevel);
  const factor = plainTextOf(1 - offset);
  if (gridPlaces >= 0 && level !== undefined && factor !== undefined) {
    // the same steps, exact, on a power-of-ten grid: a grid step is one unit of 10^-places
    const stop = ceilToGridWithin(unitsOf(level), gridPlaces, GRID_TOLERANCE_PLACES);
    const under = unitsOf(factor);
    const limit = ceilToGridWithin(
      { units: stop * under.units, scale: gridPlaces + under.scale },
      gridPlaces,
      GRID_TOLERANCE_PLACES,
    );
    return { stopPrice: textOfUnits(stop, gridPlaces), limitPrice: textOfUnits(limit, gridPlaces) };
  }
  const inc = new Decimal(priceIncrement);
  const up = (price: Decimal) => price.div(inc).minus(GRID_TOLERANCE).ceil().mul(inc);
  const stop = up(new Decimal(stopLevel));
  const limit = up(stop.mul(1 - offset));
  const places = Math.max(0, inc.decimalPlaces());
  return { stopPrice: stop.toFixed(places), limitPrice: limit.toFixed(places) };
}

/** The next resting stop of the position: the whole of `baseSize` at `stopLevel`. */
export function newRestingExit(
  position: ManagedPosition,
  stopLevel: number,
  terms: RestingTerms,
  baseSize: string,
  at: string,
): PositionExit {
  const placement = position.exits.filter((e) => e.resting !== undefined).length + 1;
  return {
    exitId: restingExitIdFor(position.positionId, placement),
    reason: restingReason(stopLevel, position.stopLoss),
    leg: 0,
    baseSize,
    triggerPrice: stopLevel,
    at,
    resting: terms,
  };
}

/** As the policy names the stop in force: the trail once it is above the initial stop. */
export function restingReason(stopLevel: number, initialStop: number): "STOP_LOSS" | "TRAILING_STOP" {
  return stopLevel > initialStop ? "TRAILING_STOP" : "STOP_LOSS";
}

/** The placement number of a resting stop (1, 2, ...). */
export function placementOf(position: ManagedPosition, exitId: string): number {
  const resting = position.exits.filter((e) => e.resting !== undefined);
  const index = resting.findIndex((e) => e.exitId === exitId);
  return index >= 0 ? index + 1 : resting.length + 1;
}

/** Whether the stop in force rose enough above the resting stop to replace it (REPLACE_AFTER_R). */
export function restingStopLagging(live: PositionExit, stopLevel: number, riskPerUnit: number): boolean {
  if (!live.resting) return false;
  return stopLagsTrail(Number(live.resting.stopPrice), stopLevel, riskPerUnit);
}

/** Whether a resting stop at `restingStopPrice` lags the stop in force by REPLACE_AFTER_R or more. */
export function stopLagsTrail(restingStopPrice: number, stopLevel: number, riskPerUnit: number): boolean {
  return stopLevel - restingStopPrice >= REPLACE_AFTER_R * riskPerUnit - 1e-12;
}
