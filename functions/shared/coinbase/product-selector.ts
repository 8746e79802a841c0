/** Which Coinbase products the pipeline trades: the most liquid, tradable USD spot books. */
import { Decimal } from "decimal.js";
import type { ProductWire } from "./wire.js";

/** Bases pegged to a fiat currency: no price signal worth modelling. */
export const STABLECOIN_BASES: ReadonlySet<string> = new Set([
  "USDT",
  "USDC",
  "DAI",
  "PYUSD",
  "EURC",
  "GUSD",
  "PAX",
  "USDP",
  "BUSD",
  "TUSD",
  "FDUSD",
  "USDS",
  "USDE",
  "RLUSD",
  "GYEN",
  "UST",
  "LUSD",
  "FRAX",
]);

export interface ProductSelection {
  /** how many products to keep; default 20 */
  limit?: number;
  quoteCurrency?: string;
  /** when given, only these product ids are eligible */
  allow?: readonly string[];
  /** never these product ids */
  deny?: readonly string[];
}

export interface SelectedProduct {
  productId: string;
  baseCurrency: string;
  quoteVolume24h: number;
}

/** Approximate 24h quote volume; Coinbase omits the field on some products. */
export function quoteVolume24h(product: ProductWire): Decimal {
  if (product.approximate_quote_24h_volume) return safeDecimal(product.approximate_quote_24h_volume);
  return safeDecimal(product.volume_24h).mul(safeDecimal(product.price));
}

export function isTradableSpot(product: ProductWire, quoteCurrency = "USD"): boolean {
  return (
    product.status === "online" &&
    !product.trading_disabled &&
    !product.is_disabled &&
    !product.cancel_only &&
    !product.view_only &&
    product.product_type === "SPOT" &&
    quoteOf(product) === quoteCurrency &&
    // an alias (e.g. BTC-USDC -> BTC-USD) is the same book under another name
    !product.alias
  );
}

export function selectTopProducts(
  products: readonly ProductWire[],
  selection: ProductSelection = {},
): SelectedProduct[] {
  const quote = selection.quoteCurrency ?? "USD";
  const allow = selection.allow ? new Set(selection.allow) : undefined;
  const deny = new Set(selection.deny ?? []);
  return products
    .filter((p) => isTradableSpot(p, quote))
    .filter((p) => !STABLECOIN_BASES.has(baseOf(p)))
    .filter((p) => (allow ? allow.has(p.product_id) : true) && !deny.has(p.product_id))
    .map((p) => ({ product: p, volume: quoteVolume24h(p) }))
    .sort((a, b) => b.volume.cmp(a.volume) || a.product.product_id.localeCompare(b.product.product_id))
    .slice(0, selection.limit ?? 20)
    .map(({ product, volume }) => ({
      productId: product.product_id,
      baseCurrency: baseOf(product),
      quoteVolume24h: volume.toNumber(),
    }));
}

function baseOf(product: ProductWire): string {
  return product.base_currency_id || product.product_id.split("-")[0] || "";
}

function quoteOf(product: ProductWire): string {
  return product.quote_currency_id || product.product_id.split("-")[1] || "";
}

function safeDecimal(value: string | undefined): Decimal {
  if (!value) return new Decimal(0);
  try {
    return new Decimal(value);
  } catch {
    return new Decimal(0);
  }
}
