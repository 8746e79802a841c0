import { Logger } from "@aws-lambda-powertools/logger";
import type { SQSEvent } from "aws-lambda";
import { Decimal } from "decimal.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ExecutionRequest, ExecutionRequest as ExecutionRequestSchema } from "#domain/schemas.js";
import { silentLog } from "#runtime/log.js";
import { sqsHandler } from "#runtime/sqs-handler.js";
import { clientOrderIdFor, executeTrade } from "#steps/execute-trade.js";
import { createDocumentClient, createStores, type Stores } from "#store/dynamo/index.js";
import { es256TestKey } from "#test/coinbase/test-keys.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { sqsRecord } from "#test/support/sqs.js";
import {
  coinbaseExchangeOn,
  executionMessage,
  referenceClosesFromVenue,
  riskApprovedRecommendation,
} from "#test/support/steps.js";

const testKey = es256TestKey();
const NOW = new Date("2024-06-30T12:00:00.000Z");
/** delivery n arrives after n visibility timeouts (6 minutes each) */
const deliveryTime = (n: number) => new Date(NOW.getTime() + (n - 1) * 360_000);
const HOLDINGS = { BTC: "0.01", ETH: "0.5", SOL: "5", DOGE: "2000" };
/** what each SELL sells: a slice of the holding, on the product's base grid */
const SELL_SIZES: Record<string, string> = {
  "BTC-USD": "0.0006",
  "ETH-USD": "0.012",
  "SOL-USD": "0.25",
  "DOGE-USD": "250",
};

function sqsEvent(message: ExecutionRequest, delivery: number): SQSEvent {
  return {
    Records: [
      sqsRecord(JSON.stringify(message), {
        messageId: `${message.recommendationId}-${delivery}`,
        queue: "trading-execution",
        receiveCount: delivery,
        senderId: "test",
      }),
    ],
  };
}

describe("never twice: every execution message delivered 3 times, some concurrently, with timeouts after the exchange accepted", () => {
  let fake: FakeCoinbase;
  let stores: Stores;
  beforeAll(async () => {
    await isolatedCloud("never-twice");
    stores = createStores(createDocumentClient());
    fake = await startFakeCoinbase({
      keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
      balances: { USD: "10000", ...HOLDINGS },
    });
    await referenceClosesFromVenue(
      stores,
      coinbaseExchangeOn(fake, testKey),
      ["BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD"],
      NOW,
    );
  });
  afterAll(async () => {
    await fake.close();
  });

  it.each(["BUY", "SELL"] as const)(
    "places exactly one %s order per recommendation at the (fake) Coinbase",
    async (side) => {
      // one attempt per delivery: a timeout surfaces as a failed message that SQS delivers again
      const exchange = coinbaseExchangeOn(fake, testKey, { timeoutMs: 400, maxAttempts: 1 });
      const handler = (delivery: number) =>
        sqsHandler({
          queue: "execution",
          schema: ExecutionRequestSchema,
          logger: new Logger({ serviceName: "never-twice", logLevel: "SILENT" }),
          process: (m) => executeTrade({ ...stores, exchange, log: silentLog }, m, deliveryTime(delivery)),
        });

      const symbols = ["BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD", "BTC-USD", "ETH-USD"];
      const messages: ExecutionRequest[] = [];
      const heldBefore = Object.fromEntries(
        Object.keys(HOLDINGS).map((c) => [c, new Decimal(fake.state.balance(c).available)]),
      );
      for (const [i, symbol] of symbols.entries()) {
        const id = `nt-${side}-${i}`;
        await riskApprovedRecommendation(
          stores,
          id,
          symbol,
          40 + i,
          NOW,
          side === "SELL" ? { baseSize: SELL_SIZES[symbol]! } : undefined,
        );
        messages.push(executionMessage(id, symbol, side, NOW));
      }

      // the first three order creations are accepted by the exchange and then never answered
      fake.faults.hangAfterAccept(3, { match: { method: "POST", path: /^\/orders$/ } });
      const failures: string[] = [];
      const deliver = async (m: ExecutionRequest, n: number) => {
        const res = await handler(n)(sqsEvent(m, n));
        failures.push(...res.batchItemFailures.map((f) => f.itemIdentifier));
      };
      // deliveries 1 and 2 at the same time, then a third (the redelivery after the visibility timeout)
      await Promise.all(messages.flatMap((m) => [deliver(m, 1), deliver(m, 2)]));
      await Promise.all(messages.map((m) => deliver(m, 3)));
      expect(failures.length).toBeGreaterThan(0); // the injected timeouts did bite

      // keep redelivering what is not finished, as SQS would until the redrive limit
      for (let round = 4; round <= 5; round++) {
        for (const m of messages) {
          const rec = await stores.recommendations.get(m.recommendationId);
          if (rec?.status !== "EXECUTED") await deliver(m, round);
        }
      }

      for (const m of messages) {
        const cid = clientOrderIdFor(m.recommendationId);
        expect(fake.state.ordersCreatedFor(cid), `orders for ${m.recommendationId}`).toBe(1);
        const rec = await stores.recommendations.get(m.recommendationId);
        expect(rec?.status).toBe("EXECUTED");
        const order = await stores.orders.getOrder(cid);
        expect(order?.orderId).toBe(rec?.orderId);
        expect(order?.status).toBe("FILLED");
        expect(order?.side).toBe(side);
      }
      if (side === "SELL") {
        // each SELL sold its approved size once: the holdings fell by exactly the sum
        for (const [currency, before] of Object.entries(heldBefore)) {
          const sold = symbols
            .filter((s) => s.startsWith(`${currency}-`))
            .reduce((sum, s) => sum.plus(SELL_SIZES[s]!), new Decimal(0));
          expect(fake.state.balance(currency).available).toBe(before.minus(sold).toFixed());
        }
      }
      // every message was POSTed at least once; a retry after a hung accept may POST the same
      // client_order_id again (the venue answers with the existing order) or find the order by that
      // id first, depending on timing: both leave one order, as asserted above
      expect(
        fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/orders")).length,
      ).toBeGreaterThanOrEqual(messages.length);
    },
  );

  it.each(["BUY", "SELL"] as const)(
    "the kill switch cancels an approved %s before any order exists",
    async (side) => {
      const id = `nt-kill-${side}`;
      const sell = side === "SELL" ? { baseSize: SELL_SIZES["ETH-USD"]! } : undefined;
      await riskApprovedRecommendation(stores, id, "ETH-USD", 30, NOW, sell);
      await stores.killSwitch.set(true, "ops", "test pause", NOW);
      const result = await executeTrade(
        { ...stores, exchange: coinbaseExchangeOn(fake, testKey), log: silentLog },
        executionMessage(id, "ETH-USD", side, NOW),
        NOW,
      );
      expect(result).toMatchObject({ outcome: "cancelled" });
      expect((await stores.recommendations.get(id))?.statusReason).toMatch(/kill switch on .*test pause/);
      expect(fake.state.createRequestsFor(clientOrderIdFor(id))).toBe(0);
      await stores.killSwitch.set(false, "ops", "resume", NOW);
    },
  );

  it.each(["BUY", "SELL"] as const)(
    "an exchange refusal of a %s ends FAILED with the exchange's reason, and a redelivery changes nothing",
    async (side) => {
      const id = `nt-refused-${side}`;
      const sell = side === "SELL" ? { baseSize: SELL_SIZES["SOL-USD"]! } : undefined;
      await riskApprovedRecommendation(stores, id, "SOL-USD", 25, NOW, sell);
      fake.faults.reject(
        { error: "INSUFFICIENT_FUND", message: "Insufficient balance in source account" },
        1,
      );
      const deps = { ...stores, exchange: coinbaseExchangeOn(fake, testKey), log: silentLog };
      const message = executionMessage(id, "SOL-USD", side, NOW);
      expect(await executeTrade(deps, message, NOW)).toMatchObject({ outcome: "failed" });
      const rec = await stores.recommendations.get(id);
      expect(rec?.status).toBe("FAILED");
      expect(rec?.statusReason).toMatch(/INSUFFICIENT_FUND/);
      expect(await executeTrade(deps, message, deliveryTime(2))).toEqual({
        outcome: "already-done",
        status: "FAILED",
      });
      expect(fake.state.ordersCreatedFor(clientOrderIdFor(id))).toBe(0);
      expect((await stores.orders.getOrder(clientOrderIdFor(id)))?.status).toBe("FAILED");
    },
  );
});
