/**
 * The one place that sends HTTP to Coinbase Advanced Trade: base URL, JWT per private request,
 * timeout, bounded retries with jittered exponential backoff, error mapping, zod parsing.
 */
import type { z } from "zod";
import { type CoinbaseKey, type JwtSigningOptions, signRequestJwt } from "./auth.js";
import { CoinbaseApiError, CoinbaseNetworkError, CoinbaseResponseError } from "./errors.js";

export const COINBASE_BASE_URL = "https://api.coinbase.com/api/v3/brokerage";

export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface CoinbaseHttpOptions {
  /** default https://api.coinbase.com/api/v3/brokerage; tests pass http://127.0.0.1:<port>/api/v3/brokerage */
  baseUrl?: string;
  /** needed for private endpoints only */
  key?: CoinbaseKey;
  /** per attempt; default 10 000 ms */
  timeoutMs?: number;
  /** total attempts including the first; default 4 */
  maxAttempts?: number;
  /** first backoff; default 250 ms, doubled per retry, capped at maxDelayMs (default 8 000 ms) */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** uniform [0,1); jitter source */
  random?: () => number;
  jwt?: JwtSigningOptions;
  fetch?: typeof fetch;
}

export interface CoinbaseRequest<S extends z.ZodType> {
  method: "GET" | "POST";
  /** path below the base URL, e.g. `/market/products/BTC-USD/candles` */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** sign a JWT for this request */
  private: boolean;
  schema: S;
}

const RETRYABLE = (status: number) => status === 429 || status >= 500;

export class CoinbaseHttp {
  readonly baseUrl: string;
  private readonly options: CoinbaseHttpOptions;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: CoinbaseHttpOptions = {}) {
    this.options = options;
    this.baseUrl = (options.baseUrl ?? COINBASE_BASE_URL).replace(/\/+$/, "");
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.fetchImpl = options.fetch ?? fetch;
  }

  get hasKey(): boolean {
    return this.options.key !== undefined;
  }

  async request<S extends z.ZodType>(req: CoinbaseRequest<S>): Promise<z.infer<S>> {
    const url = new URL(this.baseUrl + req.path);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(name, v);
      else url.searchParams.set(name, String(value));
    }
    const label = { method: req.method, path: url.pathname };
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 4);
    const timeoutMs = this.options.timeoutMs ?? 10_000;

    let lastNetworkError: unknown;
    let lastTimedOut = false;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const headers: Record<string, string> = { Accept: "application/json" };
      if (req.body !== undefined) headers["Content-Type"] = "application/json";
      if (req.private) {
        if (!this.options.key) {
          throw new Error(
            `Coinbase ${label.method} ${label.path} needs an API key: pass { key: loadCoinbaseKey(...) } to the client`,
          );
        }
        headers.Authorization = `Bearer ${await signRequestJwt(this.options.key, req.method, url, this.options.jwt)}`;
      }

      let response: Response;
      let text: string;
      try {
        response = await this.fetchImpl(url, {
          method: req.method,
          headers,
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        text = await response.text();
      } catch (error) {
        lastNetworkError = error;
        lastTimedOut = isTimeout(error);
        if (attempt < maxAttempts) {
          await this.sleep(this.backoffMs(attempt, null));
          continue;
        }
        throw new CoinbaseNetworkError({
          request: label,
          attempts: attempt,
          timedOut: lastTimedOut,
          cause: error,
        });
      }

      if (response.ok) return parseBody(req.schema, text, label);

      if (RETRYABLE(response.status) && attempt < maxAttempts) {
        await this.sleep(this.backoffMs(attempt, response.headers.get("retry-after")));
        continue;
      }
      const { error, detail } = readErrorBody(text, response.headers.get("content-type"));
      throw new CoinbaseApiError({
        status: response.status,
        error,
        detail,
        request: label,
        attempts: attempt,
      });
    }
    throw new CoinbaseNetworkError({
      request: label,
      attempts: maxAttempts,
      timedOut: lastTimedOut,
      cause: lastNetworkError,
    });
  }

  private backoffMs(attempt: number, retryAfter: string | null): number {
    const cap = this.options.maxDelayMs ?? 8_000;
    const retryAfterSeconds = retryAfter === null ? Number.NaN : Number(retryAfter);
    if (Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0)
      return Math.min(cap, retryAfterSeconds * 1000);
    const exponential = Math.min(cap, (this.options.baseDelayMs ?? 250) * 2 ** (attempt - 1));
    // full jitter: spreads retries of many concurrent Lambdas instead of synchronising them
    return Math.floor(this.random() * exponential);
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

function parseBody<S extends z.ZodType>(
  schema: S,
  text: string,
  label: { method: string; path: string },
): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CoinbaseResponseError({
      request: label,
      problem: `not JSON (starts with ${JSON.stringify(text.slice(0, 60))})`,
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CoinbaseResponseError({
      request: label,
      problem: `${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    });
  }
  return parsed.data;
}

/** 429 and gateway errors may be HTML; only JSON bodies are read for `error`/`message`. */
function readErrorBody(text: string, contentType: string | null): { error?: string; detail?: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") && !contentType?.includes("html")) {
    try {
      const body = JSON.parse(trimmed) as Record<string, unknown>;
      const error = typeof body.error === "string" ? body.error : undefined;
      const message =
        typeof body.message === "string" && body.message
          ? body.message
          : typeof body.error_details === "string" && body.error_details
            ? body.error_details
            : undefined;
      return { error, detail: message };
    } catch {
      // fall through: treat as text
    }
  }
  if (!trimmed || contentType?.includes("html") || trimmed.startsWith("<")) return {};
  return { detail: trimmed.slice(0, 200) };
}
