/**
 * The execution step: places the order of a risk-approved recommendation, exactly once.
 *
 * Never twice:
 * - the exchange order carries a client_order_id derived only from the recommendation id, and both
 *   venues answer a repeated id with the original order instead of a new one;
 * - RISK_APPROVED → EXECUTING is a conditional write; a delivery that finds EXECUTING (a retry
 *   after a crash or a timeout after the exchange accepted) re-sends the SAME client_order_id,
 *   which either creates the order (the first attempt never arrived) or returns the one that exists;
 * - the order record is created once per client_order_id.
 * The kill switch is honoured before EXECUTING. Once EXECUTING, the order may already exist at the
 * exchange, so the step completes (idempotently) rather than leaving an unknown order behind.
 */
import { createHash } from "node:crypto";
import { Decimal } from "decimal.js";
import { floorToIncrement } from "../coinbase/order-math.js";
import { isTerminal } from "../domain/recommendation-lifecycle.js";
import type { ExecutionRequest, Order, OrderStatus, Recommendation } from "../domain/schemas.js";
import type { Exchange, ExchangeOrder, PlaceOrderRequest } from "../exchange/exchange.js";
import type { Log } from "../runtime/log.js";
import {
  type KillSwitchStore,
  type OrderStore,
  type PortfolioStore,
  RecommendationNotFoundError,
  type RecommendationStore,
} from "../store/ports.js";

export interface ExecutionDeps {
  recommendations: RecommendationStore;
  orders: OrderStore;
  killSwitch: KillSwitchStore;
  portfolio: Pick<PortfolioStore, "releaseReservation">;
  exchange: Exchange;
  log: Log;
}

export type ExecutionOutcome =
  | { outcome: "executed"; order: Order }
  | { outcome: "failed"; reason: string }
  | { outcome: "cancelled"; reason: string }
  | { outcome: "already-done"; status: Recommendation["status"] };

/** Deterministic, ≤ 128 chars of [A-Za-z0-9_-], as Coinbase accepts. */
export function clientOrderIdFor(recommendationId: string): string {
  return `tp-${createHash("sha256").update(recommendationId).digest("hex").slice(0, 40)}`;
}

/** The order the recommendation asks for, in the product's increments: BUY spends quote, SELL sells base. */
export async function orderRequestFor(
  exchange: Exchange,
  request: ExecutionRequest,
  clientOrderId: string,
): Promise<PlaceOrderRequest> {
  const rules = await exchange.getProductRules(request.symbol);
  if (request.side === "BUY") {
    const quoteSize = floorToIncrement(new Decimal(request.amountUsd).toFixed(), rules.quoteIncrement);
    return { clientOrderId, productId: request.symbol, side: "BUY", type: "MARKET", quoteSize };
  }
  // spot: sell at most what the venue holds of the base currency
  const [{ bid }, balances] = await Promise.all([
    exchange.getBestBidAsk(request.symbol),
    exchange.getBalances(),
  ]);
  const held = new Decimal(balances[request.symbol.split("-")[0]]?.available ?? "0");
  const wanted = Decimal.min(new Decimal(request.amountUsd).div(bid), held);
  const baseSize = floorToIncrement(wanted.toFixed(), rules.baseIncrement);
  return { clientOrderId, productId: request.symbol, side: "SELL", type: "MARKET", baseSize };
}

function orderRecord(
  rec: Recommendation,
  request: PlaceOrderRequest,
  venue: Exchange["venue"],
  status: OrderStatus,
  now: Date,
  orderId = "",
): Order {
  const at = now.toISOString();
  return {
    clientOrderId: request.clientOrderId,
    orderId,
    recommendationId: rec.recommendationId,
    venue,
    symbol: rec.symbol,
    side: rec.side,
    type: request.type,
    quoteSize: request.quoteSize,
    baseSize: request.baseSize,
    limitPrice: request.limitPrice,
    status,
    filledSize: "0",
    averageFilledPrice: "0",
    filledValue: "0",
    totalFees: "0",
    createdAt: at,
    updatedAt: at,
  };
}

export function withExchangeState(order: Order, ex: ExchangeOrder, now: Date): Order {
  return {
    ...order,
    orderId: ex.orderId,
    status: ex.status,
    filledSize: ex.filledSize,
    averageFilledPrice: ex.averageFilledPrice,
    filledValue: ex.filledValue,
    totalFees: ex.totalFees,
    failureReason: ex.rejectReason ?? order.failureReason,
    updatedAt: now.toISOString(),
  };
}

export async function executeTrade(
  deps: ExecutionDeps,
  request: ExecutionRequest,
  now: Date,
): Promise<ExecutionOutcome> {
  const id = request.recommendationId;
  let rec = await deps.recommendations.get(id);
  if (!rec) throw new RecommendationNotFoundError(id);
  if (isTerminal(rec.status)) return { outcome: "already-done", status: rec.status };
  if (rec.status !== "RISK_APPROVED" && rec.status !== "EXECUTING") {
    throw new Error(
      `Recommendation ${id} is ${rec.status}; only RISK_APPROVED recommendations are executed. The message will be retried; if it ends in the DLQ, inspect the recommendation's history.`,
    );
  }

  const clientOrderId = clientOrderIdFor(id);
  if (rec.status === "RISK_APPROVED") {
    const kill = await deps.killSwitch.get();
    if (kill.active) {
      const reason = `kill switch on (set by ${kill.changedBy} at ${kill.changedAt}: ${kill.reason})`;
      const { changed } = await deps.recommendations.transition(
        id,
        "RISK_APPROVED",
        "CANCELLED",
        reason,
        now,
      );
      if (changed) await deps.portfolio.releaseReservation(id);
      return { outcome: "cancelled", reason };
    }
    rec = (
      await deps.recommendations.transition(
        id,
        "RISK_APPROVED",
        "EXECUTING",
        `placing order ${clientOrderId}`,
        now,
        {
          clientOrderId,
        },
      )
    ).recommendation;
  }

  const orderRequest = await orderRequestFor(deps.exchange, request, clientOrderId);
  const { order: record } = await deps.orders.putOrderIfAbsent(
    orderRecord(rec, orderRequest, deps.exchange.venue, "PENDING", now),
  );
  deps.log.info("placing order", { correlationId: id, clientOrderId, request: orderRequest });

  // A timeout, a 5xx or a network error throws here: the message is retried and the same
  // client_order_id is sent again, so the exchange answers with the order it already has.
  const placed = await deps.exchange.placeOrder(orderRequest);
  if (!placed.accepted) {
    const reason = `${placed.reason}: ${placed.message}`;
    await deps.orders.updateOrder({
      ...record,
      status: "FAILED",
      failureReason: reason,
      reconciled: true,
      updatedAt: now.toISOString(),
    });
    await deps.recommendations.transition(
      id,
      "EXECUTING",
      "FAILED",
      `exchange refused the order: ${reason}`,
      now,
    );
    await deps.portfolio.releaseReservation(id);
    deps.log.warn("order refused", { correlationId: id, reason });
    return { outcome: "failed", reason };
  }

  const exchangeOrder = await deps.exchange.getOrder(placed.orderId);
  const order = exchangeOrder
    ? withExchangeState(record, exchangeOrder, now)
    : { ...record, orderId: placed.orderId, status: "OPEN" as const, updatedAt: now.toISOString() };
  await deps.orders.updateOrder(order);
  await deps.recommendations.transition(
    id,
    "EXECUTING",
    "EXECUTED",
    `order ${placed.orderId} accepted (${order.status}, filled ${order.filledSize} at ${order.averageFilledPrice})`,
    now,
    { orderId: placed.orderId },
  );
  return { outcome: "executed", order };
}
