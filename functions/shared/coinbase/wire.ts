/**
 * Response shapes of Coinbase Advanced Trade (protocols A.4/A.5), snake_case as sent. Only the
 * fields this project reads are required; everything else passes through untouched.
 */
import { z } from "zod";

const Dec = z.string();
/** Coinbase sends "" for absent decimals in several places */
const OptDec = z.string().optional().default("");

export const ServerTimeWire = z.object({
  iso: z.string(),
  epochSeconds: z.string(),
  epochMillis: z.string(),
});
export type ServerTimeWire = z.infer<typeof ServerTimeWire>;

export const ProductWire = z.looseObject({
  product_id: z.string(),
  price: OptDec,
  volume_24h: OptDec,
  approximate_quote_24h_volume: z.string().optional(),
  base_increment: Dec,
  quote_increment: Dec,
  price_increment: z.string().optional(),
  base_min_size: Dec,
  base_max_size: Dec,
  quote_min_size: Dec,
  quote_max_size: Dec,
  status: z.string().optional().default(""),
  is_disabled: z.boolean().optional().default(false),
  trading_disabled: z.boolean().optional().default(false),
  cancel_only: z.boolean().optional().default(false),
  limit_only: z.boolean().optional().default(false),
  post_only: z.boolean().optional().default(false),
  view_only: z.boolean().optional().default(false),
  auction_mode: z.boolean().optional().default(false),
  product_type: z.string().optional().default(""),
  quote_currency_id: z.string().optional().default(""),
  base_currency_id: z.string().optional().default(""),
  alias: z.string().optional().default(""),
  alias_to: z.array(z.string()).optional().default([]),
});
export type ProductWire = z.infer<typeof ProductWire>;

export const ProductsResponseWire = z.looseObject({
  products: z.array(ProductWire),
  num_products: z.number().optional(),
});

export const CandleWire = z.object({
  start: z.string(),
  low: Dec,
  high: Dec,
  open: Dec,
  close: Dec,
  volume: Dec,
});
export const CandlesResponseWire = z.object({ candles: z.array(CandleWire) });

const Money = z.object({ value: Dec, currency: z.string() });
export const AccountWire = z.looseObject({
  uuid: z.string(),
  currency: z.string(),
  available_balance: Money,
  hold: Money.optional(),
  active: z.boolean().optional(),
  type: z.string().optional(),
});
export type AccountWire = z.infer<typeof AccountWire>;
export const AccountsResponseWire = z.looseObject({
  accounts: z.array(AccountWire),
  has_next: z.boolean().optional().default(false),
  cursor: z.string().optional().default(""),
});

const PriceLevel = z.object({ price: Dec, size: Dec });
export const PricebookWire = z.object({
  product_id: z.string(),
  bids: z.array(PriceLevel),
  asks: z.array(PriceLevel),
  time: z.string().optional().default(""),
});
export const BestBidAskResponseWire = z.object({ pricebooks: z.array(PricebookWire) });

export const OrderConfigurationWire = z.looseObject({
  market_market_ioc: z
    .object({ quote_size: z.string().optional(), base_size: z.string().optional() })
    .optional(),
  limit_limit_gtc: z
    .object({ base_size: z.string(), limit_price: z.string(), post_only: z.boolean().optional() })
    .optional(),
  /** protocols A.5: rests until the last trade price reaches stop_price in stop_direction */
  stop_limit_stop_limit_gtc: z
    .object({
      base_size: z.string(),
      limit_price: z.string(),
      stop_price: z.string(),
      /** STOP_DIRECTION_STOP_UP | STOP_DIRECTION_STOP_DOWN (read as a string: an unknown value must not hide the order) */
      stop_direction: z.string(),
    })
    .optional(),
});
export type OrderConfigurationWire = z.infer<typeof OrderConfigurationWire>;

export const PreviewResponseWire = z.looseObject({
  order_total: OptDec,
  commission_total: OptDec,
  errs: z.array(z.string()).optional().default([]),
  warning: z.array(z.string()).optional().default([]),
  quote_size: OptDec,
  base_size: OptDec,
  best_bid: OptDec,
  best_ask: OptDec,
  preview_id: z.string().optional().default(""),
});
export type PreviewResponseWire = z.infer<typeof PreviewResponseWire>;

export const CreateOrderResponseWire = z.looseObject({
  success: z.boolean(),
  failure_reason: z.string().optional(),
  order_id: z.string().optional(),
  success_response: z
    .looseObject({
      order_id: z.string(),
      product_id: z.string().optional(),
      side: z.string().optional(),
      client_order_id: z.string().optional(),
    })
    .optional(),
  error_response: z
    .looseObject({
      error: z.string().optional().default(""),
      message: z.string().optional().default(""),
      error_details: z.string().optional().default(""),
      preview_failure_reason: z.string().optional().default(""),
      new_order_failure_reason: z.string().optional().default(""),
    })
    .optional(),
});
export type CreateOrderResponseWire = z.infer<typeof CreateOrderResponseWire>;

export const OrderWire = z.looseObject({
  order_id: z.string(),
  product_id: z.string(),
  side: z.string(),
  client_order_id: z.string().optional().default(""),
  status: z.string(),
  order_type: z.string().optional().default(""),
  order_configuration: OrderConfigurationWire.optional(),
  created_time: z.string().optional().default(""),
  completion_percentage: OptDec,
  filled_size: OptDec,
  average_filled_price: OptDec,
  filled_value: OptDec,
  total_fees: OptDec,
  number_of_fills: OptDec,
  reject_reason: z.string().optional(),
  reject_message: z.string().optional(),
  cancel_message: z.string().optional(),
  /** stop orders: STOP_PENDING, then STOP_TRIGGERED; INVALID_ORDER_TYPE for other orders */
  trigger_status: z.string().optional().default(""),
  pending_cancel: z.boolean().optional(),
});
export type OrderWire = z.infer<typeof OrderWire>;
export const GetOrderResponseWire = z.object({ order: OrderWire });
export const ListOrdersResponseWire = z.looseObject({
  orders: z.array(OrderWire),
  has_next: z.boolean().optional().default(false),
  cursor: z.string().optional().default(""),
});

export const FillWire = z.looseObject({
  entry_id: z.string().optional(),
  trade_id: z.string(),
  order_id: z.string(),
  trade_time: z.string(),
  price: Dec,
  size: Dec,
  commission: Dec,
  product_id: z.string(),
  liquidity_indicator: z.string().optional().default("UNKNOWN_LIQUIDITY_INDICATOR"),
  size_in_quote: z.boolean().optional().default(false),
  side: z.string(),
});
export type FillWire = z.infer<typeof FillWire>;
export const ListFillsResponseWire = z.looseObject({
  fills: z.array(FillWire),
  cursor: z.string().optional().default(""),
});

export const BatchCancelResponseWire = z.object({
  results: z.array(
    z.object({
      success: z.boolean(),
      failure_reason: z.string().optional().default(""),
      order_id: z.string(),
    }),
  ),
});
