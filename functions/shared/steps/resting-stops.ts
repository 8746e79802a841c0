/**
 * The position manager's part in the resting stop (exits/resting-stop.ts): what became of the stop
 * it placed, and taking it off the venue before any other sell of the position.
 *
 * - Settling: a placement whose recommendation ended FAILED or CANCELLED (the venue refused it: a
 *   stop already reached, holdings gone) is marked FAILED; after MAX_RESTING_STOP_FAILURES such
 *   placements no resting stop is placed again (logged at error level), and the manager's own
 *   every-minute stop is the only one. A recommendation that never got stored (a crash between the
 *   position's write and the recommendation's) is issued again; one left RISK_APPROVED is re-sent.
 * - Cancelling: the order is found by the recommendation's orderId (the executor sets it when the
 *   venue accepts), else asked of the venue by its client_order_id (no read of the orders table, so
 *   the position manager's role needs none), and cancelled. CANCELLED with nothing filled: the other sell may go. Any fill
 *   (FILLED, or cancelled after a partial fill): nothing else is sold, the portfolio step books the
 *   fill on the position. Not placed yet, or the cancel still pending: the caller waits a minute.
 *   An order the venue does not know (the venue changed under the position) holds nothing there:
 *   taken as cancelled.
 */
import { Decimal } from "decimal.js";
import type { ManagedPosition, PositionExit } from "#domain/schemas.js";
import type { Exchange } from "#exchange/exchange.js";
import { settleExit } from "#exits/position-ledger.js";
import { MAX_RESTING_STOP_FAILURES, restingExit, restingFailures } from "#exits/resting-stop.js";
import type { Log } from "#runtime/log.js";
import type { RecommendationStore } from "#store/ports.js";
import { clientOrderIdFor } from "./execute-trade.js";

export interface RestingStopDeps {
  recommendations: Pick<RecommendationStore, "get">;
  exchange: Pick<Exchange, "cancelOrder" | "getOrder" | "findOrderByClientOrderId">;
  log: Log;
}

/** What became of a cancel: the stop is off the venue unfilled, something of it sold, or not yet known. */
export type CancelOutcome = "cancelled" | "filled" | "pending";

/** What settling the live resting stop asks of the manager. */
export type RestingSettlement =
  | { kind: "live" | "none" }
  /** its recommendation is missing (issue it again) or waiting too long (send it again) */
  | { kind: "reissue" | "resend"; exit: PositionExit }
  /** the venue refused it: the position with the placement marked FAILED */
  | { kind: "failed"; position: ManagedPosition; exitId: string; capReached: boolean };

export async function settleRestingStop(
  deps: RestingStopDeps,
  position: ManagedPosition,
  now: Date,
  resendAfterMs: number,
): Promise<RestingSettlement> {
  const live = restingExit(position);
  if (!live) return { kind: "none" };
  const rec = await deps.recommendations.get(live.exitId);
  if (!rec) return { kind: "reissue", exit: live };
  if (rec.status === "FAILED" || rec.status === "CANCELLED") {
    const next = settleExit(position, live.exitId, "FAILED");
    const capReached = restingFailures(next) >= MAX_RESTING_STOP_FAILURES;
    const details = {
      correlationId: live.exitId,
      positionId: position.positionId,
      symbol: position.symbol,
      reason: rec.statusReason,
    };
    if (capReached)
      deps.log.error(
        `resting stop refused ${MAX_RESTING_STOP_FAILURES} times: no stop rests on the venue for this position any more; the position manager still sells at the stop each minute. Check the refusals, then send retry-exits for the position to place it again.`,
        details,
      );
    else deps.log.warn("resting stop refused by the venue; the next run places it again", details);
    return { kind: "failed", position: next, exitId: live.exitId, capReached };
  }
  if (rec.status === "RISK_APPROVED" && now.getTime() - Date.parse(rec.updatedAt) >= resendAfterMs)
    return { kind: "resend", exit: live };
  return { kind: "live" };
}

/** Takes the resting stop off the venue (see the header). */
export async function cancelRestingStop(
  deps: RestingStopDeps,
  symbol: string,
  exit: PositionExit,
): Promise<CancelOutcome> {
  const rec = await deps.recommendations.get(exit.exitId);
  // not stored, or not placed yet: the executor may still place it, so wait for it
  if (!rec || rec.status === "RISK_APPROVED" || rec.status === "EXECUTING") return "pending";
  // refused, never on the venue
  if (rec.status === "FAILED" || rec.status === "CANCELLED") return "cancelled";
  const orderId =
    rec.orderId ||
    (await deps.exchange.findOrderByClientOrderId(clientOrderIdFor(exit.exitId), symbol, new Date(exit.at)))
      ?.orderId;
  if (!orderId) {
    deps.log.warn("resting stop executed but its order id is unknown; its cancel waits for the next run", {
      correlationId: exit.exitId,
    });
    return "pending";
  }
  const result = await deps.exchange.cancelOrder(orderId);
  const order = result.order ?? (await deps.exchange.getOrder(orderId));
  if (!order) {
    // not on this venue (TRADING_MODE changed under an open position, or the venue dropped it): it
    // holds nothing here and can never fill, so it is off the venue
    deps.log.warn("the venue does not know the resting stop's order: taken as cancelled", {
      correlationId: exit.exitId,
      orderId,
      reason: result.reason,
    });
    return "cancelled";
  }
  const outcome: CancelOutcome =
    order.status === "FILLED" || new Decimal(order.filledSize || "0").gt(0)
      ? "filled"
      : order.status === "CANCELLED" || order.status === "EXPIRED" || order.status === "FAILED"
        ? "cancelled"
        : "pending";
  deps.log.info(`resting stop ${outcome === "pending" ? "cancel pending" : outcome}`, {
    correlationId: exit.exitId,
    orderId,
    status: order.status,
    filledSize: order.filledSize,
  });
  return outcome;
}
