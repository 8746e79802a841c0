/**
 * The replay loop: the live chain of one hourly cycle (signals → bridge → [LLM veto: NOT applied]
 * → risk → execution → portfolio → position manager → its exits executed → portfolio), cycle after
 * cycle, on precomputed model probabilities, in live's order (local/pipeline.ts `runCycle`): a
 * cycle's entries are sized and filled before its exits, so the risk manager's drawdown budget
 * counts the positions that leave in the same cycle, with their stops as the last run left them.
 *
 * Every decision is the live code's: decideSignal / becomesRecommendation (signals.ts), the bridge's
 * expiredPending / selectForValidation, portfolioStateFrom + assessRisk, approvedOrder,
 * orderRequestFor + localRefusal + marketFillNumbers (the paper venue's fill model), the exit
 * policy (openExitState / advanceExits / exitIdFor: the position manager's, on the bid it reads from
 * the paper venue), the resting stop (exits/resting-stop.ts through ./resting-stop.ts, with
 * EXIT_RESTING_STOP: placed when the entry fills, replaced once the trail is REPLACE_AFTER_R above
 * it, cancelled before any other sell, settled by the paper venue's stopLimitOutcome on the newest
 * candle before the manager looks at the bid), equityFigures, killSwitchTrip.
 * What the loop re-states, because live keeps it inside DynamoDB-bound code, is marked "as live"
 * and pinned by the parity test against local/pipeline.ts: the paper venue's bid/ask grid,
 * balance checks and holds, and the portfolio snapshot (day start, peak, kill switch trip).
 *
 * Per cycle with nothing to do the loop only advances one index per symbol and marks the held
 * positions; it allocates only when a signal, an order or a risk check happens.
 */
import { createHash } from "node:crypto";
import { DEFAULT_EXIT_SETTINGS, DEFAULT_KILL_SWITCH_SETTINGS, DEFAULT_PAPER_ACCOUNT } from "#defaults";
import { exitLabel } from "#domain/managed-position.js";
import type { EquitySnapshot, Granularity, Side } from "#domain/schemas.js";
import type { ProductRules, SubmittedSizes } from "#exchange/exchange.js";
import {
  limitFillNumbers,
  type MarketFillNumbers,
  marketFillNumbers,
  onGridNumbers,
  quoteOnGridNumbers,
} from "#exchange/fill-model.js";
import { decimalTextOf } from "#exchange/order-math.js";
import { localRefusal, stopVersusLastTrade } from "#exchange/order-request.js";
import {
  advanceExits,
  type ExitIntent,
  type ExitState,
  type MarketView,
  openExitState,
  stopInForce,
} from "#exits/exit-policy.js";
import { DEFAULT_EXITS, type ExitSettings } from "#exits/exit-settings.js";
import { exitIdFor } from "#exits/position-ledger.js";
import { MAX_RESTING_STOP_FAILURES, stopLagsTrail } from "#exits/resting-stop.js";
import { lowerBound } from "#market-data/replay.js";
import type { DecisionThresholds } from "#model/index.js";
import { assessRisk, closesNeededForVolatility, type PortfolioState, type RiskLimits } from "#risk/index.js";
import { killSwitchFlattens, killSwitchTrip } from "#risk/kill-switch-rules.js";
import { riskToStopUsd } from "#risk/portfolio.js";
import { approvedOrder } from "#steps/assess-recommendation.js";
import { type ApprovedOrder, clientOrderIdFor, orderRequestFor } from "#steps/execute-trade.js";
import { signalIdFor } from "#steps/generate-signals.js";
import { SELL_SIGNALS_READ } from "#steps/manage-positions.js";
import { portfolioStateFromMarks } from "#steps/portfolio-state.js";
import { equityFigures } from "#steps/reconcile-portfolio.js";
import {
  type BridgeSettings,
  expiredPending,
  recommendationIdFor,
  selectForValidation,
} from "#steps/signal-bridge.js";
import type { Reservation } from "#store/ports.js";
import { type ReplayedRestingStop, restingStopAt, settleRestingStop } from "./resting-stop.js";
import { type ActionableSignals, actionableSignals, SIDE_BUY } from "./signals.js";

export interface BacktestSymbol {
  /** Coinbase product id, e.g. BTC-USD */
  productId: string;
  /** candle open times (Unix seconds), ascending */
  start: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
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
  /** a resting stop that gapped under its limit fills there as maker; default the paper venue's (PAPER_MAKER_FEE_BPS) */
  makerFeeBps?: number;
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
  /** how positions leave (EXIT_*, KILL_SWITCH_FLATTEN); default: the live defaults */
  exits?: ExitSettings;
  /**
   * a protective stop-limit rests on the venue for each position, as the position manager places it
   * (EXIT_RESTING_STOP); off: stops and trails are seen on the cycle's bid only and sold at market.
   * Default: the live default (on)
   */
  restingStops?: boolean;
  /** a daily-loss trip lifts itself at the next UTC midnight, as live (KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY) */
  dailyLossResumesNextDay?: boolean;
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
  /** BUY: the position's stop and target ladder (the exit policy acts on them) */
  stopLoss?: number;
  takeProfits?: number[];
  /** SELL: the exit, TAKE_PROFIT_1, STOP_LOSS, ... and the level that triggered it */
  exit?: string;
  triggerPrice?: number;
  /** the entry recommendation whose position this trade opened or closed */
  positionId?: string;
  /** SELL: when the position sold from was opened, its entry fill price and the leg's realised P&L (fees in) */
  entryTime?: string;
  entryPrice?: number;
  pnlUsd?: number;
}

/** A position the exit policy closed (or that is still open at the end). */
export interface ClosedPosition {
  positionId: string;
  symbol: string;
  openedAt: string;
  closedAt: string;
  entryPrice: number;
  quantity: number;
  /** proceeds of every exit leg minus the entry's cost, fees in */
  pnlUsd: number;
  /** exit labels in order, e.g. ["TAKE_PROFIT_1", "TRAILING_STOP"] */
  exits: string[];
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
    /** exit legs filled, by label (TAKE_PROFIT_1, STOP_LOSS, ...) */
    exits: Record<string, number>;
  };
  /** positions opened and closed by the exit policy, in closing order */
  closedPositions: ClosedPosition[];
  /** positions the exit policy still watches at the end */
  openManagedPositions: number;
  /**
   * The largest loss one cycle's stop exits took beyond their stop levels (gaps through the stop,
   * spread, slippage, fees), USD: what the drawdown budget cannot hold back.
   */
  largestStopGapUsd: number;
  /** the largest fall of equity from one cycle to the next, USD (a drawdown may pass its limit by this) */
  largestBarLossUsd: number;
  /** the kill switch still on at the end (its trip) */
  killSwitch?: { at: string; reason: string; kind: "DAILY_LOSS" | "DRAWDOWN" };
  /** every automatic trip, with when it lifted itself (daily loss) or the replayed operator resumed */
  killSwitchTrips: { at: string; reason: string; kind: "DAILY_LOSS" | "DRAWDOWN"; resumedAt?: string }[];
  openPositions: { symbol: string; quantity: number; markPrice: number; valueUsd: number }[];
  finalCashUsd: number;
  /** time spent waiting for scoring phases (not replaying) */
  waitedForScoresMs: number;
}

/** A position the exit policy watches: one entry fill. */
interface Lot {
  positionId: string;
  symbol: number;
  openedAt: string;
  /** quote paid for the entry, fees in */
  entryCostUsd: number;
  /** quote received from its exits so far, fees out */
  proceedsUsd: number;
  state: ExitState;
  /** candles up to this row were evaluated */
  evaluatedRow: number;
  /** the row of the candle whose signal opened it: SELL signals after it are reasons to exit */
  openRow: number;
  exits: string[];
  /** base the position still holds: the entry's fill less its exits' fills */
  heldBase: number;
  /** exits issued so far (filled or refused) by label: the next one of a label is its next attempt */
  attempts: Record<string, number>;
  /** the stop-limit resting on the venue for the position (EXIT_RESTING_STOP), if any */
  resting: ReplayedRestingStop | undefined;
  /** resting stops placed so far (filled, cancelled or refused): the next one's placement number */
  placements: number;
  /** resting stops the venue refused: after MAX_RESTING_STOP_FAILURES none is placed again */
  restingFailures: number;
  /** set once the position closed */
  closedAt?: string;
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
      // the rows that opened before beforeSec (start is ascending)
      const end = Math.max(signalRowsScanned[s], lowerBound(sym.start, sym.length, beforeSec));
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
  const baseIncrement = rules.map((r) => Number(r.baseIncrement));
  const baseMinSize = rules.map((r) => Number(r.baseMinSize));
  const priceIncrement = rules.map((r) => Number(r.priceIncrement));
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
    exits: {},
  };
  const progressEvery = Math.max(1, Math.floor(cycleCount / 200));

  const exitSettings = settings.exits ?? DEFAULT_EXITS;
  const dailyLossResumes =
    settings.dailyLossResumesNextDay ?? DEFAULT_KILL_SWITCH_SETTINGS.dailyLossResumesNextDay;
  const halfSpread = settings.fill.spreadBps / 2 / 10_000;
  /** what one side of a trade costs, for the drawdown budget, as the risk manager counts it: fee and slippage */
  const sideCost = (settings.fill.takerFeeBps + settings.fill.slippageBps) / 10_000;
  /** the open positions, in the order they opened */
  let lots: Lot[] = [];
  /** exits the policy called for this cycle, executed in order */
  const exitQueue: { lot: Lot; intent: ExitIntent; stopLevel: number }[] = [];
  const closedPositions: ClosedPosition[] = [];
  let largestStopGapUsd = 0;
  /** the largest fall of equity from one cycle to the next */
  let largestBarLossUsd = 0;
  /** when the daily-loss pause lifts itself (NaN: no such pause) */
  let killSwitchResumeAtMs = Number.NaN;

  /** whether the last portfolio step's figures broke a kill-switch limit (tripped, or would have) */
  let lastSnapshotTripped = false;

  /** set when replayQuietCycles stopped at a cycle it had already advanced: that cycle's signals */
  let freshAhead = 0;
  let advancedAhead = false;

  /**
   * As the position manager reads it: a SELL among the symbol's latest SELL_SIGNALS_READ signals
   * (one per closed candle, the one of `row` included) that came after the position opened (its
   * candle `openRow`). A SELL stays a reason to exit until the position is out, so an exit the base
   * grid left a rest of is issued again at the next evaluation.
   */
  const sellSignalSince = (s: number, openRow: number, row: number): boolean => {
    const sig = signals[s];
    const after = Math.max(openRow, row - SELL_SIGNALS_READ);
    let k = nextSignal[s];
    if (k >= sig.count || sig.row[k] > row) k--;
    for (; k >= 0 && sig.row[k] > after; k--) if (sig.row[k] <= row && sig.side[k] !== SIDE_BUY) return true;
    return false;
  };

  const restingStops = settings.restingStops ?? DEFAULT_EXIT_SETTINGS.restingStop;
  const makerFeeBps = settings.fill.makerFeeBps ?? DEFAULT_PAPER_ACCOUNT.makerFeeBps;
  /** per symbol: base the positions' resting stops hold on the venue, which no other sell can take */
  const restingHold = new Float64Array(n);
  /** what cycle's stop exits lost beyond the stop in force, USD (largestStopGapUsd) */
  let cycleGapUsd = 0;

  /** one market view, refilled per evaluation: the replay allocates nothing for a quiet position */
  const market: MarketView = { high: 0, low: 0, close: 0, atMs: 0 };
  const candle = { open: 0, high: 0, low: 0 };
  const context = { sellSignal: false, flatten: false };
  const intents: ExitIntent[] = [];
  /**
   * The portfolio step's settlement of the resting stops, as live: the paper venue fills the resting
   * stop of each open position with a candle closed since its last evaluation on that candle
   * (backtest/resting-stop.ts). The position manager (manageLots) then evaluates the positions it
   * did not close on the cycle's bid, as it reads it from the venue; what the policy calls for goes
   * to `exitQueue`, its resting stop cancelled first; with nothing to sell, the resting stop is
   * placed, or replaced once the trail rose REPLACE_AFTER_R above it.
   */
  const settleRestingStops = (nowSec: number): void => {
    let closed = false;
    for (let l = 0; l < lots.length; l++) {
      const lot = lots[l];
      const s = lot.symbol;
      const sym = symbols[s];
      const last = next[s] - 1;
      if (lot.evaluatedRow >= last) continue;
      const resting = lot.resting;
      if (
        resting !== undefined &&
        last >= resting.fromRow &&
        (resting.triggered || sym.low[last] <= resting.stopPrice)
      ) {
        candle.open = sym.open[last];
        candle.high = sym.high[last];
        candle.low = sym.low[last];
        // the venue's quote: the newest close less half the spread (off the grid)
        const fill = settleRestingStop(
          resting,
          candle,
          sym.close[last] * (1 - halfSpread),
          priceIncrement[s],
        );
        if (fill !== undefined) {
          lot.evaluatedRow = last;
          bookRestingFill(lot, fill.price, fill.maker, nowSec);
          closed ||= lot.state.quantity === 0;
        }
      }
    }
    if (closed) lots = lots.filter((lot) => lot.state.quantity > 0);
  };

  /**
   * The position manager, after the portfolio step: each open position with a candle closed since
   * its last evaluation, on the cycle's bid; every position at once when the kill switch flattens.
   */
  const manageLots = (nowSec: number): number => {
    context.flatten =
      killSwitch !== undefined &&
      killSwitchFlattens({ active: true, kind: killSwitch.kind }, exitSettings.flattenOnKillSwitch);
    for (let l = 0; l < lots.length; l++) {
      const lot = lots[l];
      const s = lot.symbol;
      const sym = symbols[s];
      const last = next[s] - 1;
      // the manager evaluates every position each run; without a new candle only a flatten can change it
      if (lot.evaluatedRow >= last && context.flatten && lot.state.quantity > 0) lot.evaluatedRow = last - 1;
      if (lot.evaluatedRow >= last) continue;
      const queued = exitQueue.length;
      while (lot.evaluatedRow < last && lot.state.quantity > 0) {
        const r = ++lot.evaluatedRow;
        // as live: the position manager reads the venue's bid (the close less half the spread, on
        // the price grid); a stop the candle's low crossed is the resting stop's, settled above
        const bid = quoteOnGridNumbers(sym.close[r] * (1 - halfSpread), priceIncrement[s], false);
        market.high = bid;
        market.low = bid;
        market.close = bid;
        // the candle just closed is looked at now (the cycle); one caught up on, when it closed
        market.atMs = r === last ? nowSec * 1000 : (sym.start[r] + interval) * 1000;
        context.sellSignal = r === last && sellSignalSince(s, lot.openRow, r);
        const stopLevel = stopInForce(lot.state);
        if (advanceExits(lot.state, market, context, exitSettings, intents) > 0) {
          for (let i = 0; i < intents.length; i++) exitQueue.push({ lot, intent: intents[i], stopLevel });
          intents.length = 0;
        }
      }
      // as live: the resting stop leaves the venue before any other sell of the position
      if (exitQueue.length > queued) {
        if (lot.resting !== undefined) cancelResting(lot);
      } else if (restingStops) keepRestingStop(lot, last, nowSec);
    }
    return exitQueue.length;
  };

  /** What the venue lets a new sell of the symbol take: what is held less the resting stops' holds. */
  const availableBase = (s: number): number => {
    if (restingHold[s] === 0) return quantity[s];
    const left = onBaseGrid(quantity[s] - restingHold[s], baseIncrement[s]);
    return left < baseIncrement[s] / 2 ? 0 : left;
  };

  /** The resting stop off the venue: its base is available again. */
  const cancelResting = (lot: Lot) => {
    const s = lot.symbol;
    const left = onBaseGrid(restingHold[s] - lot.resting!.baseSize, baseIncrement[s]);
    restingHold[s] = left < baseIncrement[s] / 2 ? 0 : left;
    lot.resting = undefined;
  };

  /**
   * As the position manager with EXIT_RESTING_STOP: a position with nothing to sell this run gets a
   * STOP_LIMIT SELL of all it holds at the stop in force, unless one rests there already that the
   * trail did not leave REPLACE_AFTER_R behind (then it is cancelled and placed anew, higher). The
   * executor caps it at the available base; the venue refuses a stop not under the last price.
   */
  const keepRestingStop = (lot: Lot, last: number, nowSec: number) => {
    const level = stopInForce(lot.state);
    if (lot.resting !== undefined) {
      if (!stopLagsTrail(lot.resting.stopPrice, level, lot.state.riskPerUnit)) return;
      cancelResting(lot);
    }
    const s = lot.symbol;
    if (lot.restingFailures >= MAX_RESTING_STOP_FAILURES || !(lot.heldBase >= baseMinSize[s])) return;
    lot.placements++;
    const stop = restingStopAt(
      { positionId: lot.positionId, initialStop: lot.state.stopLoss },
      lot.placements,
      level,
      { priceIncrement: rules[s].priceIncrement, stopLimitOffset: exitSettings.stopLimitOffset },
      lot.heldBase,
      last + 1,
    );
    const productId = symbols[s].productId;
    const request = orderRequestFor(
      {
        symbol: productId,
        side: "SELL",
        baseSize: decimalTextOf(lot.heldBase),
        stopPrice: stop.terms.stopPrice,
        limitPrice: stop.terms.limitPrice,
      },
      rules[s],
      decimalTextOf(availableBase(s)),
      clientOrderIdFor(stop.exitId),
    );
    const checked = localRefusal(request, rules[s]);
    const refusal =
      "refusal" in checked
        ? checked.refusal
        : stopVersusLastTrade(request, stop.terms.stopPrice, symbols[s].close[last]);
    if (refusal !== undefined || "refusal" in checked) {
      // as live: the refused placement counts; the next run places the stop again
      lot.restingFailures++;
      refusedOrders.push({
        recommendationId: stop.exitId,
        time: new Date(nowSec * 1000).toISOString(),
        reason: refusal ? `${refusal.reason}: ${refusal.message}` : "REFUSED",
      });
      return;
    }
    stop.baseSize = Number(checked.submitted.baseSize);
    restingHold[s] = onBaseGrid(restingHold[s] + stop.baseSize, baseIncrement[s]);
    lot.resting = stop;
  };

  /** The paper venue filled the position's resting stop: booked as its exit, at the stop's price. */
  const bookRestingFill = (lot: Lot, price: number, maker: boolean, nowSec: number) => {
    const resting = lot.resting!;
    const s = lot.symbol;
    const stopLevel = stopInForce(lot.state);
    cancelResting(lot);
    const fill = stopFill(resting.baseSize, price, maker ? makerFeeBps : settings.fill.takerFeeBps);
    applySell(s, fill);
    const nowIso = new Date(nowSec * 1000).toISOString();
    recordExitFill(lot, resting.exitId, exitLabel(resting.reason, 0), fill, resting.level, nowIso);
    cycleGapUsd += fill.baseSize * Math.max(0, stopLevel - fill.averagePrice) + fill.fee;
    // the whole position was on the stop: what is left is what its base grid kept back
    lot.state.quantity = 0;
    closeIfEmpty(lot, nowIso);
  };

  /**
   * One market order on the paper venue's fill model (as live: the price grid, the floor to the
   * base increment, the balance checks), booked into cash, quantities and the ledger. The
   * reference price is the bid (SELL) or the ask (BUY) the venue would quote.
   */
  const fillMarketOrder = (
    s: number,
    order: ApprovedOrder,
    referencePrice: number,
    recommendationId: string,
  ): { refusal: string } | { fill: MarketFillNumbers; submitted: SubmittedSizes } => {
    const sym = symbols[s];
    const last = next[s] - 1;
    // as live: a SELL is capped at the available base (the venue holds the resting stops' base)
    const available = availableBase(s);
    const orderRequest = orderRequestFor(
      order,
      rules[s],
      decimalTextOf(available),
      clientOrderIdFor(recommendationId),
    );
    const checked = localRefusal(orderRequest, rules[s]);
    if ("refusal" in checked) return { refusal: `${checked.refusal.reason}: ${checked.refusal.message}` };
    const { submitted } = checked;
    const fill = marketFillNumbers({
      side: order.side,
      ...(submitted.quoteSize !== undefined ? { quoteSize: submitted.quoteSize } : {}),
      ...(submitted.baseSize !== undefined ? { baseSize: submitted.baseSize } : {}),
      referencePrice,
      candleVolumeBase: sym.volume[last],
      slippageBps: settings.fill.slippageBps,
      impactCoefficient: settings.fill.impactCoefficient,
      ...(settings.fill.maxImpactBps !== undefined ? { maxImpactBps: settings.fill.maxImpactBps } : {}),
      takerFeeBps: settings.fill.takerFeeBps,
      rules: rules[s],
    });
    // as live (paper venue): nothing bought, or not enough to pay, is refused before money moves
    if (!(fill.baseSize > 0)) return { refusal: "SIZE_NOT_POSITIVE" };
    if (order.side === "BUY" && cash < Math.max(Number(submitted.quoteSize ?? 0), fill.totalQuote))
      return { refusal: "INSUFFICIENT_FUND" };
    // the live venue holds decimals; here a sale of all that is held may differ from it in the last bit
    if (order.side === "SELL" && fill.baseSize - available > fill.baseSize * 1e-12)
      return { refusal: "INSUFFICIENT_FUND" };
    if (order.side === "BUY") {
      cash -= fill.totalQuote;
      quantity[s] = onBaseGrid(quantity[s] + fill.baseSize, baseIncrement[s]);
      if (!held.includes(s)) held.push(s);
    } else applySell(s, fill);
    return { fill, submitted };
  };

  /** A SELL's fill booked into cash and the symbol's quantity. */
  const applySell = (s: number, fill: MarketFillNumbers) => {
    cash += fill.totalQuote;
    // the venue counts in decimals: what floats leave below half an increment is nothing
    const left = onBaseGrid(quantity[s] - fill.baseSize, baseIncrement[s]);
    quantity[s] = left < baseIncrement[s] / 2 ? 0 : left;
  };

  /**
   * An exit's fill booked on its position and in the trade list: the proceeds, the leg's P&L against
   * its share of the entry's cost (fees in), the label.
   */
  const recordExitFill = (
    lot: Lot,
    id: string,
    label: string,
    fill: MarketFillNumbers,
    triggerPrice: number,
    nowIso: string,
  ) => {
    const s = lot.symbol;
    const sym = symbols[s];
    const close = sym.close[next[s] - 1];
    const pnl = fill.totalQuote - (lot.entryCostUsd * fill.baseSize) / lot.state.entryQuantity;
    lot.proceedsUsd += fill.totalQuote;
    lot.exits.push(label);
    counts.exits[label] = (counts.exits[label] ?? 0) + 1;
    lot.heldBase = onBaseGrid(lot.heldBase - fill.baseSize, baseIncrement[s]);
    trades.push({
      recommendationId: id,
      symbol: sym.productId,
      side: "SELL",
      time: nowIso,
      baseSize: fill.baseSize,
      price: fill.averagePrice,
      referenceClose: close,
      quoteValue: fill.quoteValue,
      fee: fill.fee,
      slippageUsd: Math.abs(fill.averagePrice - close) * fill.baseSize,
      confidence: 1,
      exit: label,
      triggerPrice,
      positionId: lot.positionId,
      entryTime: lot.openedAt,
      entryPrice: lot.state.entryPrice,
      pnlUsd: pnl,
    });
  };

  /**
   * A position its exits emptied closes, once. As live: a whole exit the base grid floored leaves
   * what it could not sell with the position, which the next evaluation sells, unless it is dust
   * under the product's minimum size.
   */
  const closeIfEmpty = (lot: Lot, nowIso: string) => {
    if (lot.state.quantity > 0 || lot.closedAt !== undefined) return;
    const rest = Math.min(lot.heldBase, quantity[lot.symbol]);
    if (rest >= baseMinSize[lot.symbol]) {
      lot.state.quantity = rest;
      return;
    }
    lot.closedAt = nowIso;
    closedPositions.push({
      positionId: lot.positionId,
      symbol: symbols[lot.symbol].productId,
      openedAt: lot.openedAt,
      closedAt: nowIso,
      entryPrice: lot.state.entryPrice,
      quantity: lot.state.entryQuantity,
      pnlUsd: lot.proceedsUsd - lot.entryCostUsd,
      exits: lot.exits,
    });
  };

  /** The position manager's exits: market SELLs at the cycle's bid of what the positions hold. */
  const executeExits = (nowIso: string) => {
    for (const { lot, intent, stopLevel } of exitQueue) {
      const s = lot.symbol;
      const sym = symbols[s];
      const close = sym.close[next[s] - 1];
      const label = exitLabel(intent.reason, intent.leg);
      // as live: the exit's id names the position, the reason, the leg and the attempt
      const attempt = (lot.attempts[label] ?? 0) + 1;
      lot.attempts[label] = attempt;
      const id = exitIdFor(lot.positionId, intent.reason, intent.leg, attempt);
      // the venue holds decimals: a size within float error of the base grid is on it
      const want = onBaseGrid(Math.min(intent.quantity, availableBase(s)), baseIncrement[s]);
      const result =
        want >= baseMinSize[s]
          ? fillMarketOrder(
              s,
              { symbol: sym.productId, side: "SELL", baseSize: decimalTextOf(want) },
              close * (1 - halfSpread),
              id,
            )
          : {
              refusal: `DUST: ${want} ${sym.productId} is below the product's ${rules[s].baseMinSize} minimum`,
            };
      if ("refusal" in result) {
        refusedOrders.push({ recommendationId: id, time: nowIso, reason: result.refusal });
        if (want >= baseMinSize[s]) {
          // the next evaluation tries again
          lot.state = { ...lot.state, quantity: lot.state.quantity + intent.quantity };
        } else {
          // as live: dust under the product's minimum is never sold, the position closes with it
          lot.heldBase = 0;
        }
      } else {
        const { fill } = result;
        recordExitFill(lot, id, label, fill, intent.price, nowIso);
        // what flooring left unsold stays with a position that goes on; a whole exit leaves it as dust
        if (lot.state.quantity > 0) lot.state.quantity += intent.quantity - fill.baseSize;
        if (intent.reason === "STOP_LOSS" || intent.reason === "TRAILING_STOP")
          cycleGapUsd += fill.baseSize * Math.max(0, stopLevel - fill.averagePrice) + fill.fee;
      }
    }
    // each position the exits emptied closes once, after all of its legs of this cycle
    for (const { lot } of exitQueue) closeIfEmpty(lot, nowIso);
    exitQueue.length = 0;
    lots = lots.filter((lot) => lot.state.quantity > 0);
  };

  /**
   * The portfolio step, as live runs it twice a cycle (before the position manager and after its
   * exits): mark to market at the last close, snapshot, kill switch (trip, or lift at the new day).
   * A trip flattens nothing here: the position manager's next run does (killSwitchFlattens).
   */
  const takeSnapshot = (nowSec: number) => {
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
    // as live (reconcile-portfolio.ts): trip when off; a daily-loss pause lifts itself at the new
    // UTC day once no limit is breached; the replayed operator resumes any trip after a while
    const trip = killSwitchTrip(figures, settings.limits, nowMs, dailyLossResumes);
    lastSnapshotTripped = trip !== undefined;
    if (!killSwitch) {
      if (trip) {
        killSwitch = { at: new Date(nowMs).toISOString(), reason: trip.reason, kind: trip.kind };
        killSwitchAtMs = nowMs;
        killSwitchResumeAtMs = trip.resumeAtMs ?? Number.NaN;
        killSwitchTrips.push({ ...killSwitch });
      }
    } else if (
      (!trip && nowMs >= killSwitchResumeAtMs) ||
      (resumeAfterMs !== undefined && nowMs - killSwitchAtMs >= resumeAfterMs)
    ) {
      killSwitchTrips[killSwitchTrips.length - 1].resumedAt = new Date(nowMs).toISOString();
      killSwitch = undefined;
      killSwitchResumeAtMs = Number.NaN;
    }
  };

  /**
   * The rest of a cycle once its entries are in: the portfolio step (settlement, snapshot, kill
   * switch), the position manager and its exits, and, when they sold anything, the portfolio step
   * again. Its equity and exposure are the cycle's.
   */
  const finishCycle = (c: number, nowSec: number) => {
    if (lots.length > 0) settleRestingStops(nowSec);
    takeSnapshot(nowSec);
    // with nothing sold in between, the second snapshot would equal the first
    if (lots.length > 0 && manageLots(nowSec) > 0) {
      executeExits(new Date(nowSec * 1000).toISOString());
      takeSnapshot(nowSec);
    }
    const equity = snapshotEquity;
    if (c > 0 && equityCurve[c - 1] - equity > largestBarLossUsd)
      largestBarLossUsd = equityCurve[c - 1] - equity;
    if (cycleGapUsd > largestStopGapUsd) largestStopGapUsd = cycleGapUsd;
    cycleGapUsd = 0;
    equityCurve[c] = equity;
    exposureCurve[c] = snapshotPositionsValue;
    if (settings.onProgress && c % progressEvery === 0) settings.onProgress(c, cycleCount);
  };

  /**
   * With nothing held, no kill switch and nothing pending, a cycle without a new signal changes
   * nothing but the clock: the first cycle from `from` on that may have one (its candle's signal
   * closes then) or whose rows are not scored yet; `from` itself when there is no snapshot yet.
   */
  const flatUntil = (from: number): number => {
    if (Number.isNaN(snapshotAtMs)) return from;
    // a signal of row r is new at the cycle r's candle closed at: start[r] + interval + 60 s
    let firstSignalSec = Number.POSITIVE_INFINITY;
    for (let s = 0; s < n; s++) {
      const sig = signals[s];
      let k = nextSignal[s];
      while (k < sig.count && sig.row[k] < next[s]) k++;
      if (k < sig.count)
        firstSignalSec = Math.min(firstSignalSec, symbols[s].start[sig.row[k]] + interval + 60);
    }
    let end = from;
    while (end < cycleCount && cycleTimes[end] < firstSignalSec && cycleTimes[end] <= scoredBeforeSec) end++;
    return end;
  };

  /**
   * Cycles [from, end) while flat (flatUntil): each as the full cycle would close it. The candles
   * close, the equity stays the cash, and the portfolio step's figures stay those of the last one
   * (its day start moving to the same equity at a new UTC day), so no limit breaks that did not.
   */
  const closeFlatCycles = (from: number, end: number) => {
    const lastSec = cycleTimes[end - 1];
    let steps = 0;
    for (let s = 0; s < n; s++) {
      const starts = symbols[s].start;
      const length = symbols[s].length;
      const was = next[s];
      let i = was;
      while (i < length && starts[i] + interval <= lastSec) i++;
      next[s] = i;
      steps += i - was;
    }
    counts.candleSteps += steps;
    if (Math.floor(snapshotAtMs / 86_400_000) !== Math.floor(lastSec / 86_400))
      snapshotDayStart = snapshotEquity;
    snapshotAtMs = lastSec * 1000;
    equityCurve.fill(snapshotEquity, from, end);
    exposureCurve.fill(0, from, end);
    if (settings.onProgress && Math.floor((end - 1) / progressEvery) > Math.floor((from - 1) / progressEvery))
      settings.onProgress(end - 1, cycleCount);
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
      if (lots.length === 0 && held.length === 0 && killSwitch === undefined && !lastSnapshotTripped) {
        const end = flatUntil(c);
        if (end > c) {
          closeFlatCycles(c, end);
          c = end - 1;
          continue;
        }
      }
      const freshCount = advanceToCycle(symbols, signals, next, nextSignal, nowSec, interval, fresh);
      counts.candleSteps += stepsTaken;
      if (freshCount > 0) {
        freshAhead = freshCount;
        advancedAhead = true;
        return c;
      }
      finishCycle(c, nowSec);
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
    if (advancedAhead) {
      advancedAhead = false;
      freshAhead = 0;
    } else {
      freshCount = advanceToCycle(symbols, signals, next, nextSignal, nowSec, interval, fresh);
      counts.candleSteps += stepsTaken;
    }
    for (let f = 0; f < freshCount; f++) {
      const s = fresh[f];
      const sym = symbols[s];
      const last = next[s] - 1;
      const k = nextSignal[s];
      counts.signals++;
      // a SELL signal acts through the exit policy (above), never as a recommendation
      if (signals[s].side[k] !== SIDE_BUY) continue;
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
        side: "BUY",
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

      const reservations: Reservation[] = [];
      const executions: { rec: PendingRecommendation; order: ApprovedOrder; stopLoss: number | undefined }[] =
        [];
      // the drawdown budget: what every open position loses if it leaves at its stop in force now
      let openRiskUsd = 0;
      for (const lot of lots) {
        const mark = markedPrice[lot.symbol] > 0 ? markedPrice[lot.symbol] : lot.state.entryPrice;
        openRiskUsd += riskToStopUsd(lot.state.quantity, mark, stopInForce(lot.state), sideCost);
      }
      for (const rec of chosen) {
        const sym = symbols[rec.symbol];
        const last = next[rec.symbol] - 1;
        const portfolio = portfolioStateFromMarks(
          snapshot,
          marksAtLastMark(),
          reservations,
          approvalsToday,
          killSwitch !== undefined,
          settings.startingCashUsd,
          now,
        );
        portfolio.openRiskUsd = openRiskUsd;
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
            roundTripCost: 2 * sideCost,
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
        openRiskUsd += assessment.adjustedAmountUsd * (assessment.stopDistance + 2 * sideCost);
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
        if (order) executions.push({ rec, order, stopLoss: assessment.stopLoss });
      }

      // 5. execution: market orders on the paper venue's fill model; a filled entry opens a position
      for (const { rec, order, stopLoss } of executions) {
        const s = rec.symbol;
        const sym = symbols[s];
        const last = next[s] - 1;
        const lastClose = sym.close[last];
        const result = fillMarketOrder(s, order, lastClose * (1 + halfSpread), rec.recommendationId);
        if ("refusal" in result) {
          refusedOrders.push({
            recommendationId: rec.recommendationId,
            time: nowIso,
            reason: result.refusal,
          });
          continue;
        }
        const { fill, submitted } = result;
        const trade: BacktestTrade = {
          recommendationId: rec.recommendationId,
          symbol: sym.productId,
          side: "BUY",
          time: nowIso,
          ...(submitted.quoteSize !== undefined ? { quoteSize: submitted.quoteSize } : {}),
          baseSize: fill.baseSize,
          price: fill.averagePrice,
          referenceClose: lastClose,
          quoteValue: fill.quoteValue,
          fee: fill.fee,
          slippageUsd: Math.abs(fill.averagePrice - lastClose) * fill.baseSize,
          confidence: rec.confidence,
          positionId: rec.recommendationId,
        };
        // as live (the portfolio step): the position keeps the decision's stop distance from its fill
        if (stopLoss !== undefined) {
          const state = openExitState(
            {
              price: fill.averagePrice,
              quantity: fill.baseSize,
              stopDistance: 1 - stopLoss / rec.entryPrice,
              openedAtMs: nowSec * 1000,
            },
            exitSettings,
            interval,
          );
          lots.push({
            positionId: rec.recommendationId,
            symbol: s,
            openedAt: nowIso,
            entryCostUsd: fill.totalQuote,
            proceedsUsd: 0,
            state,
            openRow: last,
            // as live: the position manager's run after the portfolio step opened it looks at this
            // cycle's bid, and places its resting stop
            evaluatedRow: last - 1,
            exits: [],
            heldBase: fill.baseSize,
            attempts: {},
            resting: undefined,
            placements: 0,
            restingFailures: 0,
          });
          trade.stopLoss = state.stopLoss;
          trade.takeProfits = state.takeProfits.map((t) => t.price);
        }
        trades.push(trade);
      }
    }

    // 6. portfolio: the paper venue settles the resting stops, snapshot, kill switch; 7. the
    // position manager on the bid, whose exits go to execution at once (no LLM, no risk limit, no
    // kill switch holds them); 8. portfolio again when they sold anything
    finishCycle(c, nowSec);
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
    closedPositions,
    openManagedPositions: lots.length,
    largestStopGapUsd,
    largestBarLossUsd,
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

  /** The positions as the last portfolio step marked them (what the risk manager reads live). */
  function marksAtLastMark(): PortfolioState["positions"] {
    const marks: PortfolioState["positions"] = {};
    for (const s of held)
      if (quantity[s] > 0) marks[symbols[s].productId] = { quantity: quantity[s], markPrice: markedPrice[s] };
    return marks;
  }
}

/** `size` put on the base grid when float error alone keeps it off (a whole rest after partial legs). */
function onBaseGrid(size: number, increment: number): number {
  const steps = size / increment;
  const whole = Math.round(steps);
  // sums and differences of sizes on the grid drift by a few ulps of the largest of them: 300 ADA
  // less 299.99999999 leaves 0.99999650 of a 1e-8 step; a share of a leg is half a step or so off
  return Math.abs(steps - whole) < 1e-4 ? onGridNumbers(whole, increment, false) : size;
}

/** A resting stop's fill at `price` (taker, no slippage), in the shape of a market fill. */
function stopFill(baseSize: number, price: number, takerFeeBps: number): MarketFillNumbers {
  const { quoteValue, fee, totalQuote } = limitFillNumbers("SELL", baseSize, price, takerFeeBps);
  // a resting stop fills at its price: no slippage, no impact
  const none = 0;
  return { averagePrice: price, baseSize, quoteValue, fee, totalQuote, slippageBps: none, impactBps: none };
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
