/** Public Advanced Trade market data: products, candles, server time (no key needed). */
import { Candle, GRANULARITY_SECONDS, type Granularity } from "#domain/schemas.js";
import { CoinbaseResponseError } from "./errors.js";
import { CoinbaseHttp, type CoinbaseHttpOptions } from "./http.js";
import { type ProductSelection, type SelectedProduct, selectTopProducts } from "./product-selector.js";
import {
  CandlesResponseWire,
  ProductsResponseWire,
  ProductWire,
  type ProductWire as ProductWireT,
  ServerTimeWire,
} from "./wire.js";

/** Coinbase rejects more than ~350 buckets per request (reports disagree on 350 itself); 300 is safe. */
export const MAX_CANDLES_PER_REQUEST = 300;

export class CoinbaseMarketData {
  readonly http: CoinbaseHttp;

  constructor(httpOrOptions: CoinbaseHttp | CoinbaseHttpOptions = {}) {
    this.http = httpOrOptions instanceof CoinbaseHttp ? httpOrOptions : new CoinbaseHttp(httpOrOptions);
  }

  async getServerTime(): Promise<{ iso: string; epochSeconds: number }> {
    const body = await this.http.request({
      method: "GET",
      path: "/time",
      private: false,
      schema: ServerTimeWire,
    });
    return { iso: body.iso, epochSeconds: Number(body.epochSeconds) };
  }

  async listProducts(options: { productType?: "SPOT" | "FUTURE" } = {}): Promise<ProductWireT[]> {
    const body = await this.http.request({
      method: "GET",
      path: "/market/products",
      query: { product_type: options.productType ?? "SPOT" },
      private: false,
      schema: ProductsResponseWire,
    });
    return body.products;
  }

  /** The pipeline's universe: top USD spot books by 24h quote volume (see selectTopProducts). */
  async selectProducts(selection: ProductSelection = {}): Promise<SelectedProduct[]> {
    return selectTopProducts(await this.listProducts({ productType: "SPOT" }), selection);
  }

  async getProduct(productId: string): Promise<ProductWireT> {
    return this.http.request({
      method: "GET",
      path: `/market/products/${encodeURIComponent(productId)}`,
      private: false,
      schema: ProductWire,
    });
  }

  /**
   * Candles whose bucket open time lies in [startSec, endSec), ascending, de-duplicated, as
   * numbers. Pages at <= 300 buckets per request. Buckets without trades are absent (gaps are
   * not filled). The newest bucket may still be open if endSec is in the future: callers that
   * need closed candles only pass endSec <= start of the current bucket.
   */
  async getCandles(
    productId: string,
    granularity: Granularity,
    startSec: number,
    endSec: number,
  ): Promise<Candle[]> {
    const step = GRANULARITY_SECONDS[granularity];
    const firstBucket = Math.ceil(startSec / step) * step;
    const byStart = new Map<number, Candle>();
    const path = `/market/products/${encodeURIComponent(productId)}/candles`;
    for (let pageStart = firstBucket; pageStart < endSec; pageStart += MAX_CANDLES_PER_REQUEST * step) {
      const lastBucket = Math.min(pageStart + (MAX_CANDLES_PER_REQUEST - 1) * step, endSec - 1);
      const body = await this.http.request({
        method: "GET",
        path,
        query: {
          start: String(pageStart),
          // end inside the last wanted bucket, off the grid, so inclusive/exclusive readings agree
          end: String(Math.floor(lastBucket / step) * step + step - 1),
          granularity,
        },
        private: false,
        schema: CandlesResponseWire,
      });
      for (const wire of body.candles) {
        const start = Number(wire.start);
        if (!Number.isInteger(start) || start < startSec || start >= endSec) continue;
        const parsed = Candle.safeParse({
          symbol: productId,
          granularity,
          start,
          open: Number(wire.open),
          high: Number(wire.high),
          low: Number(wire.low),
          close: Number(wire.close),
          volume: Number(wire.volume),
          source: "coinbase",
        });
        if (!parsed.success) {
          throw new CoinbaseResponseError({
            request: { method: "GET", path },
            problem: `candle ${productId} ${granularity} start=${wire.start} is invalid: ${parsed.error.issues[0]?.message}`,
          });
        }
        byStart.set(start, parsed.data);
      }
    }
    return [...byStart.values()].sort((a, b) => a.start - b.start);
  }
}
