/**
 * The position manager (every minute): every open managed position is evaluated against the venue's
 * best bid by the one exit policy (exits/exit-policy.ts), and each exit it decides goes into the
 * execution chain as a SELL recommendation, created RISK_APPROVED: exits skip the LLM (which vets
 * entries) and the risk manager, and nothing (kill switch, drawdown, trade count) blocks or delays
 * them.
 *
 * Never twice:
 * - the exit's id is a pure function of (position, reason, leg, attempt), so a repeated or concurrent
 *   evaluation of the same crossing names the same recommendation and the same client_order_id;
 * - the position's new state (exits issued, CLOSING) is written first, conditional on the version
 *   read: of two managers evaluating at once, one wins, the other re-reads and finds the exit issued;
 * - the winner then stores the exit's decision and recommendation (create-once) and sends it; an exit
 *   recorded on the position whose recommendation is missing (a crash in between) is issued by the
 *   next evaluation, and one left RISK_APPROVED is sent again (the executor is idempotent).
 * An exit that ends FAILED or CANCELLED before any order puts the position back to OPEN; the next
 * evaluation issues it again under the next attempt's id (`-2`, `-3`, ...), up to EXIT_MAX_ATTEMPTS
 * failures; then the position waits for an operator (exits/exit-attempts.ts). An operator's MANUAL
 * exit (steps/manual-exit.ts) is a request recorded on the position that this evaluation issues.
 *
 * The resting stop (EXIT_RESTING_STOP; exits/resting-stop.ts, steps/resting-stops.ts): an OPEN
 * position with no exit in flight and no other exit decided gets a STOP_LIMIT SELL of all of it at
 * the stop in force, issued like any exit (born RISK_APPROVED, executed, reconciled). When the policy
 * decides any exit, the resting stop is cancelled first: only once the venue says it is cancelled
 * with nothing filled does the same conditional write mark it CANCELLED and issue the exits; if any
 * of it filled, nothing is issued (the portfolio step books the fill); if its cancel is still pending,
 * the run skips the position. Never two sells live for the same base. Once the trail rose 0.5R above
 * it, the stop is replaced the same way: cancelled, then placed at the new level.
 */

import { Decimal } from "decimal.js";
import { exitLabel } from "#domain/managed-position.js";
import type {
  ExecutionRequest,
  ManagedPosition,
  PositionExit,
  Recommendation,
  RiskDecision,
} from "#domain/schemas.js";
import type { Exchange, ProductRules } from "#exchange/exchange.js";
import { DEFAULT_MAX_EXIT_ATTEMPTS, operatorHoldOf } from "#exits/exit-attempts.js";
import { type ExitIntent, evaluateExits, type MarketView, stopInForce } from "#exits/exit-policy.js";
import type { ExitSettings } from "#exits/exit-settings.js";
import {
  bookExitFailure,
  exitBaseSize,
  exitIdFor,
  exitStateOf,
  isDust,
  nextAttempt,
  pendingExits,
  unexitedBase,
} from "#exits/position-ledger.js";
import {
  MAX_RESTING_STOP_FAILURES,
  newRestingExit,
  placementOf,
  restingExit,
  restingFailures,
  restingStopLagging,
  restingTerms,
} from "#exits/resting-stop.js";
import { killSwitchFlattens } from "#risk/kill-switch-rules.js";
import type { Log } from "#runtime/log.js";
import type {
  DecisionStore,
  KillSwitchStore,
  ManagedPositionStore,
  RecommendationStore,
  SignalStore,
} from "#store/ports.js";
import { executionRequestFor } from "./assess-recommendation.js";
import { type AwaitingOperator, noteOperatorHold } from "./exit-holds.js";
import { cancelRestingStop, settleRestingStop } from "./resting-stops.js";

export interface PositionManagerDeps {
  managedPositions: ManagedPositionStore;
  recommendations: Pick<RecommendationStore, "create" | "get">;
  decisions: Pick<DecisionStore, "putRiskDecision">;
  signals: Pick<SignalStore, "latestSignalsOfSymbol">;
  killSwitch: Pick<KillSwitchStore, "get">;
  /** the bid and rules; cancelling the resting stop (found by order id, or by client_order_id) */
  exchange: Pick<
    Exchange,
    "getBestBidAsk" | "getProductRules" | "cancelOrder" | "getOrder" | "findOrderByClientOrderId"
  >;
  sendToExecution(message: ExecutionRequest): Promise<void>;
  log: Log;
}

export interface PositionManagerSettings {
  exits: ExitSettings;
  /** an exit still RISK_APPROVED this long after its creation is sent again (its message may never have left) */
  resendAfterMs: number;
  /** failed attempts of one exit before the position waits for an operator (EXIT_MAX_ATTEMPTS; default 5) */
  maxExitAttempts?: number;
  /** rest a protective stop-limit on the venue for every open position (EXIT_RESTING_STOP) */
  restingStops: boolean;
}

export const DEFAULT_RESEND_AFTER_MS = 120_000;

export interface IssuedExit {
  exitId: string;
  positionId: string;
  symbol: string;
  /** TAKE_PROFIT_1, STOP_LOSS, ... */
  label: string;
  baseSize: string;
  triggerPrice: number;
}

export interface PositionManagerReport {
  evaluated: number;
  issued: IssuedExit[];
  /** exits whose recommendation ended FAILED or CANCELLED: the position is OPEN again */
  failedExits: string[];
  /** exits sent again (missing recommendation re-created, or still RISK_APPROVED) */
  resent: string[];
  /** positions closed as dust (less than the product's minimum size left) */
  closedAsDust: string[];
  /** positions waiting for an operator: an exit was refused EXIT_MAX_ATTEMPTS times (alarmed) */
  awaitingOperator: AwaitingOperator[];
  /** evaluations that lost the position to another writer and decided again */
  lostRaces: number;
  /** positions that could not be evaluated this run (the rest went on): retried next minute */
  errors: { positionId: string; symbol: string; error: string }[];
  /** resting stops issued this run (new, or replacing a lower one) */
  restingStopsPlaced: IssuedExit[];
  /** resting stops the venue cancelled with nothing filled (before another exit, or to replace them) */
  restingStopsCancelled: string[];
  /** positions skipped this run: their resting stop is being placed or cancelled, or part of it filled */
  waitingOnRestingStop: string[];
}

function emptyReport(evaluated: number): PositionManagerReport {
  return {
    evaluated,
    issued: [],
    failedExits: [],
    resent: [],
    closedAsDust: [],
    awaitingOperator: [],
    lostRaces: 0,
    errors: [],
    restingStopsPlaced: [],
    restingStopsCancelled: [],
    waitingOnRestingStop: [],
  };
}

/** Signals of a symbol read to find a SELL since the position opened (hourly signals: half a day). */
export const SELL_SIGNALS_READ = 12;
const MAX_EVALUATION_ATTEMPTS = 5;

export async function managePositions(
  deps: PositionManagerDeps,
  settings: PositionManagerSettings,
  now: Date,
): Promise<PositionManagerReport> {
  const report = emptyReport(0);
  const positions = await deps.managedPositions.openPositions();
  if (positions.length === 0) return report;
  const kill = await deps.killSwitch.get();
  // a drawdown halt always closes every position; any other pause only with KILL_SWITCH_FLATTEN
  const flatten = killSwitchFlattens(kill, settings.exits.flattenOnKillSwitch);
  const market = new Map<string, Promise<MarketView>>();
  const sellSignals = new Map<string, Promise<string[]>>();
  const rules = new Map<string, Promise<ProductRules>>();
  const rulesOf = (symbol: string) => {
    if (!rules.has(symbol)) rules.set(symbol, deps.exchange.getProductRules(symbol));
    return rules.get(symbol)!;
  };
  const marketOf = (symbol: string) => {
    if (!market.has(symbol)) market.set(symbol, bidView(deps, symbol, now));
    return market.get(symbol)!;
  };
  const sellSignalTimes = (symbol: string) => {
    if (!sellSignals.has(symbol)) sellSignals.set(symbol, sellSignalsOf(deps, symbol));
    return sellSignals.get(symbol)!;
  };

  for (const position of positions) {
    try {
      await manageOne(deps, settings, report, position, { flatten, marketOf, sellSignalTimes, rulesOf }, now);
      report.evaluated++;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      report.errors.push({ positionId: position.positionId, symbol: position.symbol, error: message });
      deps.log.error("position not evaluated; the next run tries again", {
        correlationId: position.positionId,
        symbol: position.symbol,
        error: message,
      });
    }
  }
  return report;
}

/**
 * One position evaluated at once, as the every-minute run evaluates it (an operator's MANUAL exit
 * or cleared hold acts in the same invocation). Concurrent with a scheduled run, the version check
 * makes one of them issue, under the same ids.
 */
export async function manageOnePosition(
  deps: PositionManagerDeps,
  settings: PositionManagerSettings,
  position: ManagedPosition,
  now: Date,
): Promise<PositionManagerReport> {
  const report = emptyReport(1);
  const flatten = killSwitchFlattens(await deps.killSwitch.get(), settings.exits.flattenOnKillSwitch);
  const inputs: Inputs = {
    flatten,
    rulesOf: (symbol) => deps.exchange.getProductRules(symbol),
    marketOf: (symbol) => bidView(deps, symbol, now),
    sellSignalTimes: (symbol) => sellSignalsOf(deps, symbol),
  };
  await manageOne(deps, settings, report, position, inputs, now);
  return report;
}

interface Inputs {
  flatten: boolean;
  rulesOf(symbol: string): Promise<Pick<ProductRules, "baseMinSize" | "priceIncrement">>;
  marketOf(symbol: string): Promise<MarketView>;
  sellSignalTimes(symbol: string): Promise<string[]>;
}

async function manageOne(
  deps: PositionManagerDeps,
  settings: PositionManagerSettings,
  report: PositionManagerReport,
  initial: ManagedPosition,
  inputs: Inputs,
  now: Date,
): Promise<void> {
  let position: ManagedPosition | undefined = initial;
  for (let attempt = 0; attempt < MAX_EVALUATION_ATTEMPTS; attempt++) {
    if (!position || position.status === "CLOSED") return;
    const rules = await inputs.rulesOf(position.symbol);

    // 1. the exits already issued: settle the failed ones, issue or re-send the ones that never left
    let settled = position;
    for (const exit of pendingExits(position)) {
      const rec = await deps.recommendations.get(exit.exitId);
      if (!rec) {
        await issueExit(deps, settled, exit, now);
        report.resent.push(exit.exitId);
      } else if (rec.status === "FAILED" || rec.status === "CANCELLED") {
        settled = bookExitFailure(settled, exit.exitId, rules.baseMinSize, now);
        report.failedExits.push(exit.exitId);
        deps.log.error("exit failed; the position is open again and the exit will be issued anew", {
          correlationId: exit.exitId,
          positionId: position.positionId,
          reason: rec.statusReason,
        });
      } else if (
        rec.status === "RISK_APPROVED" &&
        now.getTime() - Date.parse(rec.updatedAt) >= settings.resendAfterMs
      ) {
        await deps.sendToExecution(executionRequestFor(rec, now));
        report.resent.push(exit.exitId);
      }
    }

    // 1b. the resting stop: settle a refused placement, issue or re-send one that never left
    const resting = await settleRestingStop(deps, settled, now, settings.resendAfterMs);
    if (resting.kind === "failed") {
      settled = resting.position;
      report.failedExits.push(resting.exitId);
    } else if (resting.kind === "reissue") {
      await issueExit(deps, settled, resting.exit, now);
      report.resent.push(resting.exit.exitId);
    } else if (resting.kind === "resend") {
      const rec = await deps.recommendations.get(resting.exit.exitId);
      if (rec) await deps.sendToExecution(executionRequestFor(rec, now));
      report.resent.push(resting.exit.exitId);
    }

    // 2. dust: nothing the venue would take is left to sell
    const next = { ...settled };
    if (pendingExits(next).length === 0 && !restingExit(next) && isDust(next.quantity, rules.baseMinSize)) {
      const closed: ManagedPosition = { ...next, status: "CLOSED", closedAt: now.toISOString() };
      if (await deps.managedPositions.update(closed, position.version)) {
        report.closedAsDust.push(position.positionId);
        deps.log.warn("managed position closed: what is left is below the product's minimum size", {
          correlationId: position.positionId,
          quantity: next.quantity,
          baseMinSize: rules.baseMinSize,
        });
        return;
      }
      report.lostRaces++;
      position = await deps.managedPositions.get(position.positionId);
      continue;
    }

    // 3. an exit refused EXIT_MAX_ATTEMPTS times: no automatic exit until an operator acts
    const held = operatorHoldOf(next, settings.maxExitAttempts ?? DEFAULT_MAX_EXIT_ATTEMPTS, now);
    if (held) {
      const changed = settled !== position || held.newlyHeld;
      if (changed && !(await deps.managedPositions.update(held.position, position.version))) {
        report.lostRaces++;
        position = await deps.managedPositions.get(position.positionId);
        continue;
      }
      noteOperatorHold(deps.log, report, held.position, held.hold, held.newlyHeld);
      return;
    }

    // 4. the policy on the bid
    const market = await inputs.marketOf(next.symbol);
    const sellSignal =
      settings.exits.exitOnSellSignal &&
      (await inputs.sellSignalTimes(next.symbol)).some((at) => at > next.openedAt);
    const state = exitStateOf(next);
    const context = { sellSignal, flatten: inputs.flatten, manual: next.manualExit !== undefined };
    const evaluation = evaluateExits(state, market, context, settings.exits);
    const at = now.toISOString();
    // one after the other: a whole rest is what the earlier intents of this evaluation left
    let withIssued = next;
    const issued: PositionExit[] = [];
    for (const intent of evaluation.intents) {
      const rest = exitStateOf(withIssued).quantity;
      const exit = exitOf(withIssued, intent, intent.quantity >= rest * (1 - 1e-9), at);
      issued.push(exit);
      withIssued = { ...withIssued, exits: [...withIssued.exits, exit] };
    }
    const after: ManagedPosition = {
      ...next,
      status: issued.length > 0 && !(evaluation.state.quantity > 0) ? "CLOSING" : next.status,
      highWaterMark: evaluation.state.highWaterMark,
      ...(Number.isFinite(evaluation.state.trailingStop)
        ? { trailingStop: evaluation.state.trailingStop }
        : {}),
      targetsHit: evaluation.state.targetsHit,
      evaluatedAt: at,
      exits: [...next.exits, ...issued],
    };
    if (pendingExits(after).length === 0 && after.status === "CLOSING") after.status = "OPEN";

    // 5. the resting stop: off the venue before any other sell; placed or raised when nothing else sells
    const live = restingExit(after);
    const stopLevel = stopInForce(evaluation.state);
    let placed: PositionExit | undefined;
    let cancelled: string | undefined;
    if (
      live &&
      (issued.length > 0 || (settings.restingStops && restingStopLagging(live, stopLevel, after.riskPerUnit)))
    ) {
      const outcome = await cancelRestingStop(deps, after.symbol, live);
      if (outcome !== "cancelled" && issued.length > 0) {
        // pending: the next run decides again; filled: the portfolio step books it, nothing else sells
        report.waitingOnRestingStop.push(position.positionId);
        if (settled === position) return;
        // keep a settlement of this run (a failed exit), without the exits that wait for the stop
        Object.assign(after, {
          exits: settled.exits,
          status: settled.status,
          targetsHit: settled.targetsHit,
        });
        issued.length = 0;
      } else if (outcome === "cancelled") {
        cancelled = live.exitId;
        after.exits = after.exits.map((e) =>
          e.exitId === live.exitId ? { ...e, outcome: "CANCELLED" as const } : e,
        );
      }
    }
    if (
      settings.restingStops &&
      issued.length === 0 &&
      after.status === "OPEN" &&
      !restingExit(after) &&
      pendingExits(after).length === 0 &&
      restingFailures(after) < MAX_RESTING_STOP_FAILURES &&
      !isDust(unexitedBase(after).toFixed(), rules.baseMinSize) &&
      (cancelled !== undefined || !live)
    ) {
      const terms = restingTerms(stopLevel, rules.priceIncrement, settings.exits.stopLimitOffset);
      placed = newRestingExit(after, stopLevel, terms, unexitedBase(after).toFixed(), at);
      after.exits = [...after.exits, placed];
    }

    if (!(await deps.managedPositions.update(after, position.version))) {
      // another manager (or the portfolio step) wrote first: decide again on what it wrote
      report.lostRaces++;
      position = await deps.managedPositions.get(position.positionId);
      continue;
    }
    if (cancelled) report.restingStopsCancelled.push(cancelled);
    for (const exit of issued) {
      await issueExit(deps, after, exit, now);
      report.issued.push(issuedOf(after, exit));
      deps.log.info("exit issued", {
        correlationId: exit.exitId,
        positionId: after.positionId,
        reason: exitLabel(exit.reason, exit.leg),
        baseSize: exit.baseSize,
        triggerPrice: exit.triggerPrice,
        stopInForce: stopInForce(state),
      });
    }
    if (placed) {
      await issueExit(deps, after, placed, now);
      report.restingStopsPlaced.push(issuedOf(after, placed));
      deps.log.info(cancelled ? "resting stop raised" : "resting stop placed", {
        correlationId: placed.exitId,
        positionId: after.positionId,
        baseSize: placed.baseSize,
        ...placed.resting,
        replaces: cancelled,
      });
    }
    return;
  }
  throw new Error(
    `managed position ${initial.positionId}: other writers changed it ${MAX_EVALUATION_ATTEMPTS} times during this evaluation; the next run evaluates it again`,
  );
}

function issuedOf(position: ManagedPosition, exit: PositionExit): IssuedExit {
  return {
    exitId: exit.exitId,
    positionId: position.positionId,
    symbol: position.symbol,
    label: exit.resting ? "RESTING_STOP" : exitLabel(exit.reason, exit.leg),
    baseSize: exit.baseSize,
    triggerPrice: exit.triggerPrice,
  };
}

function exitOf(position: ManagedPosition, intent: ExitIntent, wholeRest: boolean, at: string): PositionExit {
  const attempt = nextAttempt(position, intent.reason, intent.leg);
  return {
    exitId: exitIdFor(position.positionId, intent.reason, intent.leg, attempt),
    reason: intent.reason,
    leg: intent.leg,
    baseSize: exitBaseSize(position, intent.quantity, wholeRest),
    triggerPrice: intent.price,
    at,
  };
}

/**
 * Puts one exit into the execution chain: its decision (the order it fixes), its recommendation
 * (born RISK_APPROVED), then the execution message. Each write is create-once, and only the delivery
 * that created the recommendation sends, so a repeat sends nothing new.
 */
export async function issueExit(
  deps: Pick<PositionManagerDeps, "recommendations" | "decisions" | "sendToExecution">,
  position: ManagedPosition,
  exit: PositionExit,
  now: Date,
): Promise<void> {
  const entry = await deps.recommendations.get(position.positionId);
  const { decision, recommendation } = exitRecords(
    position,
    exit,
    entry?.signalId ?? position.positionId,
    now,
  );
  await deps.decisions.putRiskDecision(decision);
  if (await deps.recommendations.create(recommendation)) {
    await deps.sendToExecution(executionRequestFor(recommendation, now));
  }
}

/** The exit's risk decision (decided by the exit policy, never refused) and its recommendation. */
export function exitRecords(
  position: ManagedPosition,
  exit: PositionExit,
  signalId: string,
  now: Date,
): { decision: RiskDecision; recommendation: Recommendation } {
  const at = now.toISOString();
  const label = exitLabel(exit.reason, exit.leg);
  const amountUsd = new Decimal(exit.baseSize).mul(exit.triggerPrice).toNumber();
  const attempt = exit.resting ? placementOf(position, exit.exitId) : attemptOf(position, exit);
  const why = exit.resting
    ? `resting stop ${attempt} by the position manager: sell ${exit.baseSize} ${position.symbol} of position ` +
      `${position.positionId} (entry ${position.entryPrice}) once the price falls to ${exit.resting.stopPrice}, ` +
      `at ${exit.resting.limitPrice} or better (stop in force ${exit.triggerPrice})`
    : `exit ${label} by the position manager: ${whyOf(position, exit)}; ` +
      `sell ${exit.baseSize} ${position.symbol} of position ${position.positionId} (entry ${position.entryPrice})` +
      (attempt > 1 ? `, attempt ${attempt}` : "");
  const decision: RiskDecision = {
    recommendationId: exit.exitId,
    decision: "APPROVE",
    refusals: [],
    volatility14d: 0,
    portfolioHeat: 0,
    riskScore: 0,
    kellyFraction: 0,
    requestedAmountUsd: amountUsd,
    adjustedAmountUsd: amountUsd,
    order: {
      symbol: position.symbol,
      side: "SELL",
      baseSize: exit.baseSize,
      ...(exit.resting ? { stopPrice: exit.resting.stopPrice, limitPrice: exit.resting.limitPrice } : {}),
    },
    decidedBy: "exit-policy",
    createdAt: at,
  };
  const recommendation: Recommendation = {
    recommendationId: exit.exitId,
    signalId,
    symbol: position.symbol,
    side: "SELL",
    amountUsd,
    confidence: 1,
    reasoning: why,
    status: "RISK_APPROVED",
    statusReason: why,
    entryPrice: exit.triggerPrice,
    approvedAmountUsd: amountUsd,
    amountCrypto: Number(exit.baseSize),
    exit: {
      positionId: position.positionId,
      reason: exit.reason,
      leg: exit.leg,
      attempt,
      ...(exit.resting ? { resting: true } : {}),
    },
    createdAt: at,
    updatedAt: at,
    // an exit is born approved: its first entry says so (from and to are both RISK_APPROVED)
    history: [{ from: "RISK_APPROVED", to: "RISK_APPROVED", at, reason: why }],
  };
  return { decision, recommendation };
}

/** The exit's attempt: 1 + the earlier exits of the same reason and leg on the position. */
function attemptOf(position: ManagedPosition, exit: PositionExit): number {
  const same = position.exits.filter(
    (e) => e.reason === exit.reason && e.leg === exit.leg && e.resting === undefined,
  );
  const index = same.findIndex((e) => e.exitId === exit.exitId);
  return index >= 0 ? index + 1 : same.length + 1;
}

function whyOf(position: ManagedPosition, exit: PositionExit): string {
  const price = exit.triggerPrice;
  switch (exit.reason) {
    case "STOP_LOSS":
      return `the bid reached the stop ${position.stopLoss} (at ${price})`;
    case "TRAILING_STOP":
      return `the bid reached the trailing stop ${position.trailingStop ?? price} (high ${position.highWaterMark}, at ${price})`;
    case "TAKE_PROFIT":
      return `the bid reached target ${exit.leg} at ${price}`;
    case "TIME_LIMIT":
      return `the time limit ${position.expiresAt} passed (bid ${price})`;
    case "SIGNAL":
      return `a SELL signal for ${position.symbol} since the entry (bid ${price})`;
    case "KILL_SWITCH":
      return `the kill switch is on and KILL_SWITCH_FLATTEN sells every position (bid ${price})`;
    case "MANUAL":
      return `${position.manualExit?.by ?? "an operator"} asked to sell: ${position.manualExit?.reason ?? "by hand"} (bid ${price})`;
  }
}

/** The venue's best bid as the policy's market: what a SELL would get now. */
async function bidView(
  deps: Pick<PositionManagerDeps, "exchange">,
  symbol: string,
  now: Date,
): Promise<MarketView> {
  const quote = await deps.exchange.getBestBidAsk(symbol);
  const bid = Number(quote.bid);
  if (!(bid > 0 && bid < Number.POSITIVE_INFINITY))
    throw new Error(`the venue's best bid for ${symbol} is "${quote.bid}", not a price to evaluate exits on`);
  return { high: bid, low: bid, close: bid, atMs: now.getTime() };
}

/** When the symbol's latest SELL signals were created (newest first). */
async function sellSignalsOf(deps: Pick<PositionManagerDeps, "signals">, symbol: string): Promise<string[]> {
  const signals = await deps.signals.latestSignalsOfSymbol(symbol, SELL_SIGNALS_READ);
  return signals.filter((s) => s.signalType === "SELL").map((s) => s.createdAt);
}
