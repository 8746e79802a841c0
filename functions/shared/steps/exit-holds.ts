/**
 * What the position manager says about a position held for an operator (exits/exit-attempts.ts):
 * an error when the hold starts (an exit refused EXIT_MAX_ATTEMPTS times), a warning each run it
 * stays, and a line of the run's report, which PositionsAwaitingOperator counts (alarmed).
 */
import { exitLabel, type ManagedPosition, type OperatorHold } from "#domain/managed-position.js";
import type { Log } from "#runtime/log.js";

export interface AwaitingOperator {
  positionId: string;
  symbol: string;
  /** the refused exit's label (STOP_LOSS, TAKE_PROFIT_1, ...) */
  exit: string;
  failedAttempts: number;
}

/** What the operator can do about a held position, in the words of the commands. */
export function operatorHoldAdvice(positionId: string): string {
  return (
    `sell it by hand with {"action":"exit","positionId":"${positionId}","by":"<you>","reason":"<why>"}, ` +
    `or, once the cause is fixed, let the exits try again with {"action":"retry-exits","positionId":"${positionId}","by":"<you>","reason":"<why>"} ` +
    "(position-manager function; README, operator commands)"
  );
}

export function noteOperatorHold(
  log: Log,
  report: { awaitingOperator: AwaitingOperator[] },
  position: ManagedPosition,
  hold: OperatorHold,
  newlyHeld: boolean,
): void {
  const exit = exitLabel(hold.reason, hold.leg);
  report.awaitingOperator.push({
    positionId: position.positionId,
    symbol: position.symbol,
    exit,
    failedAttempts: hold.failedAttempts,
  });
  const details = {
    correlationId: position.positionId,
    symbol: position.symbol,
    exit,
    failedAttempts: hold.failedAttempts,
    since: hold.since,
    quantity: position.quantity,
    advice: operatorHoldAdvice(position.positionId),
  };
  if (newlyHeld)
    log.error(
      `exit ${exit} refused ${hold.failedAttempts} times: no automatic exit is issued on this position until an operator acts`,
      details,
    );
  else log.warn("position still waits for an operator: no automatic exit is issued on it", details);
}
