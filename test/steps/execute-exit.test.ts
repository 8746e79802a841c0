/**
 * The executor on exits (recommendations the position manager issued): the kill switch never cancels
 * one, the price band never refuses one, and the SELL is the approved base capped at what the venue
 * holds now, on the product's grid. Entries keep every check (the contrast in each case).
 */
import { Decimal } from "decimal.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLog } from "#runtime/log.js";
import { clientOrderIdFor, executeTrade } from "#steps/execute-trade.js";
import { exitRecords } from "#steps/manage-positions.js";
import { createDocumentClient, createStores, type Stores } from "#store/dynamo/index.js";
import { es256TestKey } from "#test/coinbase/test-keys.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { managedPosition } from "#test/store/fixtures.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import {
  coinbaseExchangeOn,
  executionMessage,
  referenceClosesFromVenue,
  riskApprovedRecommendation,
} from "#test/support/steps.js";

const testKey = es256TestKey();
const T0 = new Date("2024-06-30T12:00:00.000Z");

/** the base an executed SELL sent, as a plain decimal */
function soldBase(result: Awaited<ReturnType<typeof executeTrade>>): string {
  if (result.outcome !== "executed") throw new Error(`not executed: ${JSON.stringify(result)}`);
  return new Decimal(result.order.baseSize ?? "0").toFixed();
}

describe("the executor never blocks an exit, and never sells what is not held", () => {
  let fake: FakeCoinbase;
  let stores: Stores;
  const deps = () => ({ ...stores, exchange: coinbaseExchangeOn(fake, testKey), log: silentLog });

  beforeEach(async () => {
    await isolatedCloud("execute-exit");
    stores = createStores(createDocumentClient());
    fake = await startFakeCoinbase({
      keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
      balances: { USD: "10000", BTC: "0.005" },
    });
    await referenceClosesFromVenue(stores, deps().exchange, ["BTC-USD"], T0);
  });
  afterEach(async () => {
    await fake.close();
  });

  /** an exit of `baseSize` BTC stored as the position manager stores it */
  async function exit(id: string, baseSize: string, reason: "STOP_LOSS" | "TIME_LIMIT" = "STOP_LOSS") {
    const position = managedPosition({ positionId: id, quantity: "0.005", entryQuantity: "0.005" });
    const { decision, recommendation } = exitRecords(
      position,
      {
        exitId: `exit-${id}-${reason}`,
        reason,
        leg: 0,
        baseSize,
        triggerPrice: 58_800,
        at: T0.toISOString(),
      },
      "sig-1",
      T0,
    );
    await stores.decisions.putRiskDecision(decision);
    await stores.recommendations.create(recommendation);
    return executionMessage(recommendation.recommendationId, "BTC-USD", "SELL", T0);
  }

  it("the kill switch cancels an entry's SELL but not an exit", async () => {
    await stores.killSwitch.set(true, "ops", "pause", T0);
    await riskApprovedRecommendation(stores, "plain-sell", "BTC-USD", 50, T0, { baseSize: "0.001" });
    expect(
      await executeTrade(deps(), executionMessage("plain-sell", "BTC-USD", "SELL", T0), T0),
    ).toMatchObject({
      outcome: "cancelled",
    });
    const result = await executeTrade(deps(), await exit("k", "0.002"), T0);
    expect(result).toMatchObject({ outcome: "executed", order: { side: "SELL" } });
    expect(soldBase(result)).toBe("0.002");
    expect((await stores.recommendations.get("exit-k-STOP_LOSS"))?.status).toBe("EXECUTED");
    expect(fake.state.ordersCreatedFor(clientOrderIdFor("exit-k-STOP_LOSS"))).toBe(1);
  });

  it("the price band refuses an entry's SELL after a 30% crash, but an exit sells into it", async () => {
    const { bid } = fake.state.bestBidAsk("BTC-USD");
    fake.state.setPrice("BTC-USD", new Decimal(bid).mul(0.7).toFixed(2));
    await riskApprovedRecommendation(stores, "plain-crash", "BTC-USD", 50, T0, { baseSize: "0.001" });
    const refused = await executeTrade(deps(), executionMessage("plain-crash", "BTC-USD", "SELL", T0), T0);
    expect(refused).toMatchObject({ outcome: "failed", priceRefusal: true });
    const result = await executeTrade(deps(), await exit("band", "0.003"), T0);
    expect(result).toMatchObject({ outcome: "executed", order: { status: "FILLED" } });
    expect(soldBase(result)).toBe("0.003");
    expect(fake.state.balance("BTC").available).toBe("0.002");
  });

  it("sells what is held when the position shrank (min of approved and held, on the base grid)", async () => {
    fake.state.setBalance("BTC", "0.0025");
    const result = await executeTrade(deps(), await exit("shrunk", "0.004"), T0);
    expect(soldBase(result)).toBe("0.0025");
    expect(fake.state.balance("BTC").available).toBe("0");
    fake.state.setBalance("BTC", "0.00123456789");
    const floored = await executeTrade(deps(), await exit("grid", "0.004", "TIME_LIMIT"), T0);
    expect(soldBase(floored)).toBe("0.00123456");
    expect(new Decimal(fake.state.balance("BTC").available).eq("0.00000000789")).toBe(true);
  });
});
