import { loadCoinbaseKey } from "../../functions/shared/coinbase/auth.js";
import { CoinbaseExchange } from "../../functions/shared/coinbase/coinbase-exchange.js";
import { CoinbaseTradingClient } from "../../functions/shared/coinbase/trading.js";
import type { ExecutionRequest } from "../../functions/shared/domain/schemas.js";
import type { Stores } from "../../functions/shared/store/dynamo/index.js";
import type { es256TestKey } from "../coinbase/test-keys.js";
import type { FakeCoinbase } from "../fakes/fake-coinbase.js";
import { recommendation } from "../store/fixtures.js";

/** A recommendation carried through the lifecycle up to RISK_APPROVED, as the chain would leave it. */
export async function riskApprovedRecommendation(
  stores: Stores,
  id: string,
  symbol: string,
  amountUsd: number,
  at: Date,
): Promise<void> {
  await stores.recommendations.create(recommendation({ recommendationId: id, symbol, amountUsd }));
  for (const [from, to] of [
    ["PENDING", "QUEUED"],
    ["QUEUED", "VALIDATED"],
    ["VALIDATED", "RISK_APPROVED"],
  ] as const) {
    await stores.recommendations.transition(
      id,
      from,
      to,
      "test setup",
      at,
      to === "RISK_APPROVED" ? { approvedAmountUsd: amountUsd } : {},
    );
  }
}

/** The executor's message for a risk-approved BUY of amountUsd, without stop levels. */
export function buyRequest(id: string, symbol: string, amountUsd: number, at: Date): ExecutionRequest {
  return {
    schemaVersion: 1,
    type: "ExecuteTrade",
    recommendationId: id,
    symbol,
    side: "BUY",
    amountUsd,
    sentAt: at.toISOString(),
  };
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
