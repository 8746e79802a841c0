/**
 * The replay loop: the live chain of one hourly cycle (signals → bridge → [LLM veto: NOT applied]
 * → risk → execution → portfolio), cycle after cycle, on precomputed model probabilities.
 *
 * Every decision is the live code's: decideSignal / isActionable (signals.ts), the bridge's
 * expiredPending / selectForValidation, portfolioStateFrom + assessRisk, approvedOrder,
 * orderRequestFor + localRefusal + marketFillNumbers (the paper venue's fill model), applyFill.
 * What the loop re-states, because live keeps it inside DynamoDB-bound code, is marked "as live"
 * and pinned by the parity test against local/pipeline.ts: the paper venue's bid/ask grid,
 * balance checks, and the portfolio snapshot (day start, peak, kill switch trip).
 *
 * Per cycle with nothing to do the loop only advances one index per symbol and marks the held
 * positions; it allocates only when a signal, an order or a risk check happens.
 */
import { createHash } from "node:crypto";
import { Decimal } from "decimal.js";
import type { EquitySnapshot, Fill, Granularity, Position, Side } from "#domain/schemas.js";
import type { ProductRules } from "#exchange/exchange.js";
import { marketFillNumbers } from "#exchange/fill-model.js";
import { localRefusal } from "#exchange/order-request.js";
import type { DecisionThresholds } from "#model/index.js";
import { assessRisk, closesNeededForVolatility, type RiskLimits } from "#risk/index.js";
import { approvedOrder } from "#steps/assess-recommendation.js";
import { type ApprovedOrder, clientOrderIdFor, orderRequestFor } from "#steps/execute-trade.js";
import { signalIdFor } from "#steps/generate-signals.js";
import { portfolioStateFrom } from "#steps/portfolio-state.js";
import { applyFill, equityFigures, killSwitchBreach } from "#steps/reconcile-portfolio.js";
import {
  type BridgeSettings,
  expiredPending,
  recommendationIdFor,
  selectForValidation,
} from "#steps/signal-bridge.js";
import type { Reservation } from "#store/ports.js";
import { type ActionableSignals, actionableSignals, SIDE_BUY } from "./signals.js";

export interface BacktestSymbol {
  /** Coinbase product id, e.g. BTC-USD */
  productId: string;
  /** candle open times (Unix seconds), ascending */
  start: Float64Array;
  close: Float64Array;
  /** base volume */
  volume: Float64Array;
  length: number;
  /** rows x [down, hold, up] from the model (or a test); rows never scored may hold anything */
  probabilities: Float32Array;
}

export interface FillSettings {
  /** bid/ask = last close ∓ half of it (local runs: 2) */
  spreadBps: number;
  slippageBps: number;
  impactCoefficient: number;
  maxImpactBps?: number;
  takerFeeBps: number;
}

export interface BacktestSettings {
  granularity: Granularity;
  intervalSeconds: number;
  /** cycles run one minute after each candle close in [fromSec, toSec) */
  fromSec: number;
  toSec: number;
  startingCashUsd: number;
  thresholds: DecisionThresholds;
  bridge: BridgeSettings;
  limits: RiskLimits;
  fill: FillSettings;
  /** enters signal and recommendation ids as in live */
  modelVersion: string;
  rulesFor(productId: string): ProductRules;
  /**
   * Live, the kill switch stays on until an operator resumes. Set this to replay an operator who
   * resumes that many hours after each automatic trip; undefined = never (as live without one).
   */
  killSwitchResumeAfterHours?: number;
  onProgress?(cyclesDone: number, cyclesTotal: number): void;
}

export interface BacktestTrade {
  recommendationId: string;
  symbol: string;
  side: Side;
  /** when the order filled (cycle time) */
  time: string;
  /** BUY: quote size sent; SELL: base size sent */
  quoteSize?: string;
  baseSize: number;
  price: number;
  /** the close the fill was priced from */
  referenceClose: number;
  quoteValue: number;
  fee: number;
  /** (fill price - close) x base, against the taker: half spread + slippage + impact */
  slippageUsd: number;
  confidence: number;
  /** informational: the live chain computes them, nothing acts on them yet */
  stopLoss?: number;
  takeProfit?: number;
  /** SELL: when the position sold from was opened, its average entry (fees in) and realised P&L */
  entryTime?: string;
  entryPrice?: number;
  pnlUsd?: number;
}

export interface RefusedOrder {
  recommendationId: string;
  time: string;
  reason: string;
}

export interface BacktestRun {
  /** cycle times, Unix seconds (a minute after each close) */
  cycleTimes: Float64Array;
  /** equity after each cycle's portfolio step */
  equity: Float64Array;
  /** positions value after each cycle */
  exposure: Float64Array;
  trades: BacktestTrade[];
  refusedOrders: RefusedOrder[];
  counts: {
    candleSteps: number;
    signals: number;
    recommendations: number;
    expired: number;
    queued: number;
    riskChecks: number;
    approved: number;
    refusedByRisk: Record<string, number>;
  };
  /** the kill switch still on at the end (its trip) */
  killSwitch?: { at: string; reason: string };
  /** every automatic trip, with when the replayed operator resumed */
  killSwitchTrips: { at: string; reason: string; resumedAt?: string }[];
  openPositions: { symbol: string; quantity: number; markPrice: number; valueUsd: number }[];
  finalCashUsd: number;
  /** time spent waiting for scoring phases (not replaying) */
  waitedForScoresMs: number;
}

interface PendingRecommendation {
  recommendationId: string;
  symbol: number;
  side: Side;
  confidence: number;
  entryPrice: number;
  createdAt: string;
}

/**
 * Probabilities that are still being computed while the replay runs: once `done` resolves, every
 * row of every symbol whose candle opened before `beforeSec` holds its final probabilities.
 * Phases are in ascending `beforeSec`; the last one covers everything (Infinity).
 */
export interface ScoringPhase {
  beforeSec: number;
  done: Promise<void>;
}

/** The cycle times of a replay (Unix seconds, one minute after each candle close in [fromSec, toSec)). */
export function cycleTimesFor(settings: Pick<BacktestSettings, "fromSec" | "toSec" | "intervalSeconds">) {
  const interval = settings.intervalSeconds;
  const firstClose = Math.ceil(settings.fromSec / interval) * interval;
  const cycleCount = Math.max(0, Math.ceil((settings.toSec - firstClose) / interval));
  const times = new Float64Array(cycleCount);
  for (let c = 0; c < cycleCount; c++) times[c] = firstClose + c * interval + 60;
  return times;
}

/**
 * Rows x 3 probabilities of one cycle → the live chain's orders, equity and trades. With `phases`,
 * the replay starts on the rows already scored and waits for a phase only when it reaches it.
 */
export async function runBacktest(
  symbols: readonly BacktestSymbol[],
  settings: BacktestSettings,
  phases?: readonly ScoringPhase[],
): Promise<BacktestRun> {
  const n = symbols.length;
  const interval = settings.intervalSeconds;
  const volatilityCloses = closesNeededForVolatility(interval);
  const signals: ActionableSignals[] = symbols.map(() => NO_SIGNALS);
  /** per symbol: rows below this were scanned for signals */
  const signalRowsScanned = new Int32Array(n);
  let scoredBeforeSec = Number.NEGATIVE_INFINITY;
  let waitedForScoresMs = 0;
  let phase = 0;
  const scanSignals = (beforeSec: number) => {
    for (let s = 0; s < n; s++) {
      const sym = symbols[s];
      let end = signalRowsScanned[s];
      while (end < sym.length && sym.start[end] < beforeSec) end++;
      signals[s] = appendSignals(
        signals[s],
        actionableSignals(
          sym.probabilities,
          end,
          settings.thresholds,
          settings.bridge.minConfidence,
          signalRowsScanned[s],
        ),
      );
      signalRowsScanned[s] = end;
    }
    scoredBeforeSec = beforeSec;
  };
  if (!phases || phases.length === 0) scanSignals(Number.POSITIVE_INFINITY);
  const rules = symbols.map((s) => settings.rulesFor(s.productId));
  const cycleTimes = cycleTimesFor(settings);
  const cycleCount = cycleTimes.length;
  const equityCurve = new Float64Array(cycleCount);
  const exposureCurve = new Float64Array(cycleCount);

  // per symbol: index of the next candle not yet closed, next actionable signal
  const next = new Int32Array(n);
  const nextSignal = new Int32Array(n);
  const fresh = new Int32Array(n);
  const quantity = new Float64Array(n);
  /** marks of the last portfolio step: what the risk manager reads as position marks */
  const markedPrice = new Float64Array(n);
  const positions: (Position | undefined)[] = new Array(n).fill(undefined);
  const openedAt: (string | undefined)[] = new Array(n).fill(undefined);
  let held: number[] = [];
  let cash = settings.startingCashUsd;

  // the last equity snapshot, as numbers
  let snapshotAtMs = Number.NaN;
  let snapshotEquity = 0;
  let snapshotCash = 0;
  let snapshotPositionsValue = 0;
  let snapshotPeak = 0;
  let snapshotDayStart = 0;
  let approvalsDay = -1;
  let approvalsToday = 0;
  let killSwitch: BacktestRun["killSwitch"];
  /** killSwitch.at as a number, so that waiting for the operator parses no date per cycle */
  let killSwitchAtMs = Number.NaN;
  const previousSnapshot = { atMs: 0, equityUsd: 0, peakEquityUsd: 0, dayStartEquityUsd: 0 };
  const killSwitchTrips: BacktestRun["killSwitchTrips"] = [];
  const resumeAfterMs =
    settings.killSwitchResumeAfterHours === undefined
      ? undefined
      : settings.killSwitchResumeAfterHours * 3_600_000;

  let pending: PendingRecommendation[] = [];
  const trades: BacktestTrade[] = [];
  const refusedOrders: RefusedOrder[] = [];
  const counts: BacktestRun["counts"] = {
    candleSteps: 0,
    signals: 0,
    recommendations: 0,
    expired: 0,
    queued: 0,
    riskChecks: 0,
    approved: 0,
    refusedByRisk: {},
  };
  const progressEvery = Math.max(1, Math.floor(cycleCount / 200));

  /** set when replayQuietCycles stopped at a cycle it had already advanced: that cycle's signals */
  let freshAhead = 0;

  /** Step 6 of a cycle: mark to market at the last close, snapshot, kill switch. */
  const closeCycle = (c: number, nowSec: number) => {
    let positionsValue = 0;
    if (held.length > 0) {
      let anyEmpty = false;
      for (let h = 0; h < held.length; h++) {
        const s = held[h];
        const last = next[s] - 1;
        const mark = symbols[s].close[last];
        markedPrice[s] = mark;
        positionsValue += quantity[s] * mark;
        if (!(quantity[s] > 0)) anyEmpty = true;
      }
      if (anyEmpty) held = held.filter((s) => quantity[s] > 0);
    }
    const equity = cash + positionsValue;
    const nowMs = nowSec * 1000;
    // the same day-start / peak / breach rules as the portfolio function
    // one reused record of the last snapshot: equityFigures only reads it
    if (!Number.isNaN(snapshotAtMs)) {
      previousSnapshot.atMs = snapshotAtMs;
      previousSnapshot.equityUsd = snapshotEquity;
      previousSnapshot.peakEquityUsd = snapshotPeak;
      previousSnapshot.dayStartEquityUsd = snapshotDayStart;
    }
    const figures = equityFigures(Number.isNaN(snapshotAtMs) ? undefined : previousSnapshot, equity, nowMs);
    snapshotAtMs = nowMs;
    snapshotEquity = equity;
    snapshotCash = cash;
    snapshotPositionsValue = positionsValue;
    snapshotPeak = figures.peakEquityUsd;
    snapshotDayStart = figures.dayStartEquityUsd;
    if (!killSwitch) {
      const breach = killSwitchBreach(figures, settings.limits);
      if (breach) {
        killSwitch = { at: new Date(nowMs).toISOString(), reason: breach };
        killSwitchAtMs = nowMs;
        killSwitchTrips.push({ ...killSwitch });
      }
    } else if (resumeAfterMs !== undefined && nowMs - killSwitchAtMs >= resumeAfterMs) {
      killSwitchTrips[killSwitchTrips.length - 1].resumedAt = new Date(nowMs).toISOString();
      killSwitch = undefined;
    }
    equityCurve[c] = equity;
    exposureCurve[c] = positionsValue;
    if (settings.onProgress && c % progressEvery === 0) settings.onProgress(c, cycleCount);
  };

  /**
   * Cycles from `from` on while nothing happens in them (no new signal; the caller checked that
   * nothing is pending): advance and close each. Most cycles are like this, and a small function
   * of its own is optimised by V8 long before the whole replay loop is. Returns the first cycle it
   * did not close: one whose rows are not scored yet (not advanced), or one with new signals
   * (advanced: its signals are in `fresh`, their count in `freshAhead`), or cycleCount.
   */
  const replayQuietCycles = (from: number): number => {
    for (let c = from; c < cycleCount; c++) {
      const nowSec = cycleTimes[c];
      if (nowSec > scoredBeforeSec) return c;
      const freshCount = advanceToCycle(symbols, signals, next, nextSignal, nowSec, interval, fresh);
      counts.candleSteps += stepsTaken;
      if (freshCount > 0) {
        freshAhead = freshCount;
        return c;
      }
      closeCycle(c, nowSec);
    }
    return cycleCount;
  };

  for (let c = 0; c < cycleCount; c++) {
    const nowSec = cycleTimes[c];
    // every candle this cycle can read opened before nowSec
    while (nowSec > scoredBeforeSec && phases && phase < phases.length) {
      const waitFrom = performance.now();
      await phases[phase].done;
      waitedForScoresMs += performance.now() - waitFrom;
      scanSignals(phases[phase].beforeSec);
      phase++;
    }
    let now: Date | undefined;
    let nowIso: string | undefined;

    // 1. signals: the candle that closed at `close`, when stored; its signal if actionable
    let freshCount = freshAhead;
    if (freshAhead > 0) freshAhead = 0;
    else {
      freshCount = advanceToCycle(symbols, signals, next, nextSignal, nowSec, interval, fresh);
      counts.candleSteps += stepsTaken;
    }
    for (let f = 0; f < freshCount; f++) {
      const s = fresh[f];
      const sym = symbols[s];
      const last = next[s] - 1;
      const k = nextSignal[s];
      counts.signals++;
      now ??= new Date(nowSec * 1000);
      nowIso ??= now.toISOString();
      const signalId = signalIdFor(
        sym.productId,
        settings.granularity,
        sym.start[last],
        settings.modelVersion,
      );
      pending.push({
        recommendationId: recommendationIdFor(signalId),
        symbol: s,
        side: signals[s].side[k] === SIDE_BUY ? "BUY" : "SELL",
        confidence: signals[s].confidence[k],
        entryPrice: sym.close[last],
        createdAt: nowIso,
      });
      counts.recommendations++;
    }

    // 2. bridge: expire, then (kill switch off) the most confident few go on
    let chosen: PendingRecommendation[] = [];
    if (pending.length > 0) {
      now ??= new Date(nowSec * 1000);
      const expired = expiredPending(pending, settings.bridge, now);
      if (expired.length > 0) {
        counts.expired += expired.length;
        pending = pending.filter((r) => !expired.includes(r));
      }
      if (!killSwitch) {
        chosen = selectForValidation(pending, settings.bridge, now);
        if (chosen.length > 0) pending = pending.filter((r) => !chosen.includes(r));
        counts.queued += chosen.length;
      }
    }

    // 3. LLM veto: not applied (every queued recommendation counts as VALIDATED)
    // 4. risk, one recommendation after the other, reservations of this cycle's approvals counted
    if (chosen.length > 0) {
      now ??= new Date(nowSec * 1000);
      nowIso ??= now.toISOString();
      const day = Math.floor(nowSec / 86_400);
      if (day !== approvalsDay) {
        approvalsDay = day;
        approvalsToday = 0;
      }
      const snapshot = Number.isNaN(snapshotAtMs) ? undefined : snapshotOf();
      const storedPositions = positionsAtLastMark();
      const reservations: Reservation[] = [];
      const executions: {
        rec: PendingRecommendation;
        order: ApprovedOrder;
        stopLoss: number | undefined;
        takeProfit: number | undefined;
      }[] = [];
      for (const rec of chosen) {
        const sym = symbols[rec.symbol];
        const last = next[rec.symbol] - 1;
        const portfolio = portfolioStateFrom(
          snapshot,
          storedPositions,
          reservations,
          approvalsToday,
          killSwitch !== undefined,
          settings.startingCashUsd,
          now,
        );
        counts.riskChecks++;
        const assessment = assessRisk(
          {
            recommendation: {
              recommendationId: rec.recommendationId,
              symbol: sym.productId,
              side: rec.side,
              amountUsd: settings.bridge.amountUsd,
              confidence: rec.confidence,
              entryPrice: rec.entryPrice,
            },
            portfolio,
            recentCloses: sym.close.subarray(Math.max(0, last + 1 - volatilityCloses), last + 1),
            closeIntervalSeconds: interval,
            limits: settings.limits,
          },
          now,
        );
        if (assessment.decision === "REFUSE") {
          for (const r of assessment.refusals)
            counts.refusedByRisk[r.reason] = (counts.refusedByRisk[r.reason] ?? 0) + 1;
          continue;
        }
        counts.approved++;
        approvalsToday++;
        reservations.push({
          recommendationId: rec.recommendationId,
          symbol: sym.productId,
          side: rec.side,
          amountUsd: assessment.adjustedAmountUsd,
          createdAt: nowIso,
        });
        // as live: the decision fixes the order (assess-recommendation.ts), the executor trades it
        const order = approvedOrder(
          { symbol: sym.productId, side: rec.side, entryPrice: rec.entryPrice },
          assessment.adjustedAmountUsd,
          portfolio.positions[sym.productId]?.quantity ?? 0,
        );
        if (order)
          executions.push({ rec, order, stopLoss: assessment.stopLoss, takeProfit: assessment.takeProfit });
      }

      // 5. execution: market orders on the paper venue's fill model
      for (const { rec, order, stopLoss, takeProfit } of executions) {
        const request = order;
        const s = rec.symbol;
        const sym = symbols[s];
        const last = next[s] - 1;
        const lastClose = sym.close[last];
        const half = settings.fill.spreadBps / 2 / 10_000;
        const bid = lastClose * (1 - half);
        const ask = lastClose * (1 + half);
        const orderRequest = orderRequestFor(
          order,
          rules[s],
          new Decimal(quantity[s]).toFixed(),
          clientOrderIdFor(rec.recommendationId),
        );
        const checked = localRefusal(orderRequest, rules[s]);
        if ("refusal" in checked) {
          refusedOrders.push({
            recommendationId: rec.recommendationId,
            time: nowIso,
            reason: `${checked.refusal.reason}: ${checked.refusal.message}`,
          });
          continue;
        }
        const { submitted } = checked;
        const fill = marketFillNumbers({
          side: request.side,
          ...(submitted.quoteSize !== undefined ? { quoteSize: submitted.quoteSize } : {}),
          ...(submitted.baseSize !== undefined ? { baseSize: submitted.baseSize } : {}),
          referencePrice: request.side === "BUY" ? ask : bid,
          candleVolumeBase: sym.volume[last],
          slippageBps: settings.fill.slippageBps,
          impactCoefficient: settings.fill.impactCoefficient,
          ...(settings.fill.maxImpactBps !== undefined ? { maxImpactBps: settings.fill.maxImpactBps } : {}),
          takerFeeBps: settings.fill.takerFeeBps,
          rules: rules[s],
        });
        // as live (paper venue): nothing bought, or not enough to pay, is refused before money moves
        let refusal: string | undefined;
        if (!(fill.baseSize > 0)) refusal = "SIZE_NOT_POSITIVE";
        else if (request.side === "BUY" && cash < Math.max(Number(submitted.quoteSize ?? 0), fill.totalQuote))
          refusal = "INSUFFICIENT_FUND";
        else if (request.side === "SELL" && quantity[s] < fill.baseSize) refusal = "INSUFFICIENT_FUND";
        if (refusal) {
          refusedOrders.push({ recommendationId: rec.recommendationId, time: nowIso, reason: refusal });
          continue;
        }
        const before = positions[s];
        if (request.side === "BUY") {
          cash -= fill.totalQuote;
          if (!(quantity[s] > 0)) openedAt[s] = nowIso;
          quantity[s] += fill.baseSize;
          if (!held.includes(s)) held.push(s);
        } else {
          cash += fill.totalQuote;
          quantity[s] -= fill.baseSize;
        }
        const fillRecord: Fill = {
          tradeId: rec.recommendationId,
          orderId: rec.recommendationId,
          clientOrderId: rec.recommendationId,
          symbol: sym.productId,
          side: request.side,
          price: String(fill.averagePrice),
          size: String(fill.baseSize),
          commission: String(fill.fee),
          liquidity: "TAKER",
          tradeTime: nowIso,
        };
        const after = applyFill(before, fillRecord, nowIso);
        positions[s] = after;
        const trade: BacktestTrade = {
          recommendationId: rec.recommendationId,
          symbol: sym.productId,
          side: request.side,
          time: nowIso,
          ...(submitted.quoteSize !== undefined ? { quoteSize: submitted.quoteSize } : {}),
          baseSize: fill.baseSize,
          price: fill.averagePrice,
          referenceClose: lastClose,
          quoteValue: fill.quoteValue,
          fee: fill.fee,
          slippageUsd: Math.abs(fill.averagePrice - lastClose) * fill.baseSize,
          confidence: rec.confidence,
          ...(stopLoss !== undefined ? { stopLoss } : {}),
          ...(takeProfit !== undefined ? { takeProfit } : {}),
        };
        if (request.side === "SELL") {
          trade.entryTime = openedAt[s];
          trade.entryPrice = Number(before?.averageEntryPrice ?? Number.NaN);
          trade.pnlUsd = Number(after.realizedPnlUsd) - Number(before?.realizedPnlUsd ?? 0);
          if (!(quantity[s] > 0)) openedAt[s] = undefined;
        }
        trades.push(trade);
      }
    }

    // 6. portfolio: mark to market at the last close, snapshot, kill switch
    closeCycle(c, nowSec);
    // then every cycle with no signal and nothing pending, in a small loop of its own
    if (pending.length === 0) c = replayQuietCycles(c + 1) - 1;
  }
  settings.onProgress?.(cycleCount, cycleCount);

  return {
    cycleTimes,
    equity: equityCurve,
    exposure: exposureCurve,
    trades,
    refusedOrders,
    counts,
    ...(killSwitch ? { killSwitch } : {}),
    killSwitchTrips,
    openPositions: held.map((s) => ({
      symbol: symbols[s].productId,
      quantity: quantity[s],
      markPrice: markedPrice[s],
      valueUsd: quantity[s] * markedPrice[s],
    })),
    finalCashUsd: cash,
    waitedForScoresMs,
  };

  function snapshotOf(): EquitySnapshot {
    const dailyPnl = snapshotEquity - snapshotDayStart;
    return {
      at: new Date(snapshotAtMs).toISOString(),
      equityUsd: snapshotEquity,
      cashUsd: snapshotCash,
      positionsValueUsd: snapshotPositionsValue,
      peakEquityUsd: snapshotPeak,
      drawdownPct: snapshotPeak > 0 ? Math.max(0, (snapshotPeak - snapshotEquity) / snapshotPeak) * 100 : 0,
      dayStartEquityUsd: snapshotDayStart,
      dailyPnlUsd: dailyPnl,
      dailyPnlPct: snapshotDayStart > 0 ? (dailyPnl / snapshotDayStart) * 100 : 0,
      tradesToday: approvalsToday,
    };
  }

  /** Positions as the store holds them after the last portfolio step (quantity > 0 only matter). */
  function positionsAtLastMark(): Position[] {
    const out: Position[] = [];
    for (const s of held) {
      const q = quantity[s];
      const mark = markedPrice[s];
      out.push({
        symbol: symbols[s].productId,
        quantity: String(q),
        averageEntryPrice: positions[s]?.averageEntryPrice ?? "0",
        costBasisUsd: positions[s]?.costBasisUsd ?? "0",
        realizedPnlUsd: positions[s]?.realizedPnlUsd ?? "0",
        markPrice: String(mark),
        marketValueUsd: String(q * mark),
        updatedAt: new Date(snapshotAtMs).toISOString(),
      });
    }
    return out;
  }
}

const NO_SIGNALS: ActionableSignals = {
  row: new Int32Array(0),
  side: new Uint8Array(0),
  confidence: new Float64Array(0),
  count: 0,
};

function appendSignals(a: ActionableSignals, b: ActionableSignals): ActionableSignals {
  if (a.count === 0) return b;
  if (b.count === 0) return a;
  const row = new Int32Array(a.count + b.count);
  row.set(a.row);
  row.set(b.row, a.count);
  const side = new Uint8Array(a.count + b.count);
  side.set(a.side);
  side.set(b.side, a.count);
  const confidence = new Float64Array(a.count + b.count);
  confidence.set(a.confidence);
  confidence.set(b.confidence, a.count);
  return { row, side, confidence, count: a.count + b.count };
}

let stepsTaken = 0;

/**
 * Advances every symbol to the candles closed at `nowSec` and lists in `fresh` the symbols whose
 * candle closing right now carries an actionable signal; the candle-steps taken are left in
 * `stepsTaken`. Kept small and monomorphic: it is the loop's only per-step work.
 */
function advanceToCycle(
  symbols: readonly BacktestSymbol[],
  signals: readonly ActionableSignals[],
  next: Int32Array,
  nextSignal: Int32Array,
  nowSec: number,
  interval: number,
  fresh: Int32Array,
): number {
  let count = 0;
  let steps = 0;
  const justClosed = nowSec - 60 - interval;
  for (let s = 0; s < symbols.length; s++) {
    const sym = symbols[s];
    const starts = sym.start;
    const length = sym.length;
    const from = next[s];
    let i = from;
    while (i < length && starts[i] + interval <= nowSec) i++;
    if (i === from) continue;
    steps += i - from;
    next[s] = i;
    const last = i - 1;
    if (starts[last] !== justClosed) continue;
    const sig = signals[s];
    const rows = sig.row;
    let k = nextSignal[s];
    while (k < sig.count && rows[k] < last) k++;
    nextSignal[s] = k;
    if (k < sig.count && rows[k] === last) fresh[count++] = s;
  }
  stepsTaken = steps;
  return count;
}

/** sha256 of the canonical JSON of the trade list: any change of behaviour changes it. */
export function tradesFingerprint(trades: readonly BacktestTrade[]): string {
  return createHash("sha256").update(canonicalJson(trades)).digest("hex");
}

/** JSON with object keys sorted at every level and numbers as JavaScript prints them. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}
