import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCoinbaseKey } from "#coinbase/auth.js";
import { CoinbaseExchange } from "#coinbase/coinbase-exchange.js";
import { CoinbaseTradingClient } from "#coinbase/trading.js";
import { summarizeRun } from "#local/summary.js";
import { readCandleColumns } from "#market-data/replay.js";
import { es256TestKey } from "#test/coinbase/test-keys.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import {
  APRIL_CANDLES,
  APRIL_FROM,
  APRIL_SYMBOLS,
  APRIL_TO,
  aprilPipeline,
  fakeProductAt,
} from "./support.js";

const testKey = es256TestKey();

/** Coinbase-like rules for the April symbols, priced at their close when the first cycle runs. */
function aprilProducts() {
  return APRIL_SYMBOLS.map((productId) => {
    const cols = readCandleColumns(join(APRIL_CANDLES, `${productId.replace("-USD", "-USDT")}_1h.csv`), {
      to: APRIL_FROM.getTime() / 1000,
    });
    const close = cols.close[cols.length - 1];
    return fakeProductAt(productId, close);
  });
}

describe("the whole pipeline with the live venue (Coinbase Advanced Trade client, JWT-signed) against the fake Coinbase", () => {
  let fake: FakeCoinbase;
  let ollama: FakeOllama;
  beforeAll(async () => {
    fake = await startFakeCoinbase({
      keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
      products: aprilProducts(),
      balances: { USD: "10000", ...Object.fromEntries(APRIL_SYMBOLS.map((s) => [s.split("-")[0], "0"])) },
    });
    ollama = await startFakeOllama({ defaultBehaviour: "approve" });
  });
  afterAll(async () => {
    await Promise.all([fake.close(), ollama.close()]);
  });

  it("executes the approved recommendations as real orders at the exchange and books the exchange's fills", async () => {
    const cloud = await isolatedCloud("e2e-coinbase");
    const exchange = new CoinbaseExchange(
      new CoinbaseTradingClient({
        baseUrl: fake.baseUrl,
        key: loadCoinbaseKey({ name: testKey.name, privateKey: testKey.sec1Pem }),
        sleep: async () => {},
      }),
    );
    const pipeline = await aprilPipeline(cloud, { ollamaHost: ollama.host, exchange });
    await pipeline.run();
    const summary = await summarizeRun(pipeline.stores, APRIL_FROM, APRIL_TO);
    expect(summary.recommendationsByState.EXECUTED).toBeGreaterThan(0);
    expect(summary.orders.length).toBe(summary.recommendationsByState.EXECUTED);
    for (const order of summary.orders) {
      expect(order.venue).toBe("coinbase");
      expect(order.status).toBe("FILLED");
      expect(fake.state.ordersCreatedFor(order.clientOrderId)).toBe(1);
    }
    // the portfolio took quantities and cash from the exchange (the truth)
    const usd = fake.state.balance("USD");
    expect(summary.equity?.cashUsd).toBeCloseTo(Number(usd.available) + Number(usd.hold), 6);
    for (const p of summary.positions) {
      const base = fake.state.balance(p.symbol.split("-")[0]);
      expect(Number(p.quantity)).toBeCloseTo(Number(base.available) + Number(base.hold), 9);
    }
    // every private request was JWT-authenticated
    expect(fake.requests.filter((r) => r.status === 401)).toEqual([]);
  });
});
