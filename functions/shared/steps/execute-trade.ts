/**
 * The execution step: places the order a risk decision approved, exactly once, and exactly that.
 *
 * Trust boundary: the queue message names a recommendation and nothing else the executor acts on.
 * Symbol, side and size come from the stored risk decision (sized once, at decision time); a message
 * whose echoed symbol or side disagrees with the store is refused and counted, never traded.
 *
 * Never twice:
 * - the exchange order carries a client_order_id derived only from the recommendation id, and both
 *   venues answer a repeated id with the original order instead of a new one;
 * - RISK_APPROVED → EXECUTING is a conditional write; the order record is created once per
 *   client_order_id, before anything is sent, and holds the sizes every later attempt re-sends;
 * - a delivery that finds an order record it did not create (a retry, or a concurrent twin) first
 *   asks the venue for the order by client_order_id and adopts what the venue did;
 * - one sender at a time: only the delivery that created the record sends it until its claim
 *   lapses (longer than the executor's timeout); a twin that finds the venue silent retries later;
 * - a refusal is recorded only on a record never placed (conditional write).
 * The kill switch is honoured before EXECUTING. Once EXECUTING, the order may already exist at the
 * exchange, so the step completes (idempotently) rather than leaving an unknown order behind.
 *
 * Exits (a recommendation with `exit`, issued by the position manager) are protective: the kill switch
 * never cancels one, and the price band never refuses one (a crash through a stop is exactly when the
 * bid leaves the band); both are logged. Their SELL is sized like any other: the approved base, capped
 * at what the venue holds now, floored to the base increment.
 */
import { hash } from "node:crypto";
import { Decimal } from "decimal.js";
import { DEFAULT_GRANULARITY, DEFAULT_PRICE_BAND } from "#defaults";
import { enteredAt, isTerminal } from "#domain/recommendation-lifecycle.js";
import type {
  ExecutionRequest,
  Granularity,
  Order,
  OrderStatus,
  Recommendation,
  RiskDecision,
} from "#domain/schemas.js";
import type { Exchange, ExchangeOrder, PlaceOrderRequest, ProductRules } from "#exchange/exchange.js";
import { floorToIncrement } from "#exchange/order-math.js";
import { comparePlain, PLAIN } from "#exchange/plain-decimal.js";
import { priceSanityRefusal } from "#exchange/price-sanity.js";
import type { Log } from "#runtime/log.js";
import {
  type CandleStore,
  type DecisionStore,
  type KillSwitchStore,
  type OrderStore,
  type PortfolioStore,
  RecommendationNotFoundError,
  type RecommendationStore,
} from "#store/ports.js";

export interface ExecutionDeps {
  recommendations: RecommendationStore;
  decisions: Pick<DecisionStore, "getRiskDecision">;
  orders: OrderStore;
  candles: Pick<CandleStore, "latestCandles">;
  killSwitch: KillSwitchStore;
  portfolio: Pick<PortfolioStore, "releaseReservation">;
  exchange: Exchange;
  log: Log;
}

export interface ExecutionSettings {
  /** the venue's quote may sit this far from the last stored close (fraction; 0.1 = ±10%) */
  priceBand: number;
  granularity: Granularity;
  /**
   * How long the delivery that created an order record owns it. After that it is surely gone (the
   * executor's timeout is shorter), so another delivery may record a refusal for it.
   */
  claimLeaseMs: number;
}

export const DEFAULT_EXECUTION_SETTINGS: ExecutionSettings = {
  priceBand: DEFAULT_PRICE_BAND,
  granularity: DEFAULT_GRANULARITY,
  claimLeaseMs: 120_000,
};

export type ExecutionOutcome =
  | { outcome: "executed"; order: Order }
  | { outcome: "failed"; reason: string; priceRefusal?: boolean }
  | { outcome: "cancelled"; reason: string }
  | { outcome: "already-done"; status: Recommendation["status"] }
  | { outcome: "message-refused"; reason: string };

/** The approved order a risk decision fixed (symbol, side, size). */
export type ApprovedOrder = NonNullable<RiskDecision["order"]>;

/** Deterministic, ≤ 128 chars of [A-Za-z0-9_-], as Coinbase accepts. */
export function clientOrderIdFor(recommendationId: string): string {
  return `tp-${hash("sha256", recommendationId).slice(0, 40)}`;
}

/**
 * The order an approval stands for, on the product's grid: a BUY spends the approved quote; a SELL
 * sells the approved base, capped at what the venue holds now, never more than approved; an
 * approval with a stopPrice (a resting stop) is a STOP_LIMIT SELL of that base.
 */
export function orderRequestFor(
  approved: ApprovedOrder,
  rules: ProductRules,
  heldBase: string | undefined,
  clientOrderId: string,
): PlaceOrderRequest {
  if (approved.side === "BUY") {
    const quoteSize = floorToIncrement(approved.quoteSize ?? "0", rules.quoteIncrement);
    return { clientOrderId, productId: approved.symbol, side: "BUY", type: "MARKET", quoteSize };
  }
  const wanted = approved.baseSize ?? "0";
  const held = heldBase ?? "0";
  const smaller =
    PLAIN.test(wanted) && PLAIN.test(held)
      ? comparePlain(wanted, held) <= 0
        ? wanted
        : held
      : Decimal.max(Decimal.min(new Decimal(wanted), new Decimal(held)), 0).toFixed();
  const baseSize = floorToIncrement(smaller, rules.baseIncrement);
  if (approved.stopPrice !== undefined && approved.limitPrice !== undefined)
    return {
      clientOrderId,
      productId: approved.symbol,
      side: "SELL",
      type: "STOP_LIMIT",
      baseSize,
      stopPrice: approved.stopPrice,
      limitPrice: approved.limitPrice,
    };
  return { clientOrderId, productId: approved.symbol, side: "SELL", type: "MARKET", baseSize };
}

function orderRecord(
  rec: Recommendation,
  request: PlaceOrderRequest,
  venue: Exchange["venue"],
  status: OrderStatus,
  now: Date,
  failureReason?: string,
): Order {
  const at = now.toISOString();
  return {
    clientOrderId: request.clientOrderId,
    orderId: "",
    recommendationId: rec.recommendationId,
    venue,
    symbol: rec.symbol,
    side: rec.side,
    type: request.type,
    quoteSize: request.quoteSize,
    baseSize: request.baseSize,
    limitPrice: request.limitPrice,
    ...(request.stopPrice !== undefined ? { stopPrice: request.stopPrice } : {}),
    status,
    filledSize: "0",
    averageFilledPrice: "0",
    filledValue: "0",
    totalFees: "0",
    ...(failureReason ? { failureReason, reconciled: true } : {}),
    createdAt: at,
    updatedAt: at,
  };
}

/** The request a stored order record stands for: its sizes, never recomputed. */
function requestOf(order: Order): PlaceOrderRequest {
  return {
    clientOrderId: order.clientOrderId,
    productId: order.symbol,
    side: order.side,
    type: order.type,
    ...(order.quoteSize !== undefined ? { quoteSize: order.quoteSize } : {}),
    ...(order.baseSize !== undefined ? { baseSize: order.baseSize } : {}),
    ...(order.limitPrice !== undefined ? { limitPrice: order.limitPrice } : {}),
    ...(order.stopPrice !== undefined ? { stopPrice: order.stopPrice } : {}),
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

/** Why the message or the store cannot be traded as they stand; undefined when they agree. */
export function executionMismatch(
  message: Pick<ExecutionRequest, "recommendationId" | "symbol" | "side">,
  rec: Pick<Recommendation, "symbol" | "side">,
  decision: RiskDecision | undefined,
): string | undefined {
  const id = message.recommendationId;
  if (message.symbol !== rec.symbol || message.side !== rec.side)
    return `message for ${id} says ${message.side} ${message.symbol}, the recommendation is ${rec.side} ${rec.symbol}`;
  if (!decision) return `no risk decision is stored for ${id}`;
  if (decision.decision !== "APPROVE") return `the stored risk decision for ${id} is ${decision.decision}`;
  if (!decision.order)
    return `the stored risk decision for ${id} fixes no order size (decided by an older version)`;
  if (decision.order.symbol !== rec.symbol || decision.order.side !== rec.side)
    return `the risk decision for ${id} approved ${decision.order.side} ${decision.order.symbol}, the recommendation is ${rec.side} ${rec.symbol}`;
  return undefined;
}

class ClaimHeldElsewhereError extends Error {
  override readonly name = "ClaimHeldElsewhereError";
}

export async function executeTrade(
  deps: ExecutionDeps,
  request: ExecutionRequest,
  now: Date,
  settings: ExecutionSettings = DEFAULT_EXECUTION_SETTINGS,
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

  const decision = await deps.decisions.getRiskDecision(id);
  const mismatch = executionMismatch(request, rec, decision);
  if (mismatch || !decision?.order) {
    const reason = `${mismatch}; nothing was traded. Check who writes to the execution queue (a redrive of an edited message?).`;
    deps.log.error("execution message refused", { correlationId: id, reason, message: request });
    return { outcome: "message-refused", reason };
  }
  const approved = decision.order;

  const clientOrderId = clientOrderIdFor(id);
  if (rec.status === "RISK_APPROVED") {
    const kill = await deps.killSwitch.get();
    if (kill.active && rec.exit) {
      deps.log.warn("kill switch on: an exit goes ahead (protective exits are never blocked)", {
        correlationId: id,
        killSwitch: kill,
      });
    } else if (kill.active) {
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
        { clientOrderId },
      )
    ).recommendation;
  }

  // the first attempt fixes the order on the grid and records it before anything is sent
  let record = await deps.orders.getOrder(clientOrderId);
  let owner = false;
  if (!record) {
    const [rules, balances] = await Promise.all([
      deps.exchange.getProductRules(approved.symbol),
      approved.side === "SELL" ? deps.exchange.getBalances() : undefined,
    ]);
    const base = approved.symbol.split("-")[0]!;
    const planned = orderRequestFor(approved, rules, balances?.[base]?.available, clientOrderId);
    const put = await deps.orders.putOrderIfAbsent(
      orderRecord(rec, planned, deps.exchange.venue, "PENDING", now),
    );
    record = put.order;
    owner = put.created;
  }
  return completeOrder(deps, settings, rec, record, owner, now);
}

/** Takes an order record to the venue's truth: adopt, place, or (if allowed) record a refusal. */
async function completeOrder(
  deps: ExecutionDeps,
  settings: ExecutionSettings,
  rec: Recommendation,
  record: Order,
  owner: boolean,
  now: Date,
): Promise<ExecutionOutcome> {
  const id = rec.recommendationId;
  if (record.status === "FAILED" && !record.orderId) {
    return recordFailure(deps, rec, record.failureReason ?? "order refused before it was placed", now);
  }
  if (record.orderId) return adopt(deps, rec, record, record.orderId, now);

  const ageMs = now.getTime() - Date.parse(record.createdAt);
  if (!owner) {
    const found = await deps.exchange.findOrderByClientOrderId(
      record.clientOrderId,
      record.symbol,
      new Date(Date.parse(record.createdAt)),
    );
    // a paper placement claimed but unfinished is completed by placing again (idempotent)
    if (found && found.status !== "PENDING") return adopt(deps, rec, record, found.orderId, now, found);
    // one sender at a time: the record's creator owns it until its claim lapses
    if (ageMs < settings.claimLeaseMs && !found) {
      throw new ClaimHeldElsewhereError(
        `Recommendation ${id}: order ${record.clientOrderId} was recorded ${Math.round(ageMs / 1000)} s ago by another delivery that may still be placing it, and the venue does not show it yet. Nothing was sent; the message will be retried.`,
      );
    }
  }

  const refuse = async (reason: string, priceRefusal: boolean): Promise<ExecutionOutcome> => {
    const failed = await deps.orders.failOrderIfUnplaced(record.clientOrderId, reason, now);
    if (!failed.changed && failed.order?.orderId) {
      return adopt(deps, rec, failed.order, failed.order.orderId, now);
    }
    const outcome = await recordFailure(deps, rec, reason, now);
    return outcome.outcome === "failed" ? { ...outcome, priceRefusal } : outcome;
  };

  const request = requestOf(record);
  const [quote, [latest]] = await Promise.all([
    deps.exchange.getBestBidAsk(record.symbol),
    deps.candles.latestCandles(record.symbol, settings.granularity, 1),
  ]);
  const insane = priceSanityRefusal({
    side: record.side,
    quote,
    referenceClose: latest?.close,
    band: settings.priceBand,
  });
  if (insane && rec.exit) {
    deps.log.warn(
      "price check failed for an exit; the exit goes ahead (protective exits are never refused)",
      {
        correlationId: id,
        check: insane.reason,
        detail: insane.message,
      },
    );
  } else if (insane) return refuse(`${insane.reason}: ${insane.message}`, true);

  deps.log.info("placing order", { correlationId: id, clientOrderId: record.clientOrderId, request });
  // A timeout, a 5xx or a network error throws here: the message is retried, the retry finds the
  // record, asks the venue for this client_order_id and adopts the order or sends the same request.
  const placed = await deps.exchange.placeOrder(request);
  if (placed.accepted) return adopt(deps, rec, record, placed.orderId, now);
  const reason = `${placed.reason}: ${placed.message}`;
  deps.log.warn("order refused", { correlationId: id, reason });
  return refuse(`exchange refused the order: ${reason}`, false);
}

/** The venue holds the order: store its state and finish the recommendation as EXECUTED. */
async function adopt(
  deps: ExecutionDeps,
  rec: Recommendation,
  record: Order,
  orderId: string,
  now: Date,
  known?: ExchangeOrder,
): Promise<ExecutionOutcome> {
  const exchangeOrder = known ?? (await deps.exchange.getOrder(orderId));
  const order: Order = exchangeOrder
    ? withExchangeState(record, exchangeOrder, now)
    : {
        ...record,
        orderId,
        status: record.status === "PENDING" ? "OPEN" : record.status,
        updatedAt: now.toISOString(),
      };
  await deps.orders.updateOrder(order);
  const { recommendation } = await deps.recommendations.transition(
    rec.recommendationId,
    "EXECUTING",
    "EXECUTED",
    `order ${orderId} accepted (${order.status}, filled ${order.filledSize} at ${order.averageFilledPrice})`,
    now,
    { orderId },
  );
  return recommendation.status === "EXECUTED"
    ? { outcome: "executed", order }
    : { outcome: "already-done", status: recommendation.status };
}

async function recordFailure(
  deps: ExecutionDeps,
  rec: Recommendation,
  reason: string,
  now: Date,
): Promise<ExecutionOutcome> {
  const { changed } = await deps.recommendations.transition(
    rec.recommendationId,
    "EXECUTING",
    "FAILED",
    reason,
    now,
  );
  if (changed) await deps.portfolio.releaseReservation(rec.recommendationId);
  return { outcome: "failed", reason };
}

export interface StuckResolution {
  recommendationId: string;
  clientOrderId: string;
  /** what the venue said, and what the store now says */
  resolution: "adopted" | "failed" | "not-stuck";
  detail: string;
}

/**
 * The operator's way out for a recommendation stuck in EXECUTING (a 401, exhausted retries): ask the
 * venue for its client_order_id; adopt the order if the venue holds one, otherwise record FAILED
 * (nothing is ever placed from here: a stale approval is not traded at today's price).
 */
export async function resolveStuckExecution(
  deps: ExecutionDeps,
  recommendationId: string,
  now: Date,
): Promise<StuckResolution> {
  const clientOrderId = clientOrderIdFor(recommendationId);
  const rec = await deps.recommendations.get(recommendationId);
  if (!rec) throw new RecommendationNotFoundError(recommendationId);
  if (rec.status !== "EXECUTING") {
    return { recommendationId, clientOrderId, resolution: "not-stuck", detail: `it is ${rec.status}` };
  }
  const record = await deps.orders.getOrder(clientOrderId);
  const createdAt = record?.createdAt ?? enteredAt(rec, "EXECUTING") ?? rec.createdAt;
  const found = record?.orderId
    ? await deps.exchange.getOrder(record.orderId)
    : await deps.exchange.findOrderByClientOrderId(
        clientOrderId,
        rec.symbol,
        new Date(Date.parse(createdAt)),
      );
  if (found) {
    const base = record ?? orderRecord(rec, requestFromFound(found), deps.exchange.venue, "PENDING", now);
    if (!record) await deps.orders.putOrderIfAbsent(base);
    await adopt(deps, rec, base, found.orderId, now, found);
    return {
      recommendationId,
      clientOrderId,
      resolution: "adopted",
      detail: `the venue holds order ${found.orderId} (${found.status}, filled ${found.filledSize})`,
    };
  }
  const reason = `resolved by an operator: the ${deps.exchange.venue} venue holds no order with client_order_id ${clientOrderId}`;
  if (record) {
    const failed = await deps.orders.failOrderIfUnplaced(clientOrderId, reason, now);
    if (!failed.changed && failed.order?.orderId) {
      await adopt(deps, rec, failed.order, failed.order.orderId, now);
      return {
        recommendationId,
        clientOrderId,
        resolution: "adopted",
        detail: `order ${failed.order.orderId}`,
      };
    }
  }
  await recordFailure(deps, rec, reason, now);
  return { recommendationId, clientOrderId, resolution: "failed", detail: reason };
}

function requestFromFound(found: ExchangeOrder): PlaceOrderRequest {
  return {
    clientOrderId: found.clientOrderId,
    productId: found.productId,
    side: found.side,
    type: found.type,
  };
}

/** Recommendations EXECUTING for longer than `olderThanMs`: what the health report and alarm show. */
export async function stuckExecutions(
  recommendations: Pick<RecommendationStore, "byStatusCreatedBefore">,
  now: Date,
  olderThanMs: number,
): Promise<Recommendation[]> {
  const cutoff = now.getTime() - olderThanMs;
  const candidates = await recommendations.byStatusCreatedBefore("EXECUTING", new Date(cutoff), 100);
  return candidates.filter((r) => {
    const since = enteredAt(r, "EXECUTING") ?? r.updatedAt;
    return Date.parse(since) <= cutoff;
  });
}
