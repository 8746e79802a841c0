/** Execution: the trading mode, the orders placed on a venue and their fills. */
import { z } from "zod";
import { DecimalString, IsoTime, ProductId, Side } from "./primitives.js";

export const TradingMode = z.enum(["paper", "live"]);
export type TradingMode = z.infer<typeof TradingMode>;

export const OrderStatus = z.enum(["PENDING", "OPEN", "FILLED", "CANCELLED", "EXPIRED", "FAILED"]);
export type OrderStatus = z.infer<typeof OrderStatus>;
export const TERMINAL_ORDER_STATUSES: readonly OrderStatus[] = ["FILLED", "CANCELLED", "EXPIRED", "FAILED"];

/**
 * MARKET fills at once; LIMIT rests GTC at its limit price; STOP_LIMIT rests GTC until the last trade
 * price reaches its stop price (SELL: falls to or below it; BUY: rises to or above it), then
 * becomes a limit order at its limit price (exchange/exchange.ts, docs/ARCHITECTURE.md "Resting stops").
 */
export const OrderType = z.enum(["MARKET", "LIMIT", "STOP_LIMIT"]);
export type OrderType = z.infer<typeof OrderType>;

export const Order = z.object({
  /** deterministic, derived from the recommendation id */
  clientOrderId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
  /** the exchange's id; empty until the exchange accepted the order */
  orderId: z.string(),
  recommendationId: z.string().min(1),
  venue: z.enum(["paper", "coinbase"]),
  symbol: ProductId,
  side: Side,
  type: OrderType,
  quoteSize: DecimalString.optional(),
  baseSize: DecimalString.optional(),
  limitPrice: DecimalString.optional(),
  /** STOP_LIMIT only: the trigger price */
  stopPrice: DecimalString.optional(),
  status: OrderStatus,
  filledSize: DecimalString,
  averageFilledPrice: DecimalString,
  filledValue: DecimalString,
  totalFees: DecimalString,
  failureReason: z.string().optional(),
  /** true once the portfolio applied every fill of this (terminal) order to the positions */
  reconciled: z.boolean().optional(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type Order = z.infer<typeof Order>;

export const Fill = z.object({
  tradeId: z.string().min(1),
  orderId: z.string().min(1),
  clientOrderId: z.string().min(1),
  symbol: ProductId,
  side: Side,
  price: DecimalString,
  size: DecimalString,
  commission: DecimalString,
  liquidity: z.enum(["MAKER", "TAKER"]),
  tradeTime: IsoTime,
});
export type Fill = z.infer<typeof Fill>;
