/**
 * Sells never exceed holdings, through the live chain on the paper venue: any path of prices (in R
 * around the entry, crashes included), any exit settings, with two position managers per minute and
 * every message delivered twice at once. The exits' filled base adds up to at most the entry, the
 * position's quantity is the entry minus what its exits sold, the venue holds exactly that, and no
 * exit is traded twice.
 */
import { Decimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clientOrderIdFor } from "#steps/execute-trade.js";
import { exitChain } from "./exits-support.js";

const HOUR = 3_600_000;

describe("exits: sells never exceed holdings (property, live chain on the paper venue)", () => {
  it("holds for any price path and exit settings", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: -4, max: 4, noNaN: true }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 0, max: 4 }),
        async (pathInR, ladder, trailing, timeLimitCandles) => {
          const chain = await exitChain(`exits-prop-${run++}`, {
            takeProfitLadder: ladder
              ? [
                  { atR: 1, share: 0.5 },
                  { atR: 2, share: 0.5 },
                ]
              : [],
            trailing: trailing ? { activationR: 1, distanceR: 0.5 } : undefined,
            timeLimitCandles,
          });
          const opened = await chain.enter("p", "SOL-USD", 500, 150);
          for (const r of pathInR) {
            chain.advance(HOUR);
            await chain.price("SOL-USD", Math.max(1, opened.entryPrice + r * opened.riskPerUnit));
            await Promise.all([chain.manage(), chain.manage()]);
            for (const m of await chain.receive()) await Promise.all([chain.deliver(m), chain.deliver(m)]);
            await chain.reconcile();
          }
          const position = (await chain.position("p"))!;
          const sold = position.exits
            .filter((e) => e.outcome === "FILLED")
            .reduce((sum, e) => sum.plus(e.filledBase!), new Decimal(0));
          expect(sold.lte(opened.entryQuantity)).toBe(true);
          expect(new Decimal(position.quantity).eq(new Decimal(opened.entryQuantity).minus(sold))).toBe(true);
          const balance = (await chain.exchange.getBalances()).SOL;
          const held = new Decimal(balance?.available ?? 0).plus(balance?.hold ?? 0);
          expect(held.eq(position.quantity)).toBe(true);
          for (const e of position.exits) {
            const fills = await chain.stores.orders.fillsOf(clientOrderIdFor(e.exitId));
            expect(fills.length, e.exitId).toBeLessThanOrEqual(1);
          }
          expect(new Set(position.exits.map((e) => e.exitId)).size).toBe(position.exits.length);
        },
      ),
      { numRuns: 12 },
    );
  }, 240_000);
});
