/** The live venue: Coinbase Advanced Trade behind the Exchange port. */

import { Decimal } from "decimal.js";
import { type Fill, type OrderStatus, type OrderType, TERMINAL_ORDER_STATUSES } from "#domain/schemas.js";
import type {
  Balance,
  BestBidAsk,
  CancelResult,
  Exchange,
  ExchangeOrder,
  PlaceOrderRequest,
  PlaceOrderResult,
  ProductRules,
  SubmittedSizes,
} from "#exchange/exchange.js";
import { hasSufficientBalance } from "#exchange/order-math.js";
import { localRefusal, requestShapeProblem, stopDirectionOf } from "#exchange/order-request.js";
import type { CoinbaseTradingClient, OrderBody } from "./trading.js";
import type { FillWire, OrderWire, ProductWire } from "./wire.js";

export interface CoinbaseExchangeOptions {
  /** product rules are re-read after this long; default 5 minutes */
  rulesTtlMs?: number;
  /** how far back to look for an earlier order with the same client_order_id; default 7 days */
  replayLookbackMs?: number;
  /** after a cancel is accepted, the order is re-read up to this many more times until it is terminal; default 10 */
  cancelPollAttempts?: number;
  /** pause between those reads; default 200 ms */
  cancelPollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export function productRulesFrom(product: ProductWire): ProductRules {
  return {
    productId: product.product_id,
    baseIncrement: product.base_increment,
    quoteIncrement: product.quote_increment,
    priceIncrement: product.price_increment || product.quote_increment,
    baseMinSize: product.base_min_size,
    baseMaxSize: product.base_max_size,
    quoteMinSize: product.quote_min_size,
    quoteMaxSize: product.quote_max_size,
    tradable:
      product.status === "online" &&
      !product.trading_disabled &&
      !product.is_disabled &&
      !product.cancel_only,
    limitOnly: product.limit_only,
    postOnly: product.post_only,
  };
}

const STATUS_MAP: Record<string, OrderStatus> = {
  PENDING: "PENDING",
  QUEUED: "PENDING",
  OPEN: "OPEN",
  CANCEL_QUEUED: "OPEN",
  EDIT_QUEUED: "OPEN",
  FILLED: "FILLED",
  CANCELLED: "CANCELLED",
  EXPIRED: "EXPIRED",
  FAILED: "FAILED",
};

function orderTypeOf(order: OrderWire): OrderType {
  const config = order.order_configuration;
  if (order.order_type === "STOP_LIMIT" || config?.stop_limit_stop_limit_gtc) return "STOP_LIMIT";
  if (order.order_type === "LIMIT" || config?.limit_limit_gtc) return "LIMIT";
  return "MARKET";
}

/** The order's own terms from its order_configuration; for a stop, whether it triggered. */
function termsOf(order: OrderWire, type: OrderType): Partial<ExchangeOrder> {
  const config = order.order_configuration;
  const stop = config?.stop_limit_stop_limit_gtc;
  if (stop)
    return {
      baseSize: stop.base_size,
      limitPrice: stop.limit_price,
      stopPrice: stop.stop_price,
      // a filled stop triggered, whatever trigger_status says afterwards
      triggered: order.trigger_status === "STOP_TRIGGERED" || new Decimal(order.filled_size || "0").gt(0),
    };
  if (type === "STOP_LIMIT")
    return {
      triggered: order.trigger_status === "STOP_TRIGGERED" || new Decimal(order.filled_size || "0").gt(0),
    };
  const limit = config?.limit_limit_gtc;
  if (limit) return { baseSize: limit.base_size, limitPrice: limit.limit_price };
  const baseSize = config?.market_market_ioc?.base_size;
  return baseSize ? { baseSize } : {};
}

export function exchangeOrderFrom(order: OrderWire): ExchangeOrder {
  const type = orderTypeOf(order);
  return {
    orderId: order.order_id,
    clientOrderId: order.client_order_id,
    productId: order.product_id,
    side: order.side === "SELL" ? "SELL" : "BUY",
    type,
    // an unknown status is treated as still working, so callers keep polling rather than book a fill
    status: STATUS_MAP[order.status] ?? "PENDING",
    venueStatus: order.status,
    filledSize: order.filled_size || "0",
    averageFilledPrice: order.average_filled_price || "0",
    filledValue: order.filled_value || "0",
    totalFees: order.total_fees || "0",
    completionPercentage: order.completion_percentage || "0",
    createdAt: order.created_time,
    ...(order.reject_reason && order.reject_reason !== "REJECT_REASON_UNSPECIFIED"
      ? { rejectReason: order.reject_reason }
      : {}),
    ...termsOf(order, type),
  };
}

export function fillFrom(fill: FillWire, clientOrderId: string): Fill {
  const size = fill.size_in_quote ? new Decimal(fill.size).div(fill.price).toString() : fill.size;
  return {
    tradeId: fill.trade_id,
    orderId: fill.order_id,
    clientOrderId,
    symbol: fill.product_id,
    side: fill.side === "SELL" ? "SELL" : "BUY",
    price: fill.price,
    size,
    commission: fill.commission,
    // unknown liquidity is booked as taker: the higher fee is the conservative assumption
    liquidity: fill.liquidity_indicator === "MAKER" ? "MAKER" : "TAKER",
    tradeTime: new Date(fill.trade_time).toISOString(),
  };
}

export class CoinbaseExchange implements Exchange {
  readonly venue = "coinbase" as const;
  private readonly rulesCache = new Map<string, { rules: ProductRules; at: number }>();
  private readonly clientOrderIds = new Map<string, string>();
  private readonly now: () => number;

  constructor(
    private readonly client: CoinbaseTradingClient,
    private readonly options: CoinbaseExchangeOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async getProductRules(productId: string): Promise<ProductRules> {
    const cached = this.rulesCache.get(productId);
    if (cached && this.now() - cached.at < (this.options.rulesTtlMs ?? 300_000)) return cached.rules;
    const rules = productRulesFrom(await this.client.getProduct(productId));
    this.rulesCache.set(productId, { rules, at: this.now() });
    return rules;
  }

  async getBalances(): Promise<Record<string, Balance>> {
    const balances: Record<string, Balance> = {};
    for (const account of await this.client.listAccounts()) {
      const previous = balances[account.currency];
      const available = new Decimal(account.available_balance.value).plus(previous?.available ?? 0);
      const hold = new Decimal(account.hold?.value ?? 0).plus(previous?.hold ?? 0);
      balances[account.currency] = { available: available.toString(), hold: hold.toString() };
    }
    return balances;
  }

  async getBestBidAsk(productId: string): Promise<BestBidAsk> {
    const book = (await this.client.getBestBidAsk([productId])).find((b) => b.product_id === productId);
    const bid = book?.bids[0]?.price;
    const ask = book?.asks[0]?.price;
    if (!book || !bid || !ask) {
      throw new Error(`Coinbase has no best bid/ask for ${productId} (empty book or unknown product)`);
    }
    return { bid, ask, time: book.time };
  }

  async placeOrder(request: PlaceOrderRequest): Promise<PlaceOrderResult> {
    const shapeProblem = requestShapeProblem(request);
    if (shapeProblem) return { accepted: false, reason: "INVALID_ORDER_REQUEST", message: shapeProblem };
    const rules = await this.getProductRules(request.productId);
    const checked = localRefusal(request, rules);
    if ("refusal" in checked) return checked.refusal;
    const { submitted } = checked;

    const body = orderBodyFor(request, submitted, rules);
    // Balance and preview depend on the account's current state: if they refuse, the order may
    // already exist from an earlier attempt that spent the funds, so look for it before refusing.
    const shortfall = await this.balanceShortfall(request, submitted);
    if (shortfall) return this.existingOrReject(request, submitted, "INSUFFICIENT_FUND", shortfall);

    const preview = await this.client.previewOrder(body);
    if (preview.errs.length > 0)
      return this.existingOrReject(
        request,
        submitted,
        preview.errs[0]!,
        `Coinbase preview refused ${request.clientOrderId} (${request.side} ${request.productId}): ${preview.errs.join(", ")}`,
      );

    const outcome = await this.client.createOrder(
      request.clientOrderId,
      body,
      preview.preview_id || undefined,
    );
    if (outcome.success) {
      this.clientOrderIds.set(outcome.orderId, request.clientOrderId);
      return { accepted: true, orderId: outcome.orderId, clientOrderId: request.clientOrderId, submitted };
    }
    return {
      accepted: false,
      reason: outcome.newOrderFailureReason || outcome.previewFailureReason || outcome.error,
      message:
        `Coinbase rejected ${request.clientOrderId} (${request.side} ${request.productId}): ` +
        [outcome.error, outcome.message].filter(Boolean).join(": "),
    };
  }

  async getOrder(orderId: string): Promise<ExchangeOrder | undefined> {
    const order = await this.client.getOrder(orderId);
    if (!order) return undefined;
    if (order.client_order_id) this.clientOrderIds.set(order.order_id, order.client_order_id);
    return exchangeOrderFrom(order);
  }

  async findOrderByClientOrderId(
    clientOrderId: string,
    productId: string,
    placedSince: Date,
  ): Promise<ExchangeOrder | undefined> {
    const earlier = await this.earlierOrder(clientOrderId, productId, placedSince);
    return earlier && exchangeOrderFrom(earlier);
  }

  async listFills(orderId: string): Promise<Fill[]> {
    const fills = await this.client.listFills({ orderIds: [orderId] });
    if (fills.length === 0) return [];
    let clientOrderId = this.clientOrderIds.get(orderId);
    if (!clientOrderId) clientOrderId = (await this.getOrder(orderId))?.clientOrderId || orderId;
    return fills.filter((f) => f.order_id === orderId).map((f) => fillFrom(f, clientOrderId));
  }

  /**
   * POST /orders/batch_cancel, then, since a cancel is a request (protocols A.5), re-reads the
   * order until it is CANCELLED or otherwise terminal (a stop may fill while its cancel is queued),
   * at most cancelPollAttempts times. Still OPEN after that: cancelled false, CANCEL_PENDING.
   */
  async cancelOrder(orderId: string): Promise<CancelResult> {
    const result = (await this.client.cancelOrders([orderId])).find((r) => r.order_id === orderId);
    let order = await this.getOrder(orderId);
    if (result?.success) {
      const attempts = this.options.cancelPollAttempts ?? 10;
      const sleep = this.options.sleep ?? defaultSleep;
      for (let i = 0; i < attempts && order && !isTerminal(order.status); i++) {
        await sleep(this.options.cancelPollMs ?? 200);
        order = await this.getOrder(orderId);
      }
    }
    const withOrder = (outcome: CancelResult): CancelResult => (order ? { ...outcome, order } : outcome);
    if (!result) return withOrder({ cancelled: false, reason: "NO_RESULT_FOR_ORDER" });
    if (!result.success) return withOrder({ cancelled: false, reason: result.failure_reason });
    if (!order || order.status === "CANCELLED") return withOrder({ cancelled: true });
    if (!isTerminal(order.status)) return withOrder({ cancelled: false, reason: "CANCEL_PENDING" });
    return withOrder({ cancelled: false, reason: `${order.status}_BEFORE_CANCEL` });
  }

  private async balanceShortfall(
    request: PlaceOrderRequest,
    sizes: SubmittedSizes,
  ): Promise<string | undefined> {
    const [base, quote] = request.productId.split("-") as [string, string];
    const balances = await this.getBalances();
    if (request.side === "BUY") {
      let required: Decimal;
      if (sizes.quoteSize !== undefined) required = new Decimal(sizes.quoteSize);
      else if (sizes.limitPrice !== undefined) required = new Decimal(sizes.baseSize!).mul(sizes.limitPrice);
      else required = new Decimal(sizes.baseSize!).mul((await this.getBestBidAsk(request.productId)).ask);
      if (!hasSufficientBalance(balances[quote]?.available, required.toString()))
        return `${request.clientOrderId}: BUY ${request.productId} needs ${required.toString()} ${quote}, available ${balances[quote]?.available ?? "0"}`;
      return undefined;
    }
    let required: Decimal;
    if (sizes.baseSize !== undefined) required = new Decimal(sizes.baseSize);
    else required = new Decimal(sizes.quoteSize!).div((await this.getBestBidAsk(request.productId)).bid);
    if (!hasSufficientBalance(balances[base]?.available, required.toString())) {
      const held = new Decimal(balances[base]?.hold ?? 0);
      return (
        `${request.clientOrderId}: SELL ${request.productId} needs ${required.toString()} ${base}, available ${balances[base]?.available ?? "0"}` +
        (held.gt(0)
          ? ` (${held.toString()} ${base} on hold by open orders such as a resting stop: cancel it first)`
          : "")
      );
    }
    return undefined;
  }

  private async existingOrReject(
    request: PlaceOrderRequest,
    submitted: SubmittedSizes,
    reason: string,
    message: string,
  ): Promise<PlaceOrderResult> {
    const since = new Date(this.now() - (this.options.replayLookbackMs ?? 7 * 86_400_000));
    const earlier = await this.earlierOrder(request.clientOrderId, request.productId, since);
    if (earlier)
      return { accepted: true, orderId: earlier.order_id, clientOrderId: request.clientOrderId, submitted };
    return { accepted: false, reason, message };
  }

  /** Coinbase has no lookup by client_order_id that is sure to last (protocols A.5): list and match. */
  private async earlierOrder(
    clientOrderId: string,
    productId: string,
    since: Date,
  ): Promise<OrderWire | undefined> {
    // a minute of slack for clock skew between this host and the exchange
    const startDate = new Date(since.getTime() - 60_000).toISOString();
    const earlier = (await this.client.listOrders({ productIds: [productId], startDate })).find(
      (o) => o.client_order_id === clientOrderId,
    );
    if (earlier) this.clientOrderIds.set(earlier.order_id, clientOrderId);
    return earlier;
  }
}

function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_ORDER_STATUSES.includes(status);
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function orderBodyFor(r: PlaceOrderRequest, sizes: SubmittedSizes, rules: ProductRules): OrderBody {
  if (r.type === "STOP_LIMIT") {
    return {
      product_id: r.productId,
      side: r.side,
      order_configuration: {
        stop_limit_stop_limit_gtc: {
          base_size: sizes.baseSize!,
          limit_price: sizes.limitPrice!,
          stop_price: sizes.stopPrice!,
          stop_direction: `STOP_DIRECTION_${stopDirectionOf(r.side)}`,
        },
      },
    };
  }
  if (r.type === "LIMIT") {
    return {
      product_id: r.productId,
      side: r.side,
      order_configuration: {
        limit_limit_gtc: {
          base_size: sizes.baseSize!,
          limit_price: sizes.limitPrice!,
          post_only: rules.postOnly,
        },
      },
    };
  }
  return {
    product_id: r.productId,
    side: r.side,
    order_configuration: {
      market_market_ioc:
        sizes.quoteSize !== undefined ? { quote_size: sizes.quoteSize } : { base_size: sizes.baseSize! },
    },
  };
}
