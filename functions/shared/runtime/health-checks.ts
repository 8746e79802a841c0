/**
 * The health checks the handlers share: each reads one thing a function depends on and says what
 * it saw, or throws (runHealthChecks turns that into a failed check with the error's message).
 */
import { enteredAt } from "#domain/recommendation-lifecycle.js";
import { stuckExecutions } from "#steps/execute-trade.js";

/** The kill switch's state: proves the store (and the function's access to it) works. */
export const killSwitchCheck = (killSwitch: { get(): Promise<{ active: boolean }> }) => async () =>
  `kill switch ${(await killSwitch.get()).active ? "ON" : "off"}`;

/** The start of the latest stored BTC-USD candle: proves the candle table is reachable (and fresh). */
export const latestCandleCheck =
  <G>(
    candles: { latestCandleStart(symbol: string, granularity: G): Promise<number | undefined> },
    granularity: G,
  ) =>
  async () =>
    `latest BTC-USD candle ${await candles.latestCandleStart("BTC-USD", granularity)}`;

/** How many balances the venue reports: proves the venue (and its credentials) answer. */
export const venueBalancesCheck =
  (exchange: { readonly venue: string; getBalances(): Promise<Record<string, unknown>> }) => async () =>
    `${exchange.venue}: ${Object.keys(await exchange.getBalances()).length} balances`;

/** A recommendation EXECUTING too long, as the operator's resolve-stuck command takes it. */
export interface StuckExecution {
  recommendationId: string;
  symbol: string;
  side: string;
  since: string;
}

/** Recommendations EXECUTING longer than `stuckMinutes`, with the time each went EXECUTING. */
export async function stuckExecutionList(
  recommendations: Parameters<typeof stuckExecutions>[0],
  now: Date,
  stuckMinutes: number,
): Promise<StuckExecution[]> {
  return (await stuckExecutions(recommendations, now, stuckMinutes * 60_000)).map((r) => ({
    recommendationId: r.recommendationId,
    symbol: r.symbol,
    side: r.side,
    since: enteredAt(r, "EXECUTING") ?? r.updatedAt,
  }));
}

/** Fails while any recommendation is stuck EXECUTING, naming each and how to resolve it. */
export const stuckExecutionsCheck =
  (list: (now: Date) => Promise<StuckExecution[]>, stuckMinutes: number) => async () => {
    const stuck = await list(new Date());
    if (stuck.length === 0) return `none EXECUTING longer than ${stuckMinutes} min`;
    throw new Error(
      `${stuck.length} stuck EXECUTING (resolve each with the trade-executor's resolve-stuck action, docs/DEPLOY.md): ${JSON.stringify(stuck)}`,
    );
  };

/** The equity of the latest snapshot: proves the portfolio table is reachable. */
export const latestEquityCheck =
  (portfolio: { latestEquitySnapshot(): Promise<{ equityUsd: number } | undefined> }) => async () =>
    `latest equity ${(await portfolio.latestEquitySnapshot())?.equityUsd ?? "none yet"}`;
