/**
 * How often an exit may be refused before a person looks at it. An exit that ends FAILED or
 * CANCELLED puts its position back to OPEN, and the next evaluation issues it again under the next
 * attempt's id. Past EXIT_MAX_ATTEMPTS failed attempts of one reason and leg (the venue keeps
 * refusing: holdings gone, a product halted, a price band), the position is **held for an
 * operator**: `needsOperator` is set, the position manager issues no automatic exit on it, logs it
 * at error level and counts it (PositionsAwaitingOperator, alarmed) every run, until an operator
 * sells it by hand (a MANUAL exit, which clears the hold) or clears the hold (`retry-exits`).
 *
 * Pure: the position manager calls these on the state it is about to write.
 */
import { DEFAULT_EXIT_SETTINGS } from "#defaults";
import type { ExitReason, ManagedPosition, OperatorHold } from "#domain/managed-position.js";
import { pendingExits } from "./position-ledger.js";

export const DEFAULT_MAX_EXIT_ATTEMPTS = DEFAULT_EXIT_SETTINGS.maxAttempts;

/** Failed exits of this reason and leg that count toward the cap (those after the last clear). */
export function failedAttempts(position: ManagedPosition, reason: ExitReason, leg: number): number {
  const since = position.failuresClearedAt;
  return position.exits.filter(
    (e) =>
      e.reason === reason &&
      e.leg === leg &&
      e.outcome === "FAILED" &&
      e.resting === undefined &&
      (since === undefined || e.at >= since),
  ).length;
}

/** The first (reason, leg) whose failed attempts reached `maxAttempts`, or undefined. */
export function exhaustedExit(
  position: ManagedPosition,
  maxAttempts: number,
): Omit<OperatorHold, "since"> | undefined {
  const seen = new Set<string>();
  for (const exit of position.exits) {
    const key = `${exit.reason}#${exit.leg}`;
    if (exit.outcome !== "FAILED" || exit.resting || seen.has(key)) continue;
    seen.add(key);
    const failed = failedAttempts(position, exit.reason, exit.leg);
    if (failed >= maxAttempts) return { reason: exit.reason, leg: exit.leg, failedAttempts: failed };
  }
  return undefined;
}

/**
 * Whether the position waits for an operator: already held, or an exit just reached the cap (then
 * `newlyHeld` and the hold set on `position`). Undefined while an exit is still pending (its outcome
 * decides) or when no exit reached the cap.
 */
export function operatorHoldOf(
  position: ManagedPosition,
  maxAttempts: number,
  now: Date,
): { position: ManagedPosition; hold: OperatorHold; newlyHeld: boolean } | undefined {
  if (position.needsOperator) return { position, hold: position.needsOperator, newlyHeld: false };
  if (pendingExits(position).length > 0) return undefined;
  const exhausted = exhaustedExit(position, maxAttempts);
  if (!exhausted) return undefined;
  const hold: OperatorHold = { ...exhausted, since: now.toISOString() };
  return { position: { ...position, needsOperator: hold }, hold, newlyHeld: true };
}

/** The position with its hold lifted: the failures so far no longer count, automatic exits resume. */
export function clearOperatorHold(position: ManagedPosition, now: Date): ManagedPosition {
  const { needsOperator: _lifted, ...rest } = position;
  return { ...rest, failuresClearedAt: now.toISOString() };
}
