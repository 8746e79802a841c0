/**
 * The portfolio step's part in the exits: when it reconciles a terminal order,
 * - an entry BUY with fills opens its managed position (once: the id is the entry's), from the fills
 *   (average price, filled base, cost with fees) and the stop the risk manager decided;
 * - an exit SELL books its fills on the position (quantity, P&L, the exit's outcome), or its failure
 *   (nothing filled), and closes the position when only dust is left.
 * Every write is optimistic on the position's version; a lost race re-reads and books again, and
 * booking the same exit twice changes nothing.
 */
import { GRANULARITY_SECONDS } from "#domain/market.js";
import type { ManagedPosition, Order } from "#domain/schemas.js";
import type { Exchange } from "#exchange/exchange.js";
import type { ExitSettings } from "#exits/exit-settings.js";
import { bookExitFill, fillTotals, openManagedPosition, stopDistanceOf } from "#exits/position-ledger.js";
import type { Log } from "#runtime/log.js";
import type { ManagedPositionStore, OrderStore, RecommendationStore } from "#store/ports.js";

export interface PositionTrackingDeps {
  recommendations: Pick<RecommendationStore, "get">;
  orders: Pick<OrderStore, "fillsOf">;
  managedPositions: ManagedPositionStore;
  exchange: Pick<Exchange, "getProductRules">;
  log: Log;
}

export interface PositionTrackingSettings {
  exits: ExitSettings;
  /** the candle interval the time limit counts in */
  intervalSeconds: number;
}

export const ONE_HOUR_SECONDS = GRANULARITY_SECONDS.ONE_HOUR;

export type TrackedChange =
  | { kind: "opened"; position: ManagedPosition }
  | { kind: "exit-booked"; position: ManagedPosition; exitId: string }
  /** an entry filled that carries no usable stop: no exit levels were invented; an operator must act */
  | { kind: "unprotected"; positionId: string; symbol: string; reason: string };

/** How often a booking re-reads after losing the position to another writer before it gives up (retried next run). */
const MAX_WRITE_ATTEMPTS = 8;

export async function trackTerminalOrder(
  deps: PositionTrackingDeps,
  settings: PositionTrackingSettings,
  order: Order,
  now: Date,
): Promise<TrackedChange | undefined> {
  const rec = await deps.recommendations.get(order.recommendationId);
  if (!rec) return undefined;
  if (rec.exit) return bookExit(deps, order, rec.exit.positionId, now);
  if (order.side !== "BUY") return undefined;

  const fills = fillTotals(await deps.orders.fillsOf(order.clientOrderId));
  if (fills.base.lte(0)) return undefined; // nothing bought, nothing to manage
  const distance = stopDistanceOf(rec);
  if (typeof distance === "string") {
    const reason = `${distance}; ${fills.base.toFixed()} ${rec.symbol} is held with no exit rule. Sell it by hand or set its exits (docs/ARCHITECTURE.md, Exits).`;
    deps.log.error("entry filled without a usable stop: no managed position opened", {
      correlationId: rec.recommendationId,
      reason,
    });
    return { kind: "unprotected", positionId: rec.recommendationId, symbol: rec.symbol, reason };
  }
  // a fill reported after the reconciliation (a replayed clock, a venue's late timestamp) opens now
  const lastFill = fills.lastAt ? Date.parse(fills.lastAt) : now.getTime();
  const openedAt = new Date(Math.min(lastFill, now.getTime()));
  const position = openManagedPosition(
    { positionId: rec.recommendationId, symbol: rec.symbol, stopDistance: distance },
    fills,
    openedAt,
    settings.exits,
    settings.intervalSeconds,
  );
  const opened = await deps.managedPositions.open(position);
  if (opened.created)
    deps.log.info("managed position opened", {
      correlationId: rec.recommendationId,
      entryPrice: position.entryPrice,
      quantity: position.quantity,
      stopLoss: position.stopLoss,
      takeProfits: position.takeProfits,
      expiresAt: position.expiresAt,
    });
  return opened.created ? { kind: "opened", position: opened.position } : undefined;
}

async function bookExit(
  deps: PositionTrackingDeps,
  order: Order,
  positionId: string,
  now: Date,
): Promise<TrackedChange | undefined> {
  const fills = fillTotals(await deps.orders.fillsOf(order.clientOrderId));
  const rules = await deps.exchange.getProductRules(order.symbol);
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const position = await deps.managedPositions.get(positionId);
    if (!position) {
      deps.log.error("exit order of an unknown managed position", {
        correlationId: order.recommendationId,
        positionId,
      });
      return undefined;
    }
    const next = bookExitFill(position, order.recommendationId, fills, rules.baseMinSize, now);
    if (next === position) return undefined; // booked before (a repeated reconciliation)
    if (await deps.managedPositions.update(next, position.version)) {
      deps.log.info(next.status === "CLOSED" ? "managed position closed" : "exit booked", {
        correlationId: order.recommendationId,
        positionId,
        filledBase: fills.base.toFixed(),
        realizedPnlUsd: next.realizedPnlUsd,
        status: next.status,
      });
      return { kind: "exit-booked", position: next, exitId: order.recommendationId };
    }
  }
  throw new Error(
    `managed position ${positionId}: could not book exit ${order.recommendationId} after ${MAX_WRITE_ATTEMPTS} attempts (other writers kept changing it); the next portfolio run books it`,
  );
}
