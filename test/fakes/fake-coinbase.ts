/**
 * A loopback Coinbase Advanced Trade server (protocols A.8) for tests: public market data,
 * JWT-verified private endpoints, order books and balances, and injectable faults.
 */

import type { KeyObject } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Decimal } from "decimal.js";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { GRANULARITY_SECONDS as GRANULARITY_SECONDS_BY_NAME } from "#domain/schemas.js";
import { priceString, type SeriesCandle, seriesCandle } from "./fake-coinbase/candles.js";
import { DEFAULT_PRODUCTS, type FakeProductInput } from "./fake-coinbase/catalogue.js";
import {
  FakeCoinbaseState,
  type OrderRejection,
  type ParsedOrder,
  type StopDirectionWire,
} from "./fake-coinbase/state.js";

export { DEFAULT_PRODUCTS, type FakeProductInput } from "./fake-coinbase/catalogue.js";
export { FakeCoinbaseState } from "./fake-coinbase/state.js";

const PREFIX = "/api/v3/brokerage";
// the fake answers for any granularity name the real enum has
const GRANULARITY_SECONDS: Readonly<Record<string, number>> = GRANULARITY_SECONDS_BY_NAME;
/** Coinbase: "number of candles requested should be less than 350" */
const MAX_CANDLES = 350;

export interface FakeCoinbaseOptions {
  /** API keys the fake accepts: key name (kid/sub) -> public key */
  keys?: Array<{ name: string; publicKey: KeyObject }>;
  products?: readonly FakeProductInput[];
  /** available balances per currency; default { USD: "10000" } */
  balances?: Record<string, string>;
  /** seeds the candle series */
  seed?: number;
  /** the fake's clock (JWT checks, candle "now", order times); default Date.now */
  nowMs?: () => number;
  takerFeeRate?: string;
  makerFeeRate?: string;
  /** candle buckets [from, to) (Unix seconds) that have no trades, per product */
  candleGaps?: Record<string, Array<{ from: number; to: number }>>;
  /** server-side cap on accounts per page (Coinbase: default 49, max 250) */
  maxAccountsPerPage?: number;
  /** a candle series of your own (e.g. replayed history); default: the seeded synthetic series */
  candles?: (productId: string, granularity: string, start: number) => SeriesCandle | undefined;
}

export interface FaultMatch {
  method?: string;
  /** path below /api/v3/brokerage; a string matches by prefix */
  path?: string | RegExp;
}

type Fault =
  | { kind: "status"; status: number; remaining: number; match: FaultMatch }
  | { kind: "hang"; afterAccept: boolean; mode: "hang" | "destroy"; remaining: number; match: FaultMatch };

export interface FakeCoinbaseFaults {
  /** next n matching requests answer 429 with an HTML body */
  rateLimit(n: number, match?: FaultMatch): void;
  /** next n matching requests answer this 5xx */
  serverError(n: number, status?: number, match?: FaultMatch): void;
  /** next n matching requests are processed (order stored) and then never answered */
  hangAfterAccept(n: number, options?: { match?: FaultMatch; mode?: "hang" | "destroy" }): void;
  /** next n matching requests are never answered and have no effect */
  hangBeforeAccept(n: number, match?: FaultMatch): void;
  /** next n created market orders fill only this fraction and stay OPEN */
  partialFill(fraction: string, n?: number): void;
  /** next n accepted cancels land only after `reads` more GETs of the order (OPEN, pending_cancel meanwhile) */
  slowCancel(reads: number, n?: number): void;
  /** next n POST /orders answer 200 success:false with this reason */
  reject(
    reason: {
      error: string;
      message?: string;
      previewFailureReason?: string;
      newOrderFailureReason?: string;
    },
    n?: number,
  ): void;
  clear(): void;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
  authorized: boolean;
}

export interface FakeCoinbase {
  baseUrl: string;
  state: FakeCoinbaseState;
  faults: FakeCoinbaseFaults;
  requests: RequestRecord[];
  /** candle buckets without trades: [from, to) */
  addCandleGap(productId: string, from: number, to: number): void;
  /** the candle the fake serves for a bucket (undefined in a gap or in the future) */
  candleAt(productId: string, granularity: string, start: number): Record<string, string> | undefined;
  close(): Promise<void>;
}

class HttpReply {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly contentType: string,
  ) {}
  static json(status: number, value: unknown): HttpReply {
    return new HttpReply(status, JSON.stringify(value), "application/json");
  }
  static error(status: number, error: string, message: string): HttpReply {
    return HttpReply.json(status, { error, error_details: message, message });
  }
}

const UNAUTHORIZED = new HttpReply(401, "Unauthorized", "text/plain; charset=utf-8");
const RATE_LIMITED_HTML =
  "<!DOCTYPE html><html><head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1></body></html>";

export async function startFakeCoinbase(options: FakeCoinbaseOptions = {}): Promise<FakeCoinbase> {
  const nowMs = options.nowMs ?? Date.now;
  const seed = options.seed ?? 42;
  const state = new FakeCoinbaseState(
    options.products ?? DEFAULT_PRODUCTS,
    options.balances ?? { USD: "10000" },
    { taker: options.takerFeeRate ?? "0.006", maker: options.makerFeeRate ?? "0.004" },
    nowMs,
  );
  const keys = new Map((options.keys ?? []).map((k) => [k.name, k.publicKey]));
  const basePrices = new Map([...state.books.entries()].map(([id, b]) => [id, Number(b.wire.price)]));
  const gaps = new Map<string, Array<{ from: number; to: number }>>(Object.entries(options.candleGaps ?? {}));
  const faults: Fault[] = [];
  let partialFills: { fraction: Decimal; remaining: number } | undefined;
  let slowCancels: { reads: number; remaining: number } | undefined;
  const rejects: Array<OrderRejection> = [];
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();

  const takeFault = (method: string, path: string, phase: "before" | "after"): Fault | undefined => {
    for (const fault of faults) {
      if (fault.remaining <= 0) continue;
      const isAfter = fault.kind === "hang" && fault.afterAccept;
      if ((phase === "after") !== isAfter) continue;
      if (!matches(fault.match, method, path)) continue;
      fault.remaining--;
      return fault;
    }
    return undefined;
  };

  const candleAt = (productId: string, granularity: string, start: number) => {
    const step = GRANULARITY_SECONDS[granularity];
    const base = basePrices.get(productId);
    if (!step || base === undefined || start % step !== 0) return undefined;
    if (start > nowMs() / 1000) return undefined;
    if ((gaps.get(productId) ?? []).some((g) => start >= g.from && start < g.to)) return undefined;
    const c = options.candles
      ? options.candles(productId, granularity, start)
      : seriesCandle(seed, productId, base, start, step);
    if (!c) return undefined;
    return {
      start: String(start),
      low: priceString(c.low),
      high: priceString(c.high),
      open: priceString(c.open),
      close: priceString(c.close),
      volume: c.volume.toFixed(8),
    };
  };

  const candles = (productId: string, q: URLSearchParams): HttpReply => {
    if (!state.product(productId))
      return HttpReply.error(404, "NOT_FOUND", `Product ${productId} not supported`);
    const startRaw = q.get("start");
    const endRaw = q.get("end");
    const granularity = q.get("granularity") ?? "";
    if (!startRaw || !endRaw) return HttpReply.error(400, "INVALID_ARGUMENT", "start and end are required");
    const step = GRANULARITY_SECONDS[granularity];
    if (!step)
      return HttpReply.error(
        400,
        "INVALID_ARGUMENT",
        `granularity ${granularity || "(missing)"} is not supported`,
      );
    const start = Number(startRaw);
    const end = Number(endRaw);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start > end)
      return HttpReply.error(400, "INVALID_ARGUMENT", "start and end must be Unix seconds with start <= end");
    const limit = q.get("limit") === null ? MAX_CANDLES : Number(q.get("limit"));
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CANDLES)
      return HttpReply.error(400, "INVALID_ARGUMENT", "limit must be between 1 and 350");
    if (Math.ceil((end - start) / step) >= MAX_CANDLES)
      return HttpReply.error(400, "INVALID_ARGUMENT", "number of candles requested should be less than 350");
    const out: Record<string, string>[] = [];
    for (let t = Math.floor(end / step) * step; t >= start && out.length < limit; t -= step) {
      const c = candleAt(productId, granularity, t);
      if (c) out.push(c);
    }
    return HttpReply.json(200, { candles: out });
  };

  const verify = async (req: IncomingMessage, method: string, pathname: string): Promise<boolean> => {
    const header = req.headers.authorization ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!token) return false;
    try {
      const { kid, alg } = decodeProtectedHeader(token);
      const publicKey = kid ? keys.get(kid) : undefined;
      if (!publicKey || (alg !== "ES256" && alg !== "EdDSA")) return false;
      const { payload } = await jwtVerify(token, publicKey, {
        algorithms: ["ES256", "EdDSA"],
        currentDate: new Date(nowMs()),
        issuer: "cdp",
        subject: kid,
        requiredClaims: ["sub", "iss", "nbf", "exp", "uri"],
      });
      if (typeof payload.exp !== "number" || typeof payload.nbf !== "number") return false;
      if (payload.exp - payload.nbf > 120) return false;
      return payload.uri === `${method} ${req.headers.host}${pathname}`;
    } catch {
      return false;
    }
  };

  const parseOrder = (body: Record<string, unknown>): ParsedOrder | HttpReply => {
    const productId = body.product_id;
    const side = body.side;
    const config = body.order_configuration as Record<string, Record<string, unknown>> | undefined;
    if (typeof productId !== "string" || !productId)
      return HttpReply.error(400, "INVALID_ARGUMENT", "product_id is required");
    if (side !== "BUY" && side !== "SELL")
      return HttpReply.error(400, "INVALID_ARGUMENT", "side must be BUY or SELL");
    if (!config || typeof config !== "object" || Object.keys(config).length !== 1)
      return HttpReply.error(400, "INVALID_ARGUMENT", "order_configuration must have exactly one key");
    const dec = (v: unknown) => {
      if (v === undefined) return undefined;
      if (typeof v !== "string" || !/^\d+(\.\d+)?$/.test(v)) throw new Error(`bad decimal ${String(v)}`);
      return new Decimal(v);
    };
    try {
      if (config.market_market_ioc) {
        const m = config.market_market_ioc;
        const quoteSize = dec(m.quote_size);
        const baseSize = dec(m.base_size);
        if ((quoteSize === undefined) === (baseSize === undefined))
          return HttpReply.error(
            400,
            "INVALID_ARGUMENT",
            "market_market_ioc needs exactly one of quote_size or base_size",
          );
        return {
          product_id: productId,
          side,
          order_configuration: config,
          kind: "MARKET",
          quoteSize,
          baseSize,
          postOnly: false,
        };
      }
      if (config.stop_limit_stop_limit_gtc) {
        const c = config.stop_limit_stop_limit_gtc;
        const baseSize = dec(c.base_size);
        const limitPrice = dec(c.limit_price);
        const stopPrice = dec(c.stop_price);
        if (!baseSize || !limitPrice || !stopPrice)
          return HttpReply.error(
            400,
            "INVALID_ARGUMENT",
            "stop_limit_stop_limit_gtc needs base_size, limit_price and stop_price",
          );
        if (c.stop_direction !== "STOP_DIRECTION_STOP_UP" && c.stop_direction !== "STOP_DIRECTION_STOP_DOWN")
          return HttpReply.error(
            400,
            "INVALID_ARGUMENT",
            "stop_direction must be STOP_DIRECTION_STOP_UP or STOP_DIRECTION_STOP_DOWN",
          );
        return {
          product_id: productId,
          side,
          order_configuration: config,
          kind: "STOP_LIMIT",
          baseSize,
          limitPrice,
          stopPrice,
          stopDirection: c.stop_direction as StopDirectionWire,
          postOnly: false,
        };
      }
      if (config.limit_limit_gtc) {
        const l = config.limit_limit_gtc;
        const baseSize = dec(l.base_size);
        const limitPrice = dec(l.limit_price);
        if (!baseSize || !limitPrice)
          return HttpReply.error(400, "INVALID_ARGUMENT", "limit_limit_gtc needs base_size and limit_price");
        return {
          product_id: productId,
          side,
          order_configuration: config,
          kind: "LIMIT",
          baseSize,
          limitPrice,
          postOnly: l.post_only === true,
        };
      }
    } catch (error) {
      return HttpReply.error(400, "INVALID_ARGUMENT", (error as Error).message);
    }
    return HttpReply.error(
      400,
      "UNSUPPORTED_ORDER_CONFIGURATION",
      `unsupported order configuration ${Object.keys(config)[0]}`,
    );
  };

  const createOrder = (body: Record<string, unknown>): HttpReply => {
    const clientOrderId = body.client_order_id;
    if (typeof clientOrderId !== "string" || !clientOrderId)
      return HttpReply.error(400, "INVALID_ARGUMENT", "client_order_id is required");
    state.noteCreateRequest(clientOrderId);
    const original = state.successBodies.get(clientOrderId);
    if (original) return HttpReply.json(200, original);
    const parsed = parseOrder(body);
    if (parsed instanceof HttpReply) return parsed;
    const failure = rejects.shift() ?? state.check(parsed);
    if (failure) {
      return HttpReply.json(200, {
        success: false,
        failure_reason: "UNKNOWN_FAILURE_REASON",
        order_id: "",
        error_response: { ...failure, error_details: "" },
        order_configuration: parsed.order_configuration,
      });
    }
    let fraction = new Decimal(1);
    if (partialFills && partialFills.remaining > 0 && parsed.kind === "MARKET") {
      fraction = partialFills.fraction;
      partialFills.remaining--;
    }
    const order = state.create(clientOrderId, parsed, fraction);
    const success = {
      success: true,
      failure_reason: "UNKNOWN_FAILURE_REASON",
      order_id: order.order_id,
      success_response: {
        order_id: order.order_id,
        product_id: order.product_id,
        side: order.side,
        client_order_id: clientOrderId,
      },
      order_configuration: parsed.order_configuration,
    };
    state.successBodies.set(clientOrderId, success);
    return HttpReply.json(200, success);
  };

  const listOrders = (q: URLSearchParams): HttpReply => {
    const ids = q.getAll("order_ids");
    const products = q.getAll("product_ids");
    const statuses = q.getAll("order_status");
    const startDate = q.get("start_date");
    const all = [...state.orders.values()]
      .filter((o) => (ids.length ? ids.includes(o.order_id) : true))
      .filter((o) => (products.length ? products.includes(o.product_id) : true))
      .filter((o) => (statuses.length ? statuses.includes(o.status) : true))
      .filter((o) => (startDate ? o.created_time >= startDate : true))
      .reverse();
    return HttpReply.json(200, { ...page(all, q, 100, "orders", (o) => state.orderWire(o)), sequence: "0" });
  };

  const listFills = (q: URLSearchParams): HttpReply => {
    const ids = q.getAll("order_ids");
    const products = q.getAll("product_ids");
    const all = state.fills
      .filter((f) => (ids.length ? ids.includes(f.order_id) : true))
      .filter((f) => (products.length ? products.includes(f.product_id) : true))
      .slice()
      .reverse();
    const { fills, cursor } = page(all, q, 100, "fills", (f) => f);
    return HttpReply.json(200, { fills, cursor });
  };

  const accounts = (q: URLSearchParams): HttpReply => {
    const cap = options.maxAccountsPerPage ?? 250;
    const all = [...state.balances.entries()].sort(([a], [b]) => a.localeCompare(b));
    const limit = Math.min(cap, Number(q.get("limit") ?? 49));
    const offset = Number(q.get("cursor") || 0);
    const slice = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? String(offset + limit) : "";
    return HttpReply.json(200, {
      accounts: slice.map(([currency, b]) => ({
        uuid: `acct-${currency.toLowerCase()}`,
        name: `${currency} Wallet`,
        currency,
        available_balance: { value: b.available.toString(), currency },
        default: true,
        active: true,
        created_at: "2023-01-04T06:20:06.456Z",
        updated_at: "2023-01-04T06:20:07.181Z",
        deleted_at: null,
        type: currency === "USD" ? "ACCOUNT_TYPE_FIAT" : "ACCOUNT_TYPE_CRYPTO",
        ready: true,
        hold: { value: b.hold.toString(), currency },
        retail_portfolio_id: "11111111-1111-1111-1111-111111111111",
        platform: "ACCOUNT_PLATFORM_CONSUMER",
      })),
      has_next: next !== "",
      cursor: next,
      size: slice.length,
    });
  };

  const route = async (
    req: IncomingMessage,
    record: RequestRecord,
    path: string,
    q: URLSearchParams,
    body: unknown,
  ): Promise<HttpReply> => {
    const method = record.method;
    if (method === "GET" && path === "/time") {
      const ms = nowMs();
      return HttpReply.json(200, {
        iso: new Date(ms).toISOString().replace(/\.\d+Z$/, "Z"),
        epochSeconds: String(Math.floor(ms / 1000)),
        epochMillis: String(ms),
      });
    }
    let m: RegExpMatchArray | null;
    if (method === "GET" && path === "/market/products") {
      const type = q.get("product_type");
      const products = [...state.books.values()]
        .map((b) => b.wire)
        .filter((p) => (type ? p.product_type === type : true));
      return HttpReply.json(200, { products, num_products: products.length });
    }
    if (method === "GET" && (m = path.match(/^\/market\/products\/([^/]+)\/candles$/)))
      return candles(decodeURIComponent(m[1]!), q);
    if (method === "GET" && (m = path.match(/^\/market\/products\/([^/]+)$/))) {
      const product = state.product(decodeURIComponent(m[1]!));
      return product
        ? HttpReply.json(200, product)
        : HttpReply.error(404, "NOT_FOUND", `Product ${decodeURIComponent(m[1]!)} not supported`);
    }

    // everything below is private
    if (!(await verify(req, method, PREFIX + path))) return UNAUTHORIZED;
    record.authorized = true;

    if (method === "GET" && (m = path.match(/^\/products\/([^/]+)\/candles$/)))
      return candles(decodeURIComponent(m[1]!), q);
    if (method === "GET" && (m = path.match(/^\/products\/([^/]+)$/))) {
      const product = state.product(decodeURIComponent(m[1]!));
      return product
        ? HttpReply.json(200, product)
        : HttpReply.error(404, "NOT_FOUND", `Product ${decodeURIComponent(m[1]!)} not supported`);
    }
    if (method === "GET" && path === "/accounts") return accounts(q);
    if (method === "GET" && path === "/best_bid_ask") {
      const ids = q.getAll("product_ids");
      const wanted = ids.length ? ids : [...state.books.keys()];
      const pricebooks = wanted
        .filter((id) => state.books.has(id))
        .map((id) => {
          const { bid, ask } = state.bestBidAsk(id);
          return {
            product_id: id,
            bids: [{ price: bid, size: "1.5" }],
            asks: [{ price: ask, size: "1.2" }],
            time: new Date(nowMs()).toISOString(),
          };
        });
      return HttpReply.json(200, { pricebooks });
    }
    if (method === "POST" && path === "/orders") {
      if (!isObject(body))
        return HttpReply.error(400, "INVALID_ARGUMENT", "request body must be a JSON object");
      return createOrder(body);
    }
    if (method === "POST" && path === "/orders/preview") {
      if (!isObject(body))
        return HttpReply.error(400, "INVALID_ARGUMENT", "request body must be a JSON object");
      const parsed = parseOrder(body);
      return parsed instanceof HttpReply ? parsed : HttpReply.json(200, state.preview(parsed));
    }
    if (method === "GET" && path === "/orders/historical/batch") return listOrders(q);
    if (method === "GET" && path === "/orders/historical/fills") return listFills(q);
    if (method === "GET" && (m = path.match(/^\/orders\/historical\/([^/]+)$/))) {
      const order = state.orders.get(decodeURIComponent(m[1]!));
      if (order) state.noteOrderRead(order);
      return order
        ? HttpReply.json(200, { order: state.orderWire(order) })
        : HttpReply.json(404, {
            error: "unknown",
            error_details: "order with this orderID was not found",
            message: "order with this orderID was not found",
          });
    }
    if (method === "POST" && path === "/orders/batch_cancel") {
      const ids = isObject(body) && Array.isArray(body.order_ids) ? (body.order_ids as unknown[]) : undefined;
      if (!ids) return HttpReply.error(400, "INVALID_ARGUMENT", "order_ids is required");
      return HttpReply.json(200, {
        results: ids.map((id) => {
          let afterReads = 0;
          if (slowCancels && slowCancels.remaining > 0 && state.orders.get(String(id))?.status === "OPEN") {
            afterReads = slowCancels.reads;
            slowCancels.remaining--;
          }
          return { ...state.cancel(String(id), afterReads), order_id: String(id) };
        }),
      });
    }
    return HttpReply.error(404, "NOT_FOUND", `no route for ${method} ${PREFIX}${path}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const record: RequestRecord = {
      method,
      path: url.pathname,
      query: url.searchParams,
      status: 0,
      authorized: false,
    };
    requests.push(record);
    if (!url.pathname.startsWith(PREFIX))
      return send(res, record, HttpReply.error(404, "NOT_FOUND", "unknown path"));
    const path = url.pathname.slice(PREFIX.length) || "/";

    const before = takeFault(method, path, "before");
    if (before?.kind === "status") {
      const reply =
        before.status === 429
          ? new HttpReply(429, RATE_LIMITED_HTML, "text/html; charset=utf-8")
          : before.status === 500
            ? HttpReply.error(500, "INTERNAL", "Internal server error")
            : new HttpReply(
                before.status,
                `<html><body>${before.status} Bad Gateway</body></html>`,
                "text/html",
              );
      return send(res, record, reply);
    }
    if (before?.kind === "hang") return abandon(req, res, before.mode);

    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, record, HttpReply.error(400, "INVALID_ARGUMENT", "request body is not valid JSON"));
      }
    }
    const reply = await route(req, record, path, url.searchParams, body);
    const after = reply.status < 400 ? takeFault(method, path, "after") : undefined;
    if (after?.kind === "hang") return abandon(req, res, after.mode);
    send(res, record, reply);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "INTERNAL", message: String(error) }));
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const faultApi: FakeCoinbaseFaults = {
    rateLimit: (n, match = {}) => faults.push({ kind: "status", status: 429, remaining: n, match }),
    serverError: (n, status = 503, match = {}) =>
      faults.push({ kind: "status", status, remaining: n, match }),
    hangAfterAccept: (n, opts = {}) =>
      faults.push({
        kind: "hang",
        afterAccept: true,
        mode: opts.mode ?? "hang",
        remaining: n,
        match: opts.match ?? { method: "POST", path: /^\/orders$/ },
      }),
    hangBeforeAccept: (n, match = {}) =>
      faults.push({ kind: "hang", afterAccept: false, mode: "hang", remaining: n, match }),
    partialFill: (fraction, n = 1) => {
      partialFills = { fraction: new Decimal(fraction), remaining: n };
    },
    slowCancel: (reads, n = 1) => {
      slowCancels = { reads, remaining: n };
    },
    reject: (reason, n = 1) => {
      for (let i = 0; i < n; i++)
        rejects.push({
          error: reason.error,
          message: reason.message ?? reason.error,
          preview_failure_reason: reason.previewFailureReason ?? `PREVIEW_${reason.error}`,
          new_order_failure_reason: reason.newOrderFailureReason ?? reason.error,
        });
    },
    clear: () => {
      faults.length = 0;
      rejects.length = 0;
      partialFills = undefined;
      slowCancels = undefined;
    },
  };

  return {
    baseUrl: `http://127.0.0.1:${port}${PREFIX}`,
    state,
    faults: faultApi,
    requests,
    addCandleGap: (productId, from, to) => {
      const list = gaps.get(productId) ?? [];
      list.push({ from, to });
      gaps.set(productId, list);
    },
    candleAt,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function matches(match: FaultMatch, method: string, path: string): boolean {
  if (match.method && match.method !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === "string" ? path.startsWith(match.path) : match.path.test(path);
}

function page<T, R>(
  all: T[],
  q: URLSearchParams,
  defaultLimit: number,
  key: string,
  map: (item: T) => R,
): Record<string, unknown> & { cursor: string } {
  const limit = Math.max(1, Number(q.get("limit") ?? defaultLimit));
  const offset = Number(q.get("cursor") || 0);
  const slice = all.slice(offset, offset + limit);
  const next = offset + limit < all.length ? String(offset + limit) : "";
  return { [key]: slice.map(map), has_next: next !== "", cursor: next };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, record: RequestRecord, reply: HttpReply): void {
  record.status = reply.status;
  res.writeHead(reply.status, { "content-type": reply.contentType });
  res.end(reply.body);
}

/** Simulates a lost answer: the request had its effect (or not) but the client never hears back. */
function abandon(req: IncomingMessage, _res: ServerResponse, mode: "hang" | "destroy"): void {
  if (mode === "destroy") req.socket.destroy();
  // "hang": keep the socket open without answering; close() destroys it
}
