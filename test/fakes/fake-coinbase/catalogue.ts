/** Products the fake Coinbase lists, in the exact wire shape of /market/products (protocols A.4). */

export interface FakeProductInput {
  productId: string;
  /** mid price; bid/ask are derived from it with `spread` */
  price: string;
  spread?: string;
  baseIncrement?: string;
  quoteIncrement?: string;
  baseMinSize?: string;
  baseMaxSize?: string;
  quoteMinSize?: string;
  quoteMaxSize?: string;
  volume24h?: string;
  /** omit to let clients fall back to volume_24h x price */
  approximateQuote24hVolume?: string | null;
  /** any other product field, verbatim (status, trading_disabled, alias, product_type, ...) */
  overrides?: Record<string, unknown>;
}

export const DEFAULT_PRODUCTS: readonly FakeProductInput[] = [
  {
    productId: "BTC-USD",
    price: "64000.00",
    volume24h: "9000",
    baseIncrement: "0.00000001",
    quoteMinSize: "1",
  },
  { productId: "ETH-USD", price: "3200.00", volume24h: "90000", baseIncrement: "0.00000001" },
  {
    productId: "SOL-USD",
    price: "150.00",
    volume24h: "900000",
    baseIncrement: "0.001",
    approximateQuote24hVolume: null,
  },
  {
    productId: "DOGE-USD",
    price: "0.1600",
    volume24h: "100000000",
    baseIncrement: "0.1",
    quoteIncrement: "0.0001",
  },
  { productId: "USDT-USD", price: "1.0001", volume24h: "900000000", quoteIncrement: "0.0001" },
  {
    productId: "BTC-USDC",
    price: "64000.00",
    volume24h: "9000",
    overrides: { alias: "BTC-USD", quote_currency_id: "USDC" },
  },
  {
    productId: "LUNA-USD",
    price: "0.50",
    volume24h: "1000000",
    overrides: { status: "delisted", trading_disabled: true },
  },
  { productId: "ABC-USD", price: "2.00", volume24h: "1000000", overrides: { cancel_only: true } },
  { productId: "VIEW-USD", price: "3.00", volume24h: "1000000", overrides: { view_only: true } },
  { productId: "ETH-EUR", price: "2900.00", volume24h: "5000" },
];

export function productWire(input: FakeProductInput): Record<string, unknown> {
  const [base, quote] = input.productId.split("-") as [string, string];
  const quoteIncrement = input.quoteIncrement ?? "0.01";
  const volume = input.volume24h ?? "1000";
  const approx =
    input.approximateQuote24hVolume === null
      ? undefined
      : (input.approximateQuote24hVolume ?? (Number(volume) * Number(input.price)).toFixed(2));
  return {
    product_id: input.productId,
    price: input.price,
    price_percentage_change_24h: "-1.2",
    volume_24h: volume,
    volume_percentage_change_24h: "4.2",
    base_increment: input.baseIncrement ?? "0.00000001",
    quote_increment: quoteIncrement,
    quote_min_size: input.quoteMinSize ?? "1",
    quote_max_size: input.quoteMaxSize ?? "150000000",
    base_min_size: input.baseMinSize ?? input.baseIncrement ?? "0.00000001",
    base_max_size: input.baseMaxSize ?? "3400",
    base_name: base,
    quote_name: quote === "USD" ? "US Dollar" : quote,
    watched: false,
    is_disabled: false,
    new: false,
    status: "online",
    cancel_only: false,
    limit_only: false,
    post_only: false,
    trading_disabled: false,
    auction_mode: false,
    product_type: "SPOT",
    quote_currency_id: quote,
    base_currency_id: base,
    fcm_trading_session_details: null,
    mid_market_price: "",
    alias: "",
    alias_to: [],
    base_display_symbol: base,
    quote_display_symbol: quote,
    view_only: false,
    price_increment: quoteIncrement,
    display_name: input.productId,
    product_venue: "CBE",
    ...(approx === undefined ? {} : { approximate_quote_24h_volume: approx }),
    ...input.overrides,
  };
}
