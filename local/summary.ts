/** What a local run did, read back from the store through its access patterns (no scans). */
import type { Fill, Order, RecommendationStatus, SignalType } from "#domain/schemas.js";
import { RecommendationStatus as Statuses } from "#domain/schemas.js";
import type { Stores } from "#store/dynamo/index.js";

export interface RunSummary {
  signalsByType: Record<SignalType, number>;
  recommendationsByState: Partial<Record<RecommendationStatus, number>>;
  orders: Order[];
  fills: Fill[];
  positions: { symbol: string; quantity: string; markPrice: string; marketValueUsd: string }[];
  equity?: {
    equityUsd: number;
    cashUsd: number;
    peakEquityUsd: number;
    drawdownPct: number;
    dailyPnlUsd: number;
  };
  killSwitch: { active: boolean; reason: string };
}

export async function summarizeRun(stores: Stores, from: Date, to: Date): Promise<RunSummary> {
  const signals = await stores.signals.signalsSince(from, to);
  const signalsByType: Record<SignalType, number> = { BUY: 0, SELL: 0, HOLD: 0 };
  for (const s of signals) signalsByType[s.signalType]++;

  const recommendationsByState: RunSummary["recommendationsByState"] = {};
  const orders: Order[] = [];
  const fills: Fill[] = [];
  const windowEnd = new Date(to.getTime() + 1);
  for (const status of Statuses.options) {
    const recs = await stores.recommendations.byStatusCreatedBetween(status, new Date(0), windowEnd);
    if (recs.length > 0) recommendationsByState[status] = recs.length;
    for (const rec of recs) {
      if (!rec.clientOrderId) continue;
      const order = await stores.orders.getOrder(rec.clientOrderId);
      if (order) {
        orders.push(order);
        fills.push(...(await stores.orders.fillsOf(order.clientOrderId)));
      }
    }
  }
  const snapshot = await stores.portfolio.latestEquitySnapshot();
  const kill = await stores.killSwitch.get();
  return {
    signalsByType,
    recommendationsByState,
    orders: orders.sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    fills,
    positions: (await stores.portfolio.getPositions())
      .filter((p) => Number(p.quantity) > 0)
      .map(({ symbol, quantity, markPrice, marketValueUsd }) => ({
        symbol,
        quantity,
        markPrice,
        marketValueUsd,
      })),
    equity: snapshot && {
      equityUsd: snapshot.equityUsd,
      cashUsd: snapshot.cashUsd,
      peakEquityUsd: snapshot.peakEquityUsd,
      drawdownPct: snapshot.drawdownPct,
      dailyPnlUsd: snapshot.dailyPnlUsd,
    },
    killSwitch: { active: kill.active, reason: kill.reason },
  };
}

export function formatSummary(summary: RunSummary): string {
  const lines: string[] = [];
  const s = summary.signalsByType;
  lines.push(`Signals          BUY ${s.BUY}  SELL ${s.SELL}  HOLD ${s.HOLD}`);
  const states = Object.entries(summary.recommendationsByState)
    .map(([k, v]) => `${k} ${v}`)
    .join("  ");
  lines.push(`Recommendations  ${states || "none"}`);
  lines.push(`Orders           ${summary.orders.length}  (fills ${summary.fills.length})`);
  for (const o of summary.orders) {
    lines.push(
      `  ${o.createdAt}  ${o.side.padEnd(4)} ${o.symbol.padEnd(10)} ${o.status.padEnd(9)} filled ${o.filledSize} @ ${o.averageFilledPrice}  fees ${o.totalFees}`,
    );
  }
  lines.push(`Positions        ${summary.positions.length === 0 ? "none" : ""}`);
  for (const p of summary.positions) {
    lines.push(
      `  ${p.symbol.padEnd(10)} ${p.quantity} @ ${p.markPrice} = $${Number(p.marketValueUsd).toFixed(2)}`,
    );
  }
  if (summary.equity) {
    const e = summary.equity;
    lines.push(
      `Equity           $${e.equityUsd.toFixed(2)}  (cash $${e.cashUsd.toFixed(2)}, peak $${e.peakEquityUsd.toFixed(2)}, drawdown ${e.drawdownPct.toFixed(2)}%)`,
    );
  }
  lines.push(`Kill switch      ${summary.killSwitch.active ? `ON (${summary.killSwitch.reason})` : "off"}`);
  return lines.join("\n");
}
