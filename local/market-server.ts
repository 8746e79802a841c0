/**
 * A local stand-in for Coinbase's PUBLIC market data (protocols.md A.4), served on 127.0.0.1 from a
 * folder of replay candle files, so that locally invoked functions never reach the internet:
 * GET /time, /market/products, /market/products/{id} and /market/products/{id}/candles (newest
 * first, every value a string, at most 350 buckets a request, as Coinbase answers). Products are
 * the bundled snapshot of product rules (data/coinbase-products.json) for the symbols that have a
 * replay file.
 *
 * `shiftSeconds` moves the replay in time: `npm run local` shifts it by whole days so that the
 * functions, which run on the wall clock, find a full feature window of history before "now" and
 * new candles after it (see replayShiftFor). With `now`, only buckets closed by then are served,
 * as on Coinbase, where the current bucket is still open. Private endpoints (orders, accounts) are
 * not served: paper trading needs none, and live trading is never pointed at a replay.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import catalogue from "#data/coinbase-products.json" with { type: "json" };
import { GRANULARITY_SECONDS, type Granularity } from "#domain/schemas.js";
import {
  type CandleColumns,
  type CandleFile,
  listCandleFiles,
  readCandleColumns,
} from "#market-data/replay.js";

/** Coinbase refuses a span of more than 350 buckets (protocols.md A.4). */
export const COINBASE_CANDLE_SPAN_LIMIT = 350;

export interface LocalMarketOptions {
  /** folder of `<BASE>-<QUOTE>_<granularity>.csv` replay files */
  candlesDir: string;
  /** added to every replayed bucket start; default 0 */
  shiftSeconds?: number;
  /** the market's clock (ms): only buckets closed by then are served; default: every bucket */
  nowMs?: () => number;
}

export interface LocalMarket {
  /** http://127.0.0.1:<port>, the value for COINBASE_API_BASE_URL */
  baseUrl: string;
  shiftSeconds: number;
  /** the products served, e.g. BTC-USD */
  productIds: string[];
  /** when the last replayed bucket closes (Unix s, shifted): no new candle after it */
  lastCloseSec: number;
  close(): Promise<void>;
}

interface ProductSeries {
  file: CandleFile;
  wire: Record<string, unknown>;
  columns?: CandleColumns;
}

const products = new Map(
  (catalogue as { products: Array<Record<string, unknown> & { product_id: string }> }).products.map((p) => [
    p.product_id,
    p,
  ]),
);

/**
 * The shift in whole days that puts `nowSec` just after the first `warmupBuckets` hours of the
 * replay, so functions find that much history before now and the rest of the replay after it.
 */
export function replayShiftFor(firstStartSec: number, nowSec: number, warmupBuckets: number, step = 3600) {
  const day = 86_400;
  const wanted = nowSec - (firstStartSec + warmupBuckets * step);
  return Math.floor(wanted / day) * day;
}

export async function startLocalMarket(options: LocalMarketOptions): Promise<LocalMarket> {
  const shift = options.shiftSeconds ?? 0;
  const series = new Map<string, ProductSeries>();
  for (const file of listCandleFiles(options.candlesDir)) {
    const wire = products.get(file.productId);
    if (wire) series.set(`${file.productId}|${file.granularity}`, { file, wire });
  }
  const productIds = [...new Set([...series.values()].map((s) => s.file.productId))].sort();
  if (productIds.length === 0) {
    throw new Error(
      `${options.candlesDir} holds no candle file of a product in data/coinbase-products.json: the local market has nothing to serve. Point it at a folder such as data/replay.`,
    );
  }
  const columns = (s: ProductSeries) => (s.columns ??= readCandleColumns(s.file.path));
  const hourly = (productId: string) => series.get(`${productId}|ONE_HOUR`);
  let lastCloseSec = Number.POSITIVE_INFINITY;
  for (const s of series.values()) {
    const c = columns(s);
    const end = c.start[c.length - 1]! + shift + GRANULARITY_SECONDS[s.file.granularity];
    lastCloseSec = Math.min(lastCloseSec, end);
  }

  const closedBy = () => (options.nowMs ? Math.floor(options.nowMs() / 1000) : Number.POSITIVE_INFINITY);

  /** the product as /market/products/{id} shows it, priced at its last served hourly close */
  function productWire(productId: string): Record<string, unknown> {
    const s = hourly(productId);
    const base = (s ?? [...series.values()].find((x) => x.file.productId === productId)!).wire;
    if (!s) return { ...base, product_type: "SPOT" };
    const c = columns(s);
    let i = c.length - 1;
    while (i >= 0 && c.start[i]! + shift + 3600 > closedBy()) i--;
    if (i < 0) return { ...base, product_type: "SPOT" };
    let quoteVolume = 0;
    for (let k = Math.max(0, i - 23); k <= i; k++) quoteVolume += c.close[k]! * c.volume[k]!;
    return {
      ...base,
      price: String(c.close[i]),
      volume_24h: (quoteVolume / c.close[i]!).toFixed(8),
      approximate_quote_24h_volume: quoteVolume.toFixed(2),
      product_type: "SPOT",
    };
  }

  function candles(productId: string, query: URLSearchParams): Reply {
    if (!productIds.includes(productId)) return notFound(`Product ${productId} not supported`);
    const granularity = query.get("granularity") ?? "";
    const step = GRANULARITY_SECONDS[granularity as Granularity];
    const start = Number(query.get("start"));
    const end = Number(query.get("end"));
    if (!step) return invalid(`granularity ${granularity || "(missing)"} is not supported`);
    if (!query.get("start") || !query.get("end") || !Number.isInteger(start) || !Number.isInteger(end))
      return invalid("start and end are required, in Unix seconds");
    if (start > end) return invalid("start must not be after end");
    if (Math.ceil((end - start) / step) >= COINBASE_CANDLE_SPAN_LIMIT)
      return invalid("number of candles requested should be less than 350");
    const s = series.get(`${productId}|${granularity}`);
    if (!s) {
      const have = [...series.values()].filter((x) => x.file.productId === productId);
      return invalid(
        `the local market replays ${productId} only at ${have.map((x) => x.file.granularity).join(", ")} (${options.candlesDir} has no ${granularity} file)`,
      );
    }
    const c = columns(s);
    const out: Record<string, string>[] = [];
    const closed = closedBy();
    for (let i = c.length - 1; i >= 0; i--) {
      const at = c.start[i]! + shift;
      if (at > end || at + step > closed) continue;
      if (at < start) break;
      out.push({
        start: String(at),
        low: String(c.low[i]),
        high: String(c.high[i]),
        open: String(c.open[i]),
        close: String(c.close[i]),
        volume: String(c.volume[i]),
      });
    }
    return ok({ candles: out });
  }

  function route(method: string, url: URL): Reply {
    if (method !== "GET") return notFound(`${method} ${url.pathname} is not served by the local market`);
    const path = url.pathname.replace(/\/+$/, "");
    if (path === "/time") {
      const ms = options.nowMs?.() ?? Date.now();
      return ok({
        iso: new Date(ms).toISOString(),
        epochSeconds: String(Math.floor(ms / 1000)),
        epochMillis: String(ms),
      });
    }
    if (path === "/market/products") {
      const list = productIds.map(productWire);
      return ok({ products: list, num_products: list.length });
    }
    let m = path.match(/^\/market\/products\/([^/]+)\/candles$/);
    if (m) return candles(decodeURIComponent(m[1]!), url.searchParams);
    m = path.match(/^\/market\/products\/([^/]+)$/);
    if (m) {
      const id = decodeURIComponent(m[1]!);
      return productIds.includes(id) ? ok(productWire(id)) : notFound(`Product ${id} not supported`);
    }
    return notFound(
      `${path} is not served by the local market (public market data only: /time, /market/products, /market/products/{id}[/candles])`,
    );
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let reply: Reply;
    try {
      reply = route(req.method ?? "GET", new URL(req.url ?? "/", "http://127.0.0.1"));
    } catch (error) {
      reply = { status: 500, body: { error: "INTERNAL", message: (error as Error).message } };
    }
    res.writeHead(reply.status, { "content-type": "application/json" });
    res.end(JSON.stringify(reply.body));
  });
  const port = await listen(server);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    shiftSeconds: shift,
    productIds,
    lastCloseSec,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Reply {
  status: number;
  body: unknown;
}
const ok = (body: unknown): Reply => ({ status: 200, body });
const invalid = (message: string): Reply => ({
  status: 400,
  body: { error: "INVALID_ARGUMENT", error_details: message, message },
});
const notFound = (message: string): Reply => ({
  status: 404,
  body: { error: "NOT_FOUND", error_details: message, message },
});

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}
