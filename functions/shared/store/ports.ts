/**
 * The store's ports: what the domain needs from persistence, with no DynamoDB in sight.
 * `dynamo/*.ts` implements them on DynamoDB; tests and the backtester can implement them in memory.
 */
import { canTransition } from "#domain/recommendation-lifecycle.js";
import type {
  Candle,
  EquitySnapshot,
  Fill,
  Granularity,
  KillSwitch,
  ManagedPosition,
  Order,
  Position,
  Recommendation,
  RecommendationStatus,
  RiskDecision,
  Signal,
  Validation,
} from "#domain/schemas.js";

export interface CandleStore {
  /** Idempotent: a candle is keyed by symbol, granularity and start; writing it again overwrites it. */
  putCandles(candles: readonly Candle[]): Promise<{ written: number }>;
  /** Newest `limit` candles, returned oldest first. */
  latestCandles(symbol: string, granularity: Granularity, limit: number): Promise<Candle[]>;
  latestCandleStart(symbol: string, granularity: Granularity): Promise<number | undefined>;
  candlesBetween(
    symbol: string,
    granularity: Granularity,
    fromStart: number,
    toStart: number,
  ): Promise<Candle[]>;
}

export interface SignalStore {
  /** Idempotent on signalId. Returns false when the signal already existed. */
  putSignal(signal: Signal): Promise<boolean>;
  getSignal(signalId: string): Promise<Signal | undefined>;
  /** All signals created at or after `since` (any symbol), newest first. */
  signalsSince(since: Date, now: Date): Promise<Signal[]>;
  latestSignalsOfSymbol(symbol: string, limit: number): Promise<Signal[]>;
  markProcessed(signalId: string): Promise<void>;
}

export interface TransitionResult {
  /** false when the recommendation was already in the target state (a repeat: nothing written) */
  changed: boolean;
  recommendation: Recommendation;
}

export interface RecommendationStore {
  /** Creates the recommendation unless one with the same id exists; returns whether it created it. */
  create(recommendation: Recommendation): Promise<boolean>;
  get(recommendationId: string): Promise<Recommendation | undefined>;
  /**
   * Moves a recommendation from `from` to `to` with a conditional write.
   * Repeating a transition that already happened is a no-op ({changed:false}).
   * An illegal move (not in the state machine, or the item is in another state) throws
   * IllegalTransitionError; a missing item throws RecommendationNotFoundError.
   */
  transition(
    recommendationId: string,
    from: RecommendationStatus,
    to: RecommendationStatus,
    reason: string,
    now: Date,
    patch?: Partial<
      Pick<
        Recommendation,
        | "stopLoss"
        | "takeProfit"
        | "positionSizePercent"
        | "amountCrypto"
        | "approvedAmountUsd"
        | "orderId"
        | "clientOrderId"
        | "reasoning"
      >
    >,
  ): Promise<TransitionResult>;
  /**
   * Takes one of `max` validation slots of a bridge cycle (conditional counter): how the per-cycle cap
   * holds when two bridges run the same cycle at once (a schedule delivered twice). False when full.
   */
  reserveValidationSlot(cycle: string, max: number): Promise<boolean>;
  /** Gives back a slot whose recommendation another actor moved first. */
  releaseValidationSlot(cycle: string): Promise<void>;
  /** Recommendations in `status` created in [from, to], both ends included (DynamoDB BETWEEN), newest first. */
  byStatusCreatedBetween(status: RecommendationStatus, from: Date, to: Date): Promise<Recommendation[]>;
  /** Recommendations in `status` created before `before`, oldest first. */
  byStatusCreatedBefore(
    status: RecommendationStatus,
    before: Date,
    limit?: number,
  ): Promise<Recommendation[]>;
}

export interface DecisionStore {
  /** Stores the validation once; returns the stored one (the existing one on a repeat). */
  putValidation(validation: Validation): Promise<{ created: boolean; validation: Validation }>;
  getValidation(recommendationId: string): Promise<Validation | undefined>;
  putRiskDecision(decision: RiskDecision): Promise<{ created: boolean; decision: RiskDecision }>;
  getRiskDecision(recommendationId: string): Promise<RiskDecision | undefined>;
}

export interface OrderStore {
  /** Creates the order record unless one with this clientOrderId exists; returns the stored one. */
  putOrderIfAbsent(order: Order): Promise<{ created: boolean; order: Order }>;
  getOrder(clientOrderId: string): Promise<Order | undefined>;
  /** Writes what the exchange says of the order (the truth; unconditional but for existence). */
  updateOrder(order: Order): Promise<void>;
  /**
   * Records a refusal on an order that was never placed: only while the record is PENDING with no
   * exchange order id, so a local refusal never overwrites a placed order. Returns the stored order.
   */
  failOrderIfUnplaced(
    clientOrderId: string,
    reason: string,
    now: Date,
  ): Promise<{ changed: boolean; order: Order | undefined }>;
  /** Orders still working, or finished but not yet reconciled into the positions, oldest first. */
  openOrders(): Promise<Order[]>;
  putFill(fill: Fill): Promise<boolean>;
  fillsOf(clientOrderId: string): Promise<Fill[]>;
}

/** Exposure the risk manager approved that the books do not show yet (the order is not reconciled). */
export interface Reservation {
  recommendationId: string;
  symbol: string;
  side: "BUY" | "SELL";
  amountUsd: number;
  createdAt: string;
}

export interface PortfolioStore {
  getPositions(): Promise<Position[]>;
  putPosition(position: Position): Promise<void>;
  putEquitySnapshot(snapshot: EquitySnapshot): Promise<void>;
  latestEquitySnapshot(): Promise<EquitySnapshot | undefined>;
  equityHistory(from: Date, to: Date): Promise<EquitySnapshot[]>;
  /** Records an approval: a reservation of exposure and one more trade on `day` (yyyy-mm-dd, UTC). Idempotent per recommendation. */
  recordApproval(reservation: Reservation, day: string): Promise<void>;
  reservations(): Promise<Reservation[]>;
  releaseReservation(recommendationId: string): Promise<void>;
  /** Trades the risk manager approved on `day` (yyyy-mm-dd, UTC). */
  approvalsOn(day: string): Promise<number>;
}

/** An automatic trip as KillSwitchStore.set records it: the limit broken and when it lifts itself. */
export interface KillSwitchTripRecord {
  kind: "DAILY_LOSS" | "DRAWDOWN";
  resumeAt: Date | undefined;
}

export interface KillSwitchStore {
  get(): Promise<KillSwitch>;
  /**
   * Sets the switch and appends an audit entry (who, when, why). `trip`: an automatic trip, the
   * limit it broke and when it lifts itself (the portfolio step lifts it); an operator's change
   * carries none. `peakResetAt`: an operator's resume that starts a new equity peak (KillSwitch).
   */
  set(
    active: boolean,
    changedBy: string,
    reason: string,
    now: Date,
    trip?: KillSwitchTripRecord,
    options?: { peakResetAt?: Date },
  ): Promise<KillSwitch>;
  auditTrail(limit: number): Promise<KillSwitch[]>;
}

/**
 * The managed positions the exit policy watches (one per filled entry; positionId = the entry
 * recommendation's id). Every change after the creation is an optimistic write on `version`, so two
 * position managers (a schedule delivered twice) or the manager and the portfolio step never both
 * act on the same state: the loser re-reads and decides again.
 */
export interface ManagedPositionStore {
  /** Creates the position unless one with its id exists; returns the stored one (the existing one on a repeat). */
  open(position: ManagedPosition): Promise<{ created: boolean; position: ManagedPosition }>;
  get(positionId: string): Promise<ManagedPosition | undefined>;
  /** Positions OPEN or CLOSING (the ones the position manager and the reconciliation act on). */
  openPositions(): Promise<ManagedPosition[]>;
  /**
   * Writes `position` if the stored version is still `expectedVersion`, storing version
   * expectedVersion + 1. False (nothing written) when someone else wrote first: re-read and decide again.
   */
  update(position: ManagedPosition, expectedVersion: number): Promise<boolean>;
  /** Every managed position, open or closed (reports and summaries; not read by a pipeline step every cycle). */
  allPositions(): Promise<ManagedPosition[]>;
}

/** Every store the pipeline steps use: what `createStores` (DynamoDB) and `createMemoryStores` both return. */
export interface Stores {
  candles: CandleStore;
  signals: SignalStore;
  recommendations: RecommendationStore;
  decisions: DecisionStore;
  orders: OrderStore;
  portfolio: PortfolioStore;
  killSwitch: KillSwitchStore;
  managedPositions: ManagedPositionStore;
}

export class IllegalTransitionError extends Error {
  override readonly name = "IllegalTransitionError";
  constructor(
    readonly recommendationId: string,
    readonly from: RecommendationStatus,
    readonly to: RecommendationStatus,
    readonly actual: RecommendationStatus | undefined,
  ) {
    super(
      `Recommendation ${recommendationId}: cannot move ${from} → ${to}` +
        (actual && actual !== from ? ` because it is ${actual}` : " (not a move of the lifecycle)") +
        ". Check docs/ARCHITECTURE.md for the state machine; a repeated message for a finished recommendation needs no action.",
    );
  }
}

/**
 * What every RecommendationStore checks before a transition reads or writes anything: the move is
 * one of the lifecycle, and it has a reason.
 */
export function checkTransitionRequest(
  recommendationId: string,
  from: RecommendationStatus,
  to: RecommendationStatus,
  reason: string,
): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(recommendationId, from, to, undefined);
  if (!reason.trim()) throw new Error(`A transition of ${recommendationId} to ${to} needs a reason.`);
}

export class RecommendationNotFoundError extends Error {
  override readonly name = "RecommendationNotFoundError";
  constructor(readonly recommendationId: string) {
    super(
      `Recommendation ${recommendationId} does not exist in the recommendations table. ` +
        "Check RECOMMENDATIONS_TABLE points at the table the bridge writes to.",
    );
  }
}
