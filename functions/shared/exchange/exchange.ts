/**
 * The port every venue implements: the paper exchange and the live Coinbase client. The executor
 * and portfolio code talk only to this interface. Sizes and prices are decimal strings. The port's
 * types and its venue-neutral errors live here, in one file; no venue's own error type leaks in.
 */
import type { Fill, OrderStatus, OrderType, Side } from "#domain/schemas.js";

export type Venue = "paper" | "coinbase";

export interface ProductRules {
  productId: string;
  baseIncrement: string;
  quoteIncrement: string;
  priceIncrement: string;
  baseMinSize: string;
  baseMaxSize: string;
  quoteMinSize: string;
  quoteMaxSize: string;
  /** online, not disabled, not cancel-only */
  tradable: boolean;
  /** market orders refused */
  limitOnly: boolean;
  /** only post-only limit orders accepted */
  postOnly: boolean;
}

/** Where a venue gets a product's increments and limits (coinbase/product-rules.ts holds Coinbase's). */
export interface ProductRulesSource {
  /**
   * Throws UnknownProductError for a product the source does not list. A source that asks a venue's
   * API may instead throw that venue's own error (Coinbase: CoinbaseApiError 404 NOT_FOUND).
   */
  rulesFor(productId: string): Promise<ProductRules>;
}

/** A product the venue's rules do not list: check the product id or add the product's rules. */
export class UnknownProductError extends Error {
  override readonly name = "UnknownProductError";
  readonly productId: string;
  /** where the rules were looked up, e.g. the bundled snapshot's file name */
  readonly where: string;

  constructor(productId: string, where: string) {
    super(
      `Product ${productId} is not in ${where} (NOT_FOUND). ` +
        "Check the product id (BASE-QUOTE, e.g. BTC-USD) or add the product's rules there.",
    );
    this.productId = productId;
    this.where = where;
  }
}

export interface Balance {
  available: string;
  hold: string;
}

export interface BestBidAsk {
  bid: string;
  ask: string;
  /** ISO-8601 */
  time: string;
}

/**
 * Which way a stop waits for the price: STOP_DOWN triggers when the last trade price falls to or
 * below the stop price, STOP_UP when it rises to or above it. The port derives it from the side
 * (`stopDirectionOf` in order-request.ts): a SELL stop protects a long position (STOP_DOWN), a BUY
 * stop buys a breakout (STOP_UP).
 */
export type StopDirection = "STOP_UP" | "STOP_DOWN";

/**
 * One order to place. By type:
 * - MARKET: exactly one of `quoteSize` (BUY: quote to spend, fees included) or `baseSize`.
 * - LIMIT (GTC): `baseSize` and `limitPrice`.
 * - STOP_LIMIT (GTC): `baseSize`, `stopPrice` and `limitPrice`. It rests, its funds on hold (a SELL
 *   holds the base, so the same base cannot be sold twice), until the last trade price reaches
 *   `stopPrice` in the side's direction (SELL: at or below, BUY: at or above); then it is a limit
 *   order at `limitPrice`. A SELL needs limitPrice <= stopPrice and a stop below the last trade
 *   price (a BUY: limitPrice >= stopPrice, stop above the last trade price), else it is refused.
 *   To replace or remove it, cancelOrder it first and wait for the hold to be released.
 * Prices are put on the product's price grid as a LIMIT's are: up for a SELL, down for a BUY.
 */
export interface PlaceOrderRequest {
  /** deterministic per recommendation; placing twice with the same id creates one order */
  clientOrderId: string;
  productId: string;
  side: Side;
  type: OrderType;
  /** MARKET only: spend this much quote (BUY) */
  quoteSize?: string;
  /** MARKET SELL / LIMIT / STOP_LIMIT: base amount */
  baseSize?: string;
  /** LIMIT and STOP_LIMIT: the worst price the order trades at */
  limitPrice?: string;
  /** STOP_LIMIT only: the last trade price that triggers it */
  stopPrice?: string;
}

/** What was actually sent after flooring to the product's increments. */
export interface SubmittedSizes {
  quoteSize?: string;
  baseSize?: string;
  limitPrice?: string;
  stopPrice?: string;
}

export type PlaceOrderResult =
  | { accepted: true; orderId: string; clientOrderId: string; submitted: SubmittedSizes }
  | {
      accepted: false;
      /** machine-readable: the exchange's reason (e.g. INSUFFICIENT_FUND, PREVIEW_INVALID_...) or a local check's */
      reason: string;
      /** for humans: what was wrong with which input */
      message: string;
    };

export interface ExchangeOrder {
  orderId: string;
  clientOrderId: string;
  productId: string;
  side: Side;
  type: OrderType;
  status: OrderStatus;
  /** the venue's own status word, for diagnostics */
  venueStatus: string;
  filledSize: string;
  averageFilledPrice: string;
  /** quote value of the fills, excluding fees */
  filledValue: string;
  /** quote currency */
  totalFees: string;
  completionPercentage: string;
  createdAt: string;
  rejectReason?: string;
  /** the order's own terms, when the venue reports them */
  baseSize?: string;
  limitPrice?: string;
  /** STOP_LIMIT: the trigger price */
  stopPrice?: string;
  /**
   * STOP_LIMIT: true once the stop price was reached (the order is then a limit order; it can be
   * triggered and still OPEN when the price gapped through its limit). Absent for other types.
   */
  triggered?: boolean;
}

export interface CancelResult {
  /** true only when this call cancelled the order (the venue now reports it CANCELLED) */
  cancelled: boolean;
  /** why not: the venue's reason (UNKNOWN_CANCEL_ORDER: unknown, filled or already cancelled), or CANCEL_PENDING */
  reason?: string;
  /**
   * The order as the venue reports it after the cancel, when it knows the order. Read it whatever
   * `cancelled` says: FILLED means it traded before the cancel landed (book its fills, do not sell
   * again); CANCELLED with a filledSize above 0 was partly filled; OPEN means the cancel is still
   * pending (the hold is not released yet): ask again before placing what would need those funds.
   */
  order?: ExchangeOrder;
}

export interface Exchange {
  readonly venue: Venue;
  getProductRules(productId: string): Promise<ProductRules>;
  /** keyed by currency (USD, BTC, ...) */
  getBalances(): Promise<Record<string, Balance>>;
  getBestBidAsk(productId: string): Promise<BestBidAsk>;
  placeOrder(request: PlaceOrderRequest): Promise<PlaceOrderResult>;
  /** undefined when the venue does not know the order */
  getOrder(orderId: string): Promise<ExchangeOrder | undefined>;
  /**
   * The order created with this clientOrderId, if the venue holds one: what a retry adopts instead
   * of placing again. `placedSince` bounds the search (no order with this id is older).
   */
  findOrderByClientOrderId(
    clientOrderId: string,
    productId: string,
    placedSince: Date,
  ): Promise<ExchangeOrder | undefined>;
  listFills(orderId: string): Promise<Fill[]>;
  /** Cancels an open order (a resting LIMIT or STOP_LIMIT) and releases its hold; see CancelResult. */
  cancelOrder(orderId: string): Promise<CancelResult>;
}
