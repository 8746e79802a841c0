/**
 * The portfolio cycle: the exchange is the truth.
 * 1. every order still to reconcile is re-read from the exchange (fills, partial fills, fees,
 *    cancellations); new fills are stored once and applied to the positions;
 * 2. positions are compared with the exchange's balances: a difference is flagged and the
 *    exchange's quantity is adopted;
 * 3. positions are marked to market; an equity snapshot carries equity, cash, peak, drawdown and
 *    the day's P&L and trade count (what the risk manager reads). An asset that cannot be priced
 *    (dust, an airdrop, a coin with no USD product at the venue) never stops the snapshot: it is
 *    reported as unpriced and counts 0 in equity, which overstates drawdown rather than hiding it;
 * 4. the kill switch trips by itself when the daily loss or drawdown limit is reached.
 * A terminal entry opens its managed position and a terminal exit books on it
 * (track-managed-positions.ts), before the order is marked reconciled.
 */
import { Decimal } from "decimal.js";
import { type EquitySnapshot, type Fill, type Position, TERMINAL_ORDER_STATUSES } from "#domain/schemas.js";
import type { Exchange } from "#exchange/exchange.js";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import { killSwitchTrip } from "#risk/kill-switch-rules.js";
import type { Log } from "#runtime/log.js";
import type {
  KillSwitchStore,
  ManagedPositionStore,
  OrderStore,
  PortfolioStore,
  RecommendationStore,
} from "#store/ports.js";
import { withExchangeState } from "./execute-trade.js";
import { utcDay } from "./portfolio-state.js";
import {
  ONE_HOUR_SECONDS,
  type PositionTrackingSettings,
  type TrackedChange,
  trackTerminalOrder,
} from "./track-managed-positions.js";

export interface MarkSource {
  /**
   * Last traded (or close) price of a product. Throws MarkUnavailableError when the product cannot
   * be priced at all; any other error (an unreachable store) fails the run, to be retried.
   */
  markPrice(productId: string): Promise<number>;
}

/** The product has no price to mark with: no stored candle and no usable quote at the venue. */
export class MarkUnavailableError extends Error {
  override readonly name = "MarkUnavailableError";
  constructor(
    readonly productId: string,
    readonly reason: string,
  ) {
    super(`cannot mark ${productId} to market: ${reason}`);
  }
}

export interface ReconcileDeps {
  orders: OrderStore;
  portfolio: PortfolioStore;
  killSwitch: KillSwitchStore;
  /** terminal entries open managed positions; terminal exits book on them */
  managedPositions: ManagedPositionStore;
  recommendations: Pick<RecommendationStore, "get">;
  exchange: Exchange;
  marks: MarkSource;
  log: Log;
  /** the paper venue settles resting limit orders against the latest prices first */
  settleRestingOrders?: () => Promise<void>;
}

export interface ReconcileSettings {
  maxDailyLoss: number;
  maxDrawdown: number;
  /** a daily-loss trip lifts itself at the next UTC midnight (KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY) */
  dailyLossResumesNextDay: boolean;
  quoteCurrency: string;
  /** the exits new managed positions get (default: DEFAULT_EXITS on hourly candles) */
  positions?: PositionTrackingSettings;
}

export interface UnknownExposure {
  symbol: string;
  storeQuantity: string;
  exchangeQuantity: string;
}

/** A held asset that could not be marked to market: it counts 0 in the snapshot's equity. */
export interface UnpricedAsset {
  symbol: string;
  /** what the exchange holds */
  quantity: string;
  /** why no price was found */
  reason: string;
}

export interface ReconcileReport {
  ordersChecked: number;
  newFills: Fill[];
  unknownExposure: UnknownExposure[];
  unpriced: UnpricedAsset[];
  snapshot: EquitySnapshot;
  positions: Position[];
  /** managed positions opened, exits booked, entries left without exit rules */
  managedPositions: TrackedChange[];
  killSwitchTripped?: string;
  /** the daily-loss pause that lifted itself (its resumeAt) */
  killSwitchResumed?: string;
  /** an operator's resume with resetPeak took effect in this snapshot: the old and the new peak */
  peakReset?: { at: string; previousPeakUsd: number; peakUsd: number };
}

const ZERO = new Decimal(0);

/** Applies one fill to a position with average-cost accounting; fees are part of the cost (BUY) or reduce proceeds (SELL). */
export function applyFill(position: Position | undefined, fill: Fill, at: string): Position {
  const qty = new Decimal(position?.quantity ?? "0");
  const cost = new Decimal(position?.costBasisUsd ?? "0");
  const realized = new Decimal(position?.realizedPnlUsd ?? "0");
  const size = new Decimal(fill.size);
  const price = new Decimal(fill.price);
  const fee = new Decimal(fill.commission);
  let nextQty: Decimal;
  let nextCost: Decimal;
  let nextRealized = realized;
  if (fill.side === "BUY") {
    nextQty = qty.plus(size);
    nextCost = cost.plus(size.mul(price)).plus(fee);
  } else {
    const sold = Decimal.min(size, qty);
    const avg = qty.gt(0) ? cost.div(qty) : ZERO;
    nextQty = qty.minus(sold);
    nextCost = cost.minus(avg.mul(sold));
    nextRealized = realized.plus(sold.mul(price).minus(avg.mul(sold)).minus(fee));
  }
  const averageEntry = nextQty.gt(0) ? nextCost.div(nextQty) : ZERO;
  return {
    symbol: fill.symbol,
    quantity: nextQty.toFixed(),
    averageEntryPrice: averageEntry.toFixed(8),
    costBasisUsd: nextCost.toFixed(8),
    realizedPnlUsd: nextRealized.toFixed(8),
    markPrice: position?.markPrice ?? fill.price,
    marketValueUsd: nextQty.mul(position?.markPrice ?? fill.price).toFixed(8),
    updatedAt: at,
  };
}

export interface PreviousEquity {
  atMs: number;
  equityUsd: number;
  peakEquityUsd: number;
  dayStartEquityUsd: number;
}

export interface EquityFigures {
  dayStartEquityUsd: number;
  peakEquityUsd: number;
  /** fall from the peak, as a fraction of it */
  drawdown: number;
  /** loss since the UTC day started, as a fraction of day-start equity (0 on a winning day) */
  dailyLoss: number;
}

const DAY_MS = 86_400_000;
/** who the portfolio step signs its kill-switch changes as */
const AUTOMATIC = "portfolio (automatic)";

/**
 * Day start (the last snapshot of the previous day, or today's first), running peak, drawdown and
 * daily loss. `peakResetAtMs`: an operator's resume with resetPeak; when the previous snapshot is
 * older, the peak starts again at this equity (the drawdown limit then counts from here).
 */
export function equityFigures(
  previous: PreviousEquity | undefined,
  equityUsd: number,
  nowMs: number,
  peakResetAtMs?: number,
): EquityFigures {
  const sameDay = previous !== undefined && Math.floor(previous.atMs / DAY_MS) === Math.floor(nowMs / DAY_MS);
  const dayStart = sameDay ? previous.dayStartEquityUsd : (previous?.equityUsd ?? equityUsd);
  const resetPeak = peakResetAtMs !== undefined && previous !== undefined && previous.atMs < peakResetAtMs;
  const peak = resetPeak ? equityUsd : Math.max(previous?.peakEquityUsd ?? equityUsd, equityUsd);
  return {
    dayStartEquityUsd: dayStart,
    peakEquityUsd: peak,
    drawdown: peak > 0 ? Math.max(0, (peak - equityUsd) / peak) : 0,
    dailyLoss: dayStart > 0 ? Math.max(0, (dayStart - equityUsd) / dayStart) : 0,
  };
}

/** The mark of a product as a positive finite Decimal, or why there is none. */
async function markOf(marks: MarkSource, symbol: string): Promise<Decimal | string> {
  let price: number;
  try {
    price = await marks.markPrice(symbol);
  } catch (error) {
    if (error instanceof MarkUnavailableError) return error.reason;
    throw error;
  }
  if (!(typeof price === "number" && price > 0 && price < Number.POSITIVE_INFINITY)) {
    return `the mark price ${price} is not a positive finite number`;
  }
  return new Decimal(price);
}

export async function reconcilePortfolio(
  deps: ReconcileDeps,
  settings: ReconcileSettings,
  now: Date,
): Promise<ReconcileReport> {
  const at = now.toISOString();
  await deps.settleRestingOrders?.();

  const positions = new Map((await deps.portfolio.getPositions()).map((p) => [p.symbol, p]));
  const newFills: Fill[] = [];
  const managedPositions: TrackedChange[] = [];
  const tracking = settings.positions ?? { exits: DEFAULT_EXITS, intervalSeconds: ONE_HOUR_SECONDS };
  const toReconcile = await deps.orders.openOrders();
  for (const order of toReconcile) {
    if (!order.orderId) continue; // the executor has not heard back yet; it owns this order
    const exchangeOrder = await deps.exchange.getOrder(order.orderId);
    if (!exchangeOrder) {
      deps.log.warn("order unknown to the exchange", {
        correlationId: order.recommendationId,
        orderId: order.orderId,
      });
      continue;
    }
    const fills = await deps.exchange.listFills(order.orderId);
    for (const fill of fills) {
      const stored = { ...fill, clientOrderId: order.clientOrderId };
      if (await deps.orders.putFill(stored)) {
        newFills.push(stored);
        positions.set(fill.symbol, applyFill(positions.get(fill.symbol), stored, at));
      }
    }
    const terminal = TERMINAL_ORDER_STATUSES.includes(exchangeOrder.status);
    if (terminal) {
      const change = await trackTerminalOrder(deps, tracking, order, now);
      if (change) managedPositions.push(change);
    }
    await deps.orders.updateOrder({ ...withExchangeState(order, exchangeOrder, now), reconciled: terminal });
    if (terminal) await deps.portfolio.releaseReservation(order.recommendationId);
  }

  const balances = await deps.exchange.getBalances();
  const unknownExposure: UnknownExposure[] = [];
  const unpriced: UnpricedAsset[] = [];
  const symbols = new Set([...positions.keys()]);
  for (const [currency, balance] of Object.entries(balances)) {
    if (currency === settings.quoteCurrency) continue;
    const total = new Decimal(balance.available).plus(balance.hold);
    if (total.gt(0)) symbols.add(`${currency}-${settings.quoteCurrency}`);
  }
  let positionsValue = ZERO;
  const marked: Position[] = [];
  for (const symbol of [...symbols].sort()) {
    const base = symbol.split("-")[0];
    const balance = balances[base];
    const exchangeQty = balance ? new Decimal(balance.available).plus(balance.hold) : ZERO;
    let position = positions.get(symbol);
    if (!position || !new Decimal(position.quantity).eq(exchangeQty)) {
      unknownExposure.push({
        symbol,
        storeQuantity: position?.quantity ?? "0",
        exchangeQuantity: exchangeQty.toFixed(),
      });
      deps.log.warn("position differs from the exchange; adopting the exchange's quantity", {
        symbol,
        store: position?.quantity ?? "0",
        exchange: exchangeQty.toFixed(),
      });
    }
    if (exchangeQty.isZero() && !position) continue;
    const mark = await markOf(deps.marks, symbol);
    if (typeof mark === "string") {
      if (exchangeQty.gt(0)) {
        unpriced.push({ symbol, quantity: exchangeQty.toFixed(), reason: mark });
        deps.log.warn("held asset cannot be marked to market; it counts 0 in equity", {
          symbol,
          quantity: exchangeQty.toFixed(),
          reason: mark,
        });
      }
      if (!position) continue; // nothing stored: no position is invented without a price
      // the exchange's quantity is adopted; the last known mark stays, and its value is not in equity
      position = { ...position, quantity: exchangeQty.toFixed(), updatedAt: at };
      position.marketValueUsd = exchangeQty.mul(position.markPrice).toFixed(8);
      await deps.portfolio.putPosition(position);
      marked.push(position);
      continue;
    }
    const value = exchangeQty.mul(mark);
    positionsValue = positionsValue.plus(value);
    position = {
      symbol,
      quantity: exchangeQty.toFixed(),
      averageEntryPrice: position?.averageEntryPrice ?? mark.toFixed(),
      costBasisUsd: position?.costBasisUsd ?? value.toFixed(8),
      realizedPnlUsd: position?.realizedPnlUsd ?? "0",
      markPrice: mark.toFixed(),
      marketValueUsd: value.toFixed(8),
      updatedAt: at,
    };
    await deps.portfolio.putPosition(position);
    marked.push(position);
  }

  const quote = balances[settings.quoteCurrency];
  const cash = quote ? new Decimal(quote.available).plus(quote.hold) : ZERO;
  const equity = cash.plus(positionsValue).toNumber();
  const previous = await deps.portfolio.latestEquitySnapshot();
  // read once, before the figures: the peak reset and the trip below see the same switch
  const current = await deps.killSwitch.get();
  const peakResetAtMs = current.peakResetAt === undefined ? undefined : Date.parse(current.peakResetAt);
  const figures = equityFigures(
    previous && { ...previous, atMs: Date.parse(previous.at) },
    equity,
    now.getTime(),
    peakResetAtMs,
  );
  const peakReset =
    previous !== undefined && peakResetAtMs !== undefined && Date.parse(previous.at) < peakResetAtMs
      ? { at: current.peakResetAt!, previousPeakUsd: previous.peakEquityUsd, peakUsd: figures.peakEquityUsd }
      : undefined;
  const dailyPnl = equity - figures.dayStartEquityUsd;
  const snapshot: EquitySnapshot = {
    at,
    equityUsd: equity,
    cashUsd: cash.toNumber(),
    positionsValueUsd: positionsValue.toNumber(),
    peakEquityUsd: figures.peakEquityUsd,
    drawdownPct: figures.drawdown * 100,
    dayStartEquityUsd: figures.dayStartEquityUsd,
    dailyPnlUsd: dailyPnl,
    dailyPnlPct: figures.dayStartEquityUsd > 0 ? (dailyPnl / figures.dayStartEquityUsd) * 100 : 0,
    tradesToday: await deps.portfolio.approvalsOn(utcDay(now)),
    unpricedAssets: unpriced.length,
  };
  await deps.portfolio.putEquitySnapshot(snapshot);

  const report: ReconcileReport = {
    ordersChecked: toReconcile.length,
    newFills,
    unknownExposure,
    unpriced,
    snapshot,
    positions: marked,
    managedPositions,
    ...(peakReset ? { peakReset } : {}),
  };
  if (peakReset)
    deps.log.warn("equity peak reset by an operator's resume: the drawdown limit counts from this equity", {
      ...peakReset,
      resumedBy: current.changedBy,
    });
  const trip = killSwitchTrip(figures, settings, now.getTime(), settings.dailyLossResumesNextDay);
  if (trip && !current.active) {
    const resumeAt = trip.resumeAtMs === undefined ? undefined : new Date(trip.resumeAtMs);
    await deps.killSwitch.set(true, AUTOMATIC, trip.reason, now, { kind: trip.kind, resumeAt });
    report.killSwitchTripped = trip.reason;
    deps.log.error("kill switch tripped automatically", {
      reason: trip.reason,
      kind: trip.kind,
      resumesAt: resumeAt?.toISOString() ?? "when an operator resumes",
    });
  } else if (
    !trip &&
    current.active &&
    current.resumeAt !== undefined &&
    Date.parse(current.resumeAt) <= now.getTime()
  ) {
    // a daily-loss pause lifts itself at the new UTC day (only the automatic one: an operator's
    // pause, or a drawdown halt, carries no resumeAt)
    await deps.killSwitch.set(
      false,
      AUTOMATIC,
      `daily loss pause over: a new UTC day started at ${current.resumeAt}`,
      now,
    );
    report.killSwitchResumed = current.resumeAt;
    deps.log.warn("kill switch lifted automatically at the new UTC day", { pausedSince: current.changedAt });
  }
  return report;
}
