import { describe, expect, it } from "vitest";
import { bundledProductRules, catalogueProductRules, coinbaseProductRules } from "#coinbase/product-rules.js";
import { ProductWire } from "#coinbase/wire.js";
import { UnknownProductError } from "#exchange/exchange.js";
import { productWire } from "#test/fakes/fake-coinbase/catalogue.js";

const SYMBOLS = "BTC ETH SOL XRP ADA DOGE AVAX LINK LTC DOT MATIC BCH BNB TRX ETC XLM ATOM UNI SHIB"
  .split(" ")
  .map((s) => `${s}-USD`);

describe("bundled product rules", () => {
  it("cover the 19 symbols of the data set, tradable, in Coinbase's decimal-string format", async () => {
    const source = catalogueProductRules();
    expect(source.productIds().sort()).toEqual([...SYMBOLS].sort());
    for (const id of SYMBOLS) {
      const rules = await source.rulesFor(id);
      expect(rules.tradable).toBe(true);
      for (const v of [rules.baseIncrement, rules.quoteIncrement, rules.priceIncrement, rules.quoteMinSize])
        expect(v).toMatch(/^\d+(\.\d+)?$/);
    }
    expect(bundledProductRules("BTC-USD")).toMatchObject({ baseIncrement: "0.00000001", quoteMinSize: "1" });
    expect(bundledProductRules("SHIB-USD")).toMatchObject({
      baseIncrement: "1",
      priceIncrement: "0.00000001",
    });
  });

  it("an unknown product is the port's neutral UnknownProductError, saying where it looked", async () => {
    const error = await catalogueProductRules()
      .rulesFor("FOO-USD")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownProductError);
    expect(error).toMatchObject({ name: "UnknownProductError", productId: "FOO-USD" });
    expect((error as Error).message).toMatch(/FOO-USD is not in data\/coinbase-products.json/);
    expect(() => bundledProductRules("FOO-USD")).toThrow(UnknownProductError);
  });
});

describe("rules from the Coinbase public API", () => {
  it("caches per product for the TTL and does not cache failures", async () => {
    let calls = 0;
    let fail = true;
    let clock = 0;
    const marketData = {
      async getProduct(productId: string) {
        calls++;
        if (fail) throw new Error("network down");
        return ProductWire.parse(productWire({ productId, price: "100", baseIncrement: "0.001" }));
      },
    };
    const source = coinbaseProductRules(marketData, { ttlMs: 1000, now: () => clock });
    await expect(source.rulesFor("SOL-USD")).rejects.toThrow(/network down/);
    fail = false;
    expect(await source.rulesFor("SOL-USD")).toMatchObject({ productId: "SOL-USD", baseIncrement: "0.001" });
    await source.rulesFor("SOL-USD");
    expect(calls).toBe(2);
    clock = 1500;
    await source.rulesFor("SOL-USD");
    expect(calls).toBe(3);
  });
});
