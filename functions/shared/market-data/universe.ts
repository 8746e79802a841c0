import type { CoinbaseMarketData } from "#coinbase/market-data.js";

/**
 * The products the pipeline trades: the configured list when one is given, otherwise the top N USD
 * products by 24h quote volume that are online and tradable (stablecoins and aliases excluded).
 */
export async function resolveUniverse(
  configured: readonly string[],
  topN: number,
  marketData: Pick<CoinbaseMarketData, "selectProducts">,
): Promise<string[]> {
  if (configured.length > 0) return [...configured];
  const selected = await marketData.selectProducts({ limit: topN, quoteCurrency: "USD" });
  if (selected.length === 0) {
    throw new Error(
      "Coinbase listed no tradable USD product; set SYMBOLS explicitly or check the market-data endpoint.",
    );
  }
  return selected.map((p) => p.productId);
}
