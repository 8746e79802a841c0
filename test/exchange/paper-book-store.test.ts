/**
 * The PaperBookStore rules PaperExchange relies on, pinned on both book stores (PaperBooks on the
 * local cloud's portfolio table, MemoryPaperBooks): money moves once per operation id, a
 * clientOrderId has one owner, order states move only from the named ones, the resting index is
 * per product.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { catalogueProductRules } from "#coinbase/product-rules.js";
import type { Fill } from "#domain/schemas.js";
import { MemoryPaperBooks, type PaperBookStore, PaperExchange } from "#exchange/paper/index.js";
import type { PaperOrder } from "#exchange/paper/paper-book-store.js";
import { booksAt, PAPER_BOOKS } from "./paper-books-backends.js";

const AT = "2024-07-01T00:00:00.000Z";

const order = (overrides: Partial<PaperOrder> = {}): PaperOrder => ({
  orderId: "o-1",
  clientOrderId: "c-1",
  productId: "BTC-USD",
  side: "SELL",
  type: "LIMIT",
  state: "PENDING",
  baseSize: "0.01",
  limitPrice: "51000",
  hold: { currency: "BTC", amount: "0.01" },
  createdAt: AT,
  updatedAt: AT,
  ...overrides,
});

const fill = (tradeId: string, orderId = "o-1"): Fill => ({
  tradeId,
  orderId,
  clientOrderId: "c-1",
  symbol: "BTC-USD",
  side: "SELL",
  price: "51000",
  size: "0.01",
  commission: "2.04",
  liquidity: "MAKER",
  tradeTime: AT,
});

describe.each(PAPER_BOOKS)("paper book store on $name", (backend) => {
  let books: PaperBookStore;
  beforeEach(async () => {
    books = booksAt(await backend.fresh("paper-books", "1000"), "1000");
  });

  it("opens with the starting cash; a change applies once per operation id and never overdraws", async () => {
    expect(await books.balances()).toMatchObject([{ currency: "USD", available: "1000", hold: "0" }]);
    const pay = { currency: "USD", opId: "o-1#hold", availableDelta: "-400", holdDelta: "400" };
    expect(await books.applyBalanceChange(pay)).toEqual({ kind: "applied" });
    expect(await books.applyBalanceChange(pay)).toEqual({ kind: "already-applied" });
    expect(
      await books.applyBalanceChange({ currency: "USD", opId: "o-2#pay", availableDelta: "-700" }),
    ).toEqual({ kind: "insufficient", available: "600" });
    expect(
      await books.applyBalanceChange({
        currency: "USD",
        opId: "o-3#pay",
        availableDelta: "-1",
        requireAvailable: "600.01",
      }),
    ).toEqual({ kind: "insufficient", available: "600" });
    await books.applyBalanceChange({ currency: "BTC", opId: "o-4#receive", availableDelta: "0.5" });
    const balances = await books.balances();
    expect(balances.map((b) => [b.currency, b.available, b.hold, b.version])).toEqual([
      ["BTC", "0.5", "0", 0],
      ["USD", "600", "400", 1],
    ]);
    await expect(
      books.applyBalanceChange({ currency: "USD", opId: "o-5#bad", availableDelta: "0", holdDelta: "-401" }),
    ).rejects.toThrow(/hold would go negative/);
  });

  it("a clientOrderId has one owner; only the owner's release frees it", async () => {
    expect(await books.claimClientOrderId("c-1", "o-1", AT)).toBe("o-1");
    expect(await books.claimClientOrderId("c-1", "o-2", AT)).toBe("o-1");
    await books.releaseClaim("c-1", "o-2");
    expect(await books.claimedOrderId("c-1")).toBe("o-1");
    await books.releaseClaim("c-1", "o-1");
    expect(await books.claimedOrderId("c-1")).toBeUndefined();
    expect(await books.claimClientOrderId("c-1", "o-3", AT)).toBe("o-3");
  });

  it("orders: created once, moved only from the named states, deleted only while PENDING", async () => {
    expect(await books.createOrder(order())).toEqual(order());
    expect(await books.createOrder(order({ limitPrice: "1" }))).toEqual(order());
    expect(await books.transition("o-1", ["OPEN"], "FILLING", "2024-07-01T00:01:00.000Z")).toBe(false);
    expect(await books.transition("o-1", ["PENDING"], "OPEN", "2024-07-01T00:01:00.000Z")).toBe(true);
    await books.deletePendingOrder("o-1");
    expect((await books.order("o-1"))?.state).toBe("OPEN");
    await books.markTriggered("o-1", "2024-07-01T00:02:00.000Z");
    await books.markTriggered("o-1", "2024-07-01T00:03:00.000Z");
    expect(await books.order("o-1")).toMatchObject({ triggeredAt: "2024-07-01T00:02:00.000Z" });
    const planned = {
      price: "51000",
      baseSize: "0.01",
      quoteValue: "510",
      fee: "2.04",
      totalQuote: "507.96",
      liquidity: "MAKER" as const,
      tradeTime: AT,
    };
    expect(await books.transition("o-1", ["OPEN", "CANCELLING"], "FILLING", AT, planned)).toBe(true);
    expect(await books.order("o-1")).toMatchObject({ state: "FILLING", fill: planned });
    expect(await books.transition("missing", ["PENDING"], "OPEN", AT)).toBe(false);
    await books.createOrder(order({ orderId: "o-9" }));
    await books.deletePendingOrder("o-9");
    expect(await books.order("o-9")).toBeUndefined();
  });

  it("the resting index is per product, in order id order; fills are per order, by trade id", async () => {
    await books.markResting("BTC-USD", "o-b");
    await books.markResting("BTC-USD", "o-a");
    await books.markResting("BTC-USDC", "o-c");
    expect(await books.restingOrderIds("BTC-USD")).toEqual(["o-a", "o-b"]);
    await books.unmarkResting("BTC-USD", "o-a");
    expect(await books.restingOrderIds("BTC-USD")).toEqual(["o-b"]);
    expect(await books.restingOrderIds("ETH-USD")).toEqual([]);
    await books.putFill(fill("t-2"));
    await books.putFill(fill("t-1"));
    await books.putFill({ ...fill("t-1"), price: "51001" });
    await books.putFill(fill("t-1", "o-10"));
    expect((await books.fills("o-1")).map((f) => [f.tradeId, f.price])).toEqual([
      ["t-1", "51001"],
      ["t-2", "51000"],
    ]);
  });
});

describe("memory paper books", () => {
  it("refuse to back an exchange whose settings open with another starting cash", () => {
    const deps = {
      books: new MemoryPaperBooks("5000"),
      prices: { quote: async () => ({ bid: 1, ask: 1, last: 1, time: AT }) },
      rules: catalogueProductRules(),
      settings: {
        startingCashUsd: "10000",
        slippageBps: 0,
        impactCoefficient: 0,
        takerFeeBps: 60,
        makerFeeBps: 40,
      },
      now: () => new Date(AT),
      newId: () => "id",
    };
    expect(() => new PaperExchange(deps)).toThrow(/open with 5000 USD but the paper settings say 10000/);
    expect(() => new PaperExchange({ ...deps, books: new MemoryPaperBooks("10000.00") })).not.toThrow();
  });
});
