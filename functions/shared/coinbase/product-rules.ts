/**
 * Coinbase's product rules as a ProductRulesSource (the port is in exchange/exchange.ts). The paper
 * exchange and the backtester must refuse exactly what Coinbase refuses, so both read Coinbase-shaped
 * rules: from the bundled snapshot (data/coinbase-products.json, hand-made offline, see its
 * description) or, for paper trading in AWS, from the public Coinbase product endpoint.
 */
import { z } from "zod";
import catalogue from "#data/coinbase-products.json" with { type: "json" };
import { type ProductRules, type ProductRulesSource, UnknownProductError } from "#exchange/exchange.js";
import { productRulesFrom } from "./coinbase-exchange.js";
import { ProductWire, type ProductWire as ProductWireT } from "./wire.js";

const Catalogue = z.object({ description: z.string(), products: z.array(ProductWire) });

const BUNDLED_WHERE = "data/coinbase-products.json (a hand-made snapshot of Coinbase product rules)";

let bundled: Map<string, ProductRules> | undefined;

function bundledRules(): Map<string, ProductRules> {
  bundled ??= new Map(Catalogue.parse(catalogue).products.map((p) => [p.product_id, productRulesFrom(p)]));
  return bundled;
}

/** Rules from Coinbase-shaped product objects; defaults to the bundled snapshot. */
export function catalogueProductRules(
  products?: readonly ProductWireT[],
  where = BUNDLED_WHERE,
): ProductRulesSource & { productIds(): string[] } {
  const byId = products ? new Map(products.map((p) => [p.product_id, productRulesFrom(p)])) : bundledRules();
  return {
    async rulesFor(productId) {
      const rules = byId.get(productId);
      if (!rules) throw new UnknownProductError(productId, where);
      return rules;
    },
    productIds: () => [...byId.keys()],
  };
}

/** Synchronous lookup in the bundled snapshot, for the backtester's inner loop. */
export function bundledProductRules(productId: string): ProductRules {
  const rules = bundledRules().get(productId);
  if (!rules) throw new UnknownProductError(productId, BUNDLED_WHERE);
  return rules;
}

export interface CoinbaseProductRulesOptions {
  /** rules are re-read after this long; default 5 minutes, like the live venue */
  ttlMs?: number;
  now?: () => number;
}

/**
 * Real rules from the public endpoint (CoinbaseMarketData.getProduct), cached per process. A failed
 * lookup is not cached, so a transient error is retried on the next call; Coinbase's 404 propagates.
 */
export function coinbaseProductRules(
  marketData: { getProduct(productId: string): Promise<ProductWireT> },
  options: CoinbaseProductRulesOptions = {},
): ProductRulesSource {
  const ttlMs = options.ttlMs ?? 300_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { at: number; rules: Promise<ProductRules> }>();
  return {
    rulesFor(productId) {
      const cached = cache.get(productId);
      if (cached && now() - cached.at < ttlMs) return cached.rules;
      const rules = marketData.getProduct(productId).then(productRulesFrom);
      const entry = { at: now(), rules };
      cache.set(productId, entry);
      rules.catch(() => {
        if (cache.get(productId) === entry) cache.delete(productId);
      });
      return rules;
    },
  };
}
