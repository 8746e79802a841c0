/** Failures talking to Coinbase, as values a caller can act on. None of them carries credentials. */

export type CoinbaseRequestLabel = { method: string; path: string };

/**
 * Whether the request places an order (POST .../orders): only then can an unknown outcome have
 * created something, and only then does replaying its client_order_id help.
 */
export function placesOrder(request: CoinbaseRequestLabel): boolean {
  return request.method === "POST" && /\/orders$/.test(request.path.split("?")[0]!);
}

/** Coinbase answered with a non-2xx status (after retries, for 429 and 5xx). */
export class CoinbaseApiError extends Error {
  override readonly name = "CoinbaseApiError";
  readonly status: number;
  /** Coinbase's `error` field (INVALID_ARGUMENT, NOT_FOUND, ...) when the body was JSON */
  readonly error: string | undefined;
  /** Coinbase's `message` (or `error_details`) field, or the start of a non-JSON body */
  readonly detail: string | undefined;
  readonly method: string;
  /** request path without the query string */
  readonly path: string;
  readonly attempts: number;
  readonly action: string;

  constructor(args: {
    status: number;
    error?: string;
    detail?: string;
    request: CoinbaseRequestLabel;
    attempts: number;
  }) {
    const action = actionFor(args.status, args.detail, placesOrder(args.request));
    super(
      `Coinbase ${args.request.method} ${args.request.path} answered HTTP ${args.status}` +
        (args.error ? ` ${args.error}` : "") +
        (args.detail ? `: ${args.detail}` : "") +
        (args.attempts > 1 ? ` (after ${args.attempts} attempts)` : "") +
        `. ${action}`,
    );
    this.status = args.status;
    this.error = args.error;
    this.detail = args.detail;
    this.method = args.request.method;
    this.path = args.request.path;
    this.attempts = args.attempts;
    this.action = action;
  }
}

/** No HTTP answer at all (connection refused/reset, or our timeout fired) after every retry. */
export class CoinbaseNetworkError extends Error {
  override readonly name = "CoinbaseNetworkError";
  readonly method: string;
  readonly path: string;
  readonly attempts: number;
  readonly timedOut: boolean;

  constructor(args: { request: CoinbaseRequestLabel; attempts: number; timedOut: boolean; cause: unknown }) {
    super(
      `Coinbase ${args.request.method} ${args.request.path} got no answer after ${args.attempts} attempts ` +
        `(${args.timedOut ? "timed out" : describeCause(args.cause)}). ` +
        (placesOrder(args.request)
          ? "The outcome is unknown: replay the same client_order_id (Coinbase returns the original order) before treating the order as failed."
          : "Check the network and COINBASE_API_BASE_URL, then retry."),
      { cause: args.cause },
    );
    this.method = args.request.method;
    this.path = args.request.path;
    this.attempts = args.attempts;
    this.timedOut = args.timedOut;
  }
}

/** Coinbase answered 2xx but the body did not have the shape this client relies on. */
export class CoinbaseResponseError extends Error {
  override readonly name = "CoinbaseResponseError";
  readonly method: string;
  readonly path: string;

  constructor(args: { request: CoinbaseRequestLabel; problem: string }) {
    super(
      `Coinbase ${args.request.method} ${args.request.path} returned an unexpected body: ${args.problem}. ` +
        "The API may have changed; compare with docs/protocols and update the response schema.",
    );
    this.method = args.request.method;
    this.path = args.request.path;
  }
}

function actionFor(status: number, detail: string | undefined, order: boolean): string {
  if (status === 401)
    return "Check the API key name and secret, that the server clock is right (JWTs live 120 s), and that the key is not revoked.";
  if (status === 403)
    return detail?.includes("Missing required scopes")
      ? "The API key lacks a permission: grant view/trade on the key in the CDP portal."
      : "The API key is not allowed to do this: check its permissions and portfolio.";
  if (status === 404) return "Check the product or order id.";
  if (status === 429) return "Rate limited: lower the request rate or retry later.";
  if (status >= 500)
    return order
      ? "Coinbase is failing: retry later, replaying the same client_order_id."
      : "Coinbase is failing: retry later.";
  return "Fix the request parameters named in the message.";
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause.cause as { code?: string } | undefined)?.code;
    return code ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}
