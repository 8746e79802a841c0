/** What a local run did, read back from the store through its access patterns (no scans). */
import { exitLabel, type PositionExit } from "#domain/managed-position.js";
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
  /**
   * every exit the position manager issued, with its reason and, once its order is done, what it
   * booked; a resting stop counts once it filled (placed and cancelled, it sold nothing)
   */
  exits: {
    exitId: string;
    positionId: string;
    symbol: string;
    reason: string;
    at: string;
    baseSize: string;
    triggerPrice: number;
    outcome?: "FILLED" | "FAILED" | "CANCELLED";
    /** the protective stop that rested on the venue */
    resting?: true;
    filledBase?: string;
    averagePrice?: number;
    pnlUsd?: number;
  }[];
  /** managed positions: realized P&L per closed position, and what is still open */
  managedPositions: {
    positionId: string;
    symbol: string;
    status: string;
    entryPrice: number;
    entryQuantity: string;
    quantity: string;
    openedAt: string;
    closedAt?: string;
    realizedPnlUsd: number;
    exits: string[];
  }[];
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
  const managed = (await stores.managedPositions.allPositions()).sort((a, b) =>
    a.openedAt.localeCompare(b.openedAt),
  );
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
    exits: managed
      .flatMap((p) =>
        p.exits.filter(soldOrSelling).map((e) => ({
          exitId: e.exitId,
          positionId: p.positionId,
          symbol: p.symbol,
          reason: exitLabel(e.reason, e.leg),
          at: e.at,
          baseSize: e.baseSize,
          triggerPrice: e.triggerPrice,
          ...(e.outcome ? { outcome: e.outcome } : {}),
          ...(e.resting ? { resting: true as const } : {}),
          ...(e.filledBase !== undefined ? { filledBase: e.filledBase } : {}),
          ...(e.averagePrice !== undefined ? { averagePrice: e.averagePrice } : {}),
          ...(e.pnlUsd !== undefined ? { pnlUsd: e.pnlUsd } : {}),
        })),
      )
      .sort((a, b) => a.at.localeCompare(b.at)),
    managedPositions: managed.map((p) => ({
      positionId: p.positionId,
      symbol: p.symbol,
      status: p.status,
      entryPrice: p.entryPrice,
      entryQuantity: p.entryQuantity,
      quantity: p.quantity,
      openedAt: p.openedAt,
      ...(p.closedAt ? { closedAt: p.closedAt } : {}),
      realizedPnlUsd: p.realizedPnlUsd,
      exits: p.exits.filter(soldOrSelling).map((e) => exitLabel(e.reason, e.leg)),
    })),
  };
}

/** An exit the summary lists: every market SELL, and a resting stop once it filled. */
function soldOrSelling(exit: PositionExit): boolean {
  return exit.resting === undefined || exit.outcome === "FILLED";
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
  const byReason = new Map<string, number>();
  for (const e of summary.exits) byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
  lines.push(
    `Exits            ${summary.exits.length === 0 ? "none" : [...byReason].map(([r, n]) => `${r} ${n}`).join("  ")}`,
  );
  for (const e of summary.exits) {
    const booked =
      e.outcome === "FILLED"
        ? `sold ${e.filledBase} @ ${e.averagePrice?.toFixed(6)}  P&L $${e.pnlUsd?.toFixed(2)}`
        : (e.outcome ?? "working");
    lines.push(`  ${e.at}  ${e.reason.padEnd(15)} ${e.symbol.padEnd(10)} ${booked}`);
  }
  const closed = summary.managedPositions.filter((p) => p.status === "CLOSED");
  const open = summary.managedPositions.length - closed.length;
  const realized = closed.reduce((sum, p) => sum + p.realizedPnlUsd, 0);
  lines.push(`Closed positions ${closed.length}  (realized P&L $${realized.toFixed(2)}; ${open} still open)`);
  for (const p of closed) {
    lines.push(
      `  ${p.symbol.padEnd(10)} entry ${p.entryPrice.toFixed(6)}  ${p.openedAt} → ${p.closedAt}  by ${p.exits.join(", ")}  P&L $${p.realizedPnlUsd.toFixed(2)}`,
    );
  }
  lines.push(`Kill switch      ${summary.killSwitch.active ? `ON (${summary.killSwitch.reason})` : "off"}`);
  return lines.join("\n");
}
