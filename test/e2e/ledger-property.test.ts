/**
 * Property: whatever happens to the deliveries (duplicates, concurrent twins, responses lost after
 * the exchange accepted, requests lost before it, 5xx, 429, refusals, partial fills), buys and sells
 * end with the store's orders, fills, positions and cash equal to the exchange's ledger, and every
 * order at the exchange is the one its risk decision approved.
 */
import { Decimal } from "decimal.js";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { isTerminal } from "#domain/recommendation-lifecycle.js";
import { silentLog } from "#runtime/log.js";
import { clientOrderIdFor, executeTrade } from "#steps/execute-trade.js";
import { reconcilePortfolio } from "#steps/reconcile-portfolio.js";
import { createDocumentClient, createStores, type Stores } from "#store/dynamo/index.js";
import { es256TestKey } from "#test/coinbase/test-keys.js";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import {
  coinbaseExchangeOn,
  executionMessage,
  referenceClosesFromVenue,
  riskApprovedRecommendation,
} from "#test/support/steps.js";

const testKey = es256TestKey();
const T0 = new Date("2024-06-30T12:00:00.000Z");
const SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD"] as const;
const START_HOLDINGS: Record<string, string> = { BTC: "0.01", ETH: "0.2", SOL: "4" };
const CREATE = { method: "POST", path: /^\/orders$/ };

const Fault = fc.constantFrom(
  "none",
  "lostResponse",
  "lostRequest",
  "serverError",
  "rateLimit",
  "refused",
  "partialFill",
) as fc.Arbitrary<
  "none" | "lostResponse" | "lostRequest" | "serverError" | "rateLimit" | "refused" | "partialFill"
>;

const Trade = fc.record({
  symbol: fc.constantFrom(...SYMBOLS),
  side: fc.constantFrom("BUY", "SELL") as fc.Arbitrary<"BUY" | "SELL">,
  /** BUY: dollars; SELL: this fraction of the starting holding */
  usd: fc.integer({ min: 10, max: 150 }),
  fraction: fc.double({ min: 0.05, max: 0.6, noNaN: true }),
  deliveries: fc.integer({ min: 1, max: 3 }),
  concurrent: fc.boolean(),
  fault: Fault,
});

describe("the store equals the exchange's ledger under any sequence of deliveries", () => {
  let fake: FakeCoinbase | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it("orders, fills, positions and cash agree with the exchange, and no order differs from its decision", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(Trade, { minLength: 1, maxLength: 5 }), async (trades) => {
        await fake?.close();
        await isolatedCloud("ledger");
        const stores: Stores = createStores(createDocumentClient());
        fake = await startFakeCoinbase({
          keys: [{ name: testKey.name, publicKey: testKey.publicKey }],
          balances: { USD: "10000", ...START_HOLDINGS },
        });
        const f = fake;
        const exchange = () => coinbaseExchangeOn(f, testKey, { maxAttempts: 1, timeoutMs: 300 });
        await referenceClosesFromVenue(stores, exchange(), SYMBOLS, T0);
        // the store starts in agreement with the exchange
        for (const symbol of SYMBOLS) {
          const base = symbol.split("-")[0]!;
          const mid = (Number(f.state.bestBidAsk(symbol).bid) + Number(f.state.bestBidAsk(symbol).ask)) / 2;
          await stores.portfolio.putPosition({
            symbol,
            quantity: START_HOLDINGS[base]!,
            averageEntryPrice: String(mid),
            costBasisUsd: new Decimal(START_HOLDINGS[base]!).mul(mid).toFixed(8),
            realizedPnlUsd: "0",
            markPrice: String(mid),
            marketValueUsd: new Decimal(START_HOLDINGS[base]!).mul(mid).toFixed(8),
            updatedAt: T0.toISOString(),
          });
        }

        const ids: string[] = [];
        for (const [i, t] of trades.entries()) {
          const id = `lp-${i}`;
          ids.push(id);
          const base = t.symbol.split("-")[0]!;
          await riskApprovedRecommendation(
            stores,
            id,
            t.symbol,
            t.usd,
            T0,
            t.side === "SELL"
              ? { baseSize: new Decimal(START_HOLDINGS[base]!).mul(t.fraction).toDecimalPlaces(8).toFixed() }
              : undefined,
          );
          if (t.fault === "lostResponse") f.faults.hangAfterAccept(1, { match: CREATE });
          if (t.fault === "lostRequest") f.faults.hangBeforeAccept(1, CREATE);
          if (t.fault === "serverError") f.faults.serverError(1, 503, CREATE);
          if (t.fault === "rateLimit") f.faults.rateLimit(1, CREATE);
          if (t.fault === "refused")
            f.faults.reject({ error: "INSUFFICIENT_FUND", message: "test refusal" }, 1);
          if (t.fault === "partialFill") f.faults.partialFill("0.5", 1);

          const message = executionMessage(id, t.symbol, t.side, T0);
          const deliver = (at: Date) =>
            executeTrade({ ...stores, exchange: exchange(), log: silentLog }, message, at).catch(
              () => undefined,
            );
          if (t.concurrent) await Promise.all(Array.from({ length: t.deliveries }, () => deliver(T0)));
          else for (let d = 0; d < t.deliveries; d++) await deliver(T0);
          // SQS delivers again until the recommendation is finished (claims lapse after 2 min)
          for (let round = 1; round <= 4; round++) {
            const rec = await stores.recommendations.get(id);
            if (rec && isTerminal(rec.status)) break;
            await deliver(new Date(T0.getTime() + round * 180_000));
          }
          f.faults.clear();
        }
        f.state.completePartialFills();

        const marks = {
          markPrice: async (symbol: string) =>
            (Number(f.state.bestBidAsk(symbol).bid) + Number(f.state.bestBidAsk(symbol).ask)) / 2,
        };
        const settings = {
          maxDailyLoss: 1,
          maxDrawdown: 1,
          dailyLossResumesNextDay: true,
          quoteCurrency: "USD",
        };
        const reconcileDeps = { ...stores, exchange: exchange(), marks, log: silentLog };
        const report = await reconcilePortfolio(reconcileDeps, settings, new Date(T0.getTime() + 3_600_000));

        // positions and cash: the store's books, fills applied, needed no correction
        expect(report.unknownExposure).toEqual([]);
        for (const symbol of SYMBOLS) {
          const balance = f.state.balance(symbol.split("-")[0]!);
          const position = (await stores.portfolio.getPositions()).find((p) => p.symbol === symbol);
          expect(
            new Decimal(position?.quantity ?? 0).eq(new Decimal(balance.available).plus(balance.hold)),
          ).toBe(true);
        }
        const usd = f.state.balance("USD");
        expect(report.snapshot.cashUsd).toBe(new Decimal(usd.available).plus(usd.hold).toNumber());

        for (const [i, t] of trades.entries()) {
          const id = ids[i]!;
          const cid = clientOrderIdFor(id);
          const rec = await stores.recommendations.get(id);
          const created = f.state.ordersCreatedFor(cid);
          expect(created).toBeLessThanOrEqual(1);
          expect(rec && isTerminal(rec.status)).toBe(true);
          expect(rec?.status).toBe(created === 1 ? "EXECUTED" : "FAILED");
          const exchangeOrder = [...f.state.orders.values()].find((o) => o.client_order_id === cid);
          const stored = await stores.orders.getOrder(cid);
          if (!exchangeOrder) continue;
          // the store's order is the exchange's order
          expect(stored).toMatchObject({
            orderId: exchangeOrder.order_id,
            filledSize: exchangeOrder.filledSize.toFixed(),
            status: exchangeOrder.status,
          });
          const fills = f.state.fills.filter((x) => x.order_id === exchangeOrder.order_id);
          expect((await stores.orders.fillsOf(cid)).map((x) => x.tradeId).sort()).toEqual(
            fills.map((x) => x.trade_id).sort(),
          );
          // the exchange's order is the approved one
          const decision = (await stores.decisions.getRiskDecision(id))?.order;
          expect([exchangeOrder.product_id, exchangeOrder.side]).toEqual([t.symbol, t.side]);
          if (t.side === "BUY") {
            expect(exchangeOrder.quoteSize?.lte(decision!.quoteSize!)).toBe(true);
            expect(exchangeOrder.quoteSize?.gt(new Decimal(decision!.quoteSize!).minus("0.01"))).toBe(true);
          } else {
            expect(exchangeOrder.baseSize?.lte(decision!.baseSize!)).toBe(true);
          }
        }
      }),
      { numRuns: 12 },
    );
  }, 240_000);
});
