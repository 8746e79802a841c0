/** What a local run did, read back from the store through its access patterns (no scans). */
import { Decimal } from "decimal.js";
import { exitLabel, type PositionExit } from "#domain/managed-position.js";
import { enteredAt } from "#domain/recommendation-lifecycle.js";
import type { Fill, Order, Recommendation, SignalType } from "#domain/schemas.js";
import { RecommendationStatus as Statuses } from "#domain/schemas.js";
import { type ProductRulesSource, UnknownProductError } from "#exchange/exchange.js";
import type { Stores } from "#store/dynamo/index.js";
import type { RunSummary } from "./run-summary.js";

export type { RunSummary } from "./run-summary.js";
export { formatCycle, formatSummary } from "./summary-format.js";

export async function summarizeRun(
  stores: Stores,
  from: Date,
  to: Date,
  rules?: ProductRulesSource,
): Promise<RunSummary> {
  const signals = await stores.signals.signalsSince(from, to);
  const signalsByType: Record<SignalType, number> = { BUY: 0, SELL: 0, HOLD: 0 };
  for (const s of signals) signalsByType[s.signalType]++;

  const recommendationsByState: RunSummary["recommendationsByState"] = {};
  const entriesByState: RunSummary["entriesByState"] = {};
  const exitsByState: RunSummary["exitsByState"] = {};
  const llm: RunSummary["llm"] = { approved: 0, rejected: 0, waiting: 0, rejections: [] };
  const riskRefusals: RunSummary["riskRefusals"] = { total: 0, byReason: {}, refused: [] };
  const orders: Order[] = [];
  const fills: Fill[] = [];
  const windowEnd = new Date(to.getTime() + 1);
  for (const status of Statuses.options) {
    const recs = await stores.recommendations.byStatusCreatedBetween(status, new Date(0), windowEnd);
    if (recs.length > 0) recommendationsByState[status] = recs.length;
    for (const rec of recs) {
      const byState = rec.exit ? exitsByState : entriesByState;
      byState[status] = (byState[status] ?? 0) + 1;
      if (!rec.exit) await countDecisions(stores, rec, llm, riskRefusals);
      if (!rec.clientOrderId) continue;
      const order = await stores.orders.getOrder(rec.clientOrderId);
      if (order) {
        orders.push(order);
        fills.push(...(await stores.orders.fillsOf(order.clientOrderId)));
      }
    }
  }
  llm.rejections.sort((a, b) => a.at.localeCompare(b.at));
  riskRefusals.refused.sort((a, b) => a.at.localeCompare(b.at));
  const snapshot = await stores.portfolio.latestEquitySnapshot();
  const kill = await stores.killSwitch.get();
  const managed = (await stores.managedPositions.allPositions()).sort((a, b) =>
    a.openedAt.localeCompare(b.openedAt),
  );
  const positions = (await stores.portfolio.getPositions()).filter((p) => Number(p.quantity) > 0);
  const marks = new Map(positions.map((p) => [p.symbol, p.markPrice]));
  const symbols = new Set([...orders.map((o) => o.symbol), ...positions.map((p) => p.symbol)]);
  return {
    signalsByType,
    recommendationsByState,
    entriesByState,
    exitsByState,
    llm,
    riskRefusals,
    orders: orders.sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    fills: fills.sort((a, b) => a.tradeTime.localeCompare(b.tradeTime)),
    positions: positions.map(({ symbol, quantity, markPrice, marketValueUsd }) => ({
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
    managedPositions: managed.map((p) => {
      const mark = marks.get(p.symbol);
      const held = new Decimal(p.quantity);
      const unrealized =
        mark !== undefined && held.gt(0)
          ? {
              markPrice: Number(mark),
              unrealizedPnlUsd: held
                .mul(mark)
                .minus(new Decimal(p.entryCostUsd).mul(held).div(p.entryQuantity))
                .toNumber(),
            }
          : {};
      return {
        positionId: p.positionId,
        symbol: p.symbol,
        status: p.status,
        entryPrice: p.entryPrice,
        entryQuantity: p.entryQuantity,
        entryCostUsd: p.entryCostUsd,
        quantity: p.quantity,
        openedAt: p.openedAt,
        ...(p.closedAt ? { closedAt: p.closedAt } : {}),
        realizedPnlUsd: p.realizedPnlUsd,
        ...unrealized,
        exits: p.exits.filter(soldOrSelling).map((e) => exitLabel(e.reason, e.leg)),
      };
    }),
    priceIncrements: rules
      ? await priceIncrementsOf([...symbols, ...managed.map((p) => p.symbol)], rules)
      : {},
  };
}

/** An exit the summary lists: every market SELL, and a resting stop once it filled. */
function soldOrSelling(exit: PositionExit): boolean {
  return exit.resting === undefined || exit.outcome === "FILLED";
}

/** The LLM's verdict and the risk manager's refusal of one entry, as the decision store holds them. */
async function countDecisions(
  stores: Stores,
  rec: Recommendation,
  llm: RunSummary["llm"],
  risk: RunSummary["riskRefusals"],
): Promise<void> {
  if (rec.status === "QUEUED") llm.waiting++;
  const validation = await stores.decisions.getValidation(rec.recommendationId);
  if (validation?.decision === "APPROVE") llm.approved++;
  if (validation?.decision === "REJECT") {
    llm.rejected++;
    llm.rejections.push({
      recommendationId: rec.recommendationId,
      symbol: rec.symbol,
      at: validation.createdAt,
      reasoning: validation.reasoning,
    });
  }
  if (rec.status !== "REFUSED_BY_RISK") return;
  const decision = await stores.decisions.getRiskDecision(rec.recommendationId);
  const reasons = decision?.refusals ?? [];
  risk.total++;
  for (const r of reasons) risk.byReason[r.reason] = (risk.byReason[r.reason] ?? 0) + 1;
  risk.refused.push({
    recommendationId: rec.recommendationId,
    symbol: rec.symbol,
    at: enteredAt(rec, "REFUSED_BY_RISK") ?? rec.updatedAt,
    reasons: reasons.map(({ reason, detail }) => ({ reason, detail })),
  });
}

/** Each product's price increment; a product the rules do not list prints its prices unrounded. */
async function priceIncrementsOf(
  symbols: readonly string[],
  rules: ProductRulesSource,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const symbol of new Set(symbols)) {
    try {
      out[symbol] = (await rules.rulesFor(symbol)).priceIncrement;
    } catch (error) {
      // not in the rules (a product of a fake venue, say): its prices print as the venue wrote them
      if (!(error instanceof UnknownProductError)) throw error;
    }
  }
  return out;
}
