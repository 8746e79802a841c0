import { loadCoinbaseKey } from "#coinbase/auth.js";
import { CoinbaseExchange } from "#coinbase/coinbase-exchange.js";
import { CoinbaseTradingClient } from "#coinbase/trading.js";
import type { ExecutionRequest, RiskDecision, Side } from "#domain/schemas.js";
import type { Exchange } from "#exchange/exchange.js";
import type { Stores } from "#store/dynamo/index.js";
import type { es256TestKey } from "#test/coinbase/test-keys.js";
import type { FakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { candle, recommendation } from "#test/store/fixtures.js";

/**
 * A recommendation carried through the lifecycle up to RISK_APPROVED, as the chain would leave it,
 * with its stored risk decision: a BUY spends amountUsd, a SELL sells `baseSize`.
 */
export async function riskApprovedRecommendation(
  stores: Stores,
  id: string,
  symbol: string,
  amountUsd: number,
  at: Date,
  sell?: { baseSize: string },
): Promise<void> {
  const side = sell ? "SELL" : "BUY";
  await stores.recommendations.create(
    recommendation({ recommendationId: id, symbol, side, amountUsd, createdAt: at.toISOString() }),
  );
  await stores.decisions.putRiskDecision(
    approvingDecision(
      id,
      amountUsd,
      at,
      sell
        ? { symbol, side: "SELL", baseSize: sell.baseSize }
        : { symbol, side: "BUY", quoteSize: String(amountUsd) },
    ),
  );
  await walkLifecycle(stores, id, "RISK_APPROVED", at, { approvedAmountUsd: amountUsd });
}

/** A risk decision approving amountUsd; `order` is what it fixes (none: as an older version stored it). */
export function approvingDecision(
  id: string,
  amountUsd: number,
  at: Date,
  order: RiskDecision["order"],
): RiskDecision {
  return {
    recommendationId: id,
    decision: "APPROVE",
    refusals: [],
    volatility14d: 0.5,
    portfolioHeat: 0,
    riskScore: 10,
    kellyFraction: 0.1,
    requestedAmountUsd: amountUsd,
    adjustedAmountUsd: amountUsd,
    ...(order ? { order } : {}),
    createdAt: at.toISOString(),
  };
}

const LIFECYCLE_TO_EXECUTING = ["PENDING", "QUEUED", "VALIDATED", "RISK_APPROVED", "EXECUTING"] as const;

/** Moves a PENDING recommendation along the happy path up to `to`, as the stages would (no decisions stored). */
export async function walkLifecycle(
  stores: Pick<Stores, "recommendations">,
  id: string,
  to: (typeof LIFECYCLE_TO_EXECUTING)[number],
  at: Date,
  approvalPatch: { approvedAmountUsd?: number } = {},
): Promise<void> {
  const end = LIFECYCLE_TO_EXECUTING.indexOf(to);
  for (let i = 1; i <= end; i++) {
    const next = LIFECYCLE_TO_EXECUTING[i]!;
    await stores.recommendations.transition(
      id,
      LIFECYCLE_TO_EXECUTING[i - 1]!,
      next,
      "test setup",
      at,
      next === "RISK_APPROVED" ? approvalPatch : {},
    );
  }
}

/** The executor's message for a risk-approved recommendation: ids only. */
export function executionMessage(id: string, symbol: string, side: Side, at: Date): ExecutionRequest {
  return {
    schemaVersion: 1,
    type: "ExecuteTrade",
    recommendationId: id,
    symbol,
    side,
    sentAt: at.toISOString(),
  };
}

export function buyRequest(id: string, symbol: string, at: Date): ExecutionRequest {
  return executionMessage(id, symbol, "BUY", at);
}

/** Stores the venue's current mid as each product's last close: the executor's price-sanity reference. */
export async function referenceClosesFromVenue(
  stores: Stores,
  exchange: Exchange,
  symbols: readonly string[],
  at: Date,
): Promise<void> {
  const start = Math.floor(at.getTime() / 3_600_000) * 3600 - 3600;
  for (const symbol of new Set(symbols)) {
    const { bid, ask } = await exchange.getBestBidAsk(symbol);
    await stores.candles.putCandles([candle(symbol, start, (Number(bid) + Number(ask)) / 2)]);
  }
}

/** The live venue signing with a test key the fake Coinbase trusts. */
export function coinbaseExchangeOn(
  fake: FakeCoinbase,
  key: ReturnType<typeof es256TestKey>,
  options: { timeoutMs?: number; maxAttempts?: number } = {},
): CoinbaseExchange {
  return new CoinbaseExchange(
    new CoinbaseTradingClient({
      baseUrl: fake.baseUrl,
      key: loadCoinbaseKey({ name: key.name, privateKey: key.sec1Pem }),
      sleep: async () => {},
      ...options,
    }),
  );
}
