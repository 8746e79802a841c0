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

export interface PlaceOrderRequest {
  /** deterministic per recommendation; placing twice with the same id creates one order */
  clientOrderId: string;
  productId: string;
  side: Side;
  type: OrderType;
  /** MARKET: spend this much quote (BUY) */
  quoteSize?: string;
  /** MARKET SELL / any LIMIT: base amount */
  baseSize?: string;
  /** LIMIT only */
  limitPrice?: string;
}

/** What was actually sent after flooring to the product's increments. */
export interface SubmittedSizes {
  quoteSize?: string;
  baseSize?: string;
  limitPrice?: string;
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
}

export interface CancelResult {
  cancelled: boolean;
  reason?: string;
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
  cancelOrder(orderId: string): Promise<CancelResult>;
}
