/**
 * The domain model of the pipeline, as zod schemas. Every boundary (events, queue messages,
 * DynamoDB items, HTTP bodies) parses through one of these; the TypeScript types are inferred.
 *
 * Conventions: prices and amounts that feed math (candles, features, risk) are JS numbers;
 * amounts that reach an exchange (sizes, prices, fees) are decimal strings, never floats.
 * Times are ISO-8601 UTC strings, except candle `start` (Unix seconds, as Coinbase sends it)
 * and TTL attributes (Unix seconds, as DynamoDB requires).
 */
import { z } from "zod";

/** Version of every queue message body; bump when a message shape changes incompatibly. */
export const SCHEMA_VERSION = 1 as const;

export const ProductId = z
  .string()
  .regex(/^[A-Z0-9]{1,20}-[A-Z]{2,6}$/, "expected a product id such as BTC-USD (BASE-QUOTE, upper case)");
export type ProductId = z.infer<typeof ProductId>;

export const IsoTime = z.iso.datetime({ offset: false });
export const UnixSeconds = z.number().int().nonnegative();
export const DecimalString = z.string().regex(/^-?\d+(\.\d+)?$/, "expected a decimal string such as 100.25");
export type DecimalString = z.infer<typeof DecimalString>;
export const Probability = z.number().min(0).max(1);
const FiniteNumber = z.number().finite();

export const Granularity = z.enum([
  "ONE_MINUTE",
  "FIVE_MINUTE",
  "FIFTEEN_MINUTE",
  "THIRTY_MINUTE",
  "ONE_HOUR",
  "TWO_HOUR",
  "FOUR_HOUR",
  "SIX_HOUR",
  "ONE_DAY",
]);
export type Granularity = z.infer<typeof Granularity>;

export const GRANULARITY_SECONDS: Record<Granularity, number> = {
  ONE_MINUTE: 60,
  FIVE_MINUTE: 300,
  FIFTEEN_MINUTE: 900,
  THIRTY_MINUTE: 1800,
  ONE_HOUR: 3600,
  TWO_HOUR: 7200,
  FOUR_HOUR: 14400,
  SIX_HOUR: 21600,
  ONE_DAY: 86400,
};

export const DataSource = z.enum(["coinbase", "replay"]);
export type DataSource = z.infer<typeof DataSource>;

const candleNumbers = {
  /** bucket open time, Unix seconds */
  start: UnixSeconds,
  open: FiniteNumber.positive(),
  high: FiniteNumber.positive(),
  low: FiniteNumber.positive(),
  close: FiniteNumber.positive(),
  volume: FiniteNumber.nonnegative(),
};
const bracketsOpenAndClose = (c: { open: number; high: number; low: number; close: number }) =>
  c.high >= c.low && c.high >= Math.max(c.open, c.close) && c.low <= Math.min(c.open, c.close);
const BRACKET_MESSAGE = "candle high/low must bracket open and close";

export const Candle = z
  .object({ symbol: ProductId, granularity: Granularity, ...candleNumbers, source: DataSource })
  .refine(bracketsOpenAndClose, { message: BRACKET_MESSAGE });
export type Candle = z.infer<typeof Candle>;

/** The numbers of one candle, the same rules as Candle: what one row of a candle file carries. */
export const CandleNumbers = z
  .object(candleNumbers)
  .refine(bracketsOpenAndClose, { message: BRACKET_MESSAGE });
export type CandleNumbers = z.infer<typeof CandleNumbers>;

/**
 * The rules of CandleNumbers (whole non-negative timestamp, finite positive prices, high/low
 * bracketing open and close, volume >= 0) as one fast test, for hot loops (the CSV parser, the
 * signal window); the schema words the problem when a row fails. A property test holds them equal.
 */
export function isValidCandleNumbers(
  start: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
): boolean {
  return (
    Number.isSafeInteger(start) &&
    start >= 0 &&
    Number.isFinite(high) &&
    Number.isFinite(volume) &&
    open > 0 &&
    close > 0 &&
    low > 0 &&
    volume >= 0 &&
    high >= low &&
    high >= (open > close ? open : close) &&
    low <= (open < close ? open : close)
  );
}

export const SignalType = z.enum(["BUY", "SELL", "HOLD"]);
export type SignalType = z.infer<typeof SignalType>;

export const Regime = z.enum(["TRENDING_UP", "TRENDING_DOWN", "RANGING", "VOLATILE"]);
export type Regime = z.infer<typeof Regime>;

/** One row of the seed's `trading_signals` table, camelCased. */
export const Signal = z.object({
  /** deterministic: same symbol, candle and model version give the same id */
  signalId: z.string().min(1),
  symbol: ProductId,
  granularity: Granularity,
  /** open time of the last closed candle the features were computed from */
  candleStart: UnixSeconds,
  price: FiniteNumber.positive(),
  signalType: SignalType,
  model: z.string().min(1),
  modelVersion: z.string().min(1),
  /** probability of the chosen class (for HOLD: P(hold)) */
  confidence: Probability,
  /** the threshold the chosen class had to beat */
  threshold: Probability,
  probabilities: z.object({ down: Probability, hold: Probability, up: Probability }),
  regime: Regime,
  featuresUsed: z.number().int().positive(),
  /** a handful of named features for humans and the LLM prompt */
  keyFeatures: z.record(z.string(), FiniteNumber),
  dataSource: DataSource,
  processed: z.boolean(),
  createdAt: IsoTime,
  /** DynamoDB TTL, Unix seconds */
  expiresAt: UnixSeconds,
});
export type Signal = z.infer<typeof Signal>;

export const Side = z.enum(["BUY", "SELL"]);
export type Side = z.infer<typeof Side>;

// ---------------------------------------------------------------------------------------------
// Recommendation lifecycle

export const RecommendationStatus = z.enum([
  "PENDING",
  "QUEUED",
  "VALIDATED",
  "RISK_APPROVED",
  "EXECUTING",
  "EXECUTED",
  "REJECTED_BY_LLM",
  "REFUSED_BY_RISK",
  "FAILED",
  "EXPIRED",
  "CANCELLED",
]);
export type RecommendationStatus = z.infer<typeof RecommendationStatus>;

export const StatusChange = z.object({
  from: RecommendationStatus,
  to: RecommendationStatus,
  at: IsoTime,
  reason: z.string().min(1),
});
export type StatusChange = z.infer<typeof StatusChange>;

/** One row of the seed's `trade_recommendations` table, camelCased, plus its audit trail. */
export const Recommendation = z.object({
  recommendationId: z.string().min(1),
  signalId: z.string().min(1),
  symbol: ProductId,
  side: Side,
  amountUsd: FiniteNumber.positive(),
  confidence: Probability,
  reasoning: z.string(),
  status: RecommendationStatus,
  /** why the recommendation is in its current state; required for terminal states */
  statusReason: z.string().min(1),
  entryPrice: FiniteNumber.positive(),
  stopLoss: FiniteNumber.positive().optional(),
  takeProfit: FiniteNumber.positive().optional(),
  positionSizePercent: FiniteNumber.nonnegative().optional(),
  amountCrypto: FiniteNumber.nonnegative().optional(),
  /** amount the risk manager approved (replaces amountUsd for execution) */
  approvedAmountUsd: FiniteNumber.positive().optional(),
  orderId: z.string().optional(),
  clientOrderId: z.string().optional(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  history: z.array(StatusChange),
});
export type Recommendation = z.infer<typeof Recommendation>;

// ---------------------------------------------------------------------------------------------
// Decisions

export const RiskLevel = z.enum(["LOW", "MEDIUM", "HIGH"]);
export type RiskLevel = z.infer<typeof RiskLevel>;

/** What the LLM must answer (forced through Ollama's `format` JSON schema). */
export const LlmVerdict = z.object({
  decision: z.enum(["APPROVE", "REJECT"]),
  confidence: Probability,
  reasoning: z.string().min(1),
  risk_assessment: z.object({
    level: RiskLevel,
    factors: z.array(z.string()),
  }),
});
export type LlmVerdict = z.infer<typeof LlmVerdict>;

export const Validation = z.object({
  recommendationId: z.string().min(1),
  decision: z.enum(["APPROVE", "REJECT"]),
  confidence: Probability,
  reasoning: z.string().min(1),
  riskAssessment: z.object({ level: RiskLevel, factors: z.array(z.string()) }),
  model: z.string().min(1),
  promptVersion: z.string().min(1),
  latencyMs: z.number().nonnegative(),
  rawAnswer: z.string(),
  createdAt: IsoTime,
});
export type Validation = z.infer<typeof Validation>;

export const RiskRefusalReason = z.enum([
  "KILL_SWITCH_ACTIVE",
  "ASSET_CONCENTRATION",
  "TOTAL_EXPOSURE",
  "RISK_PER_TRADE",
  "DAILY_TRADE_LIMIT",
  "DAILY_LOSS_LIMIT",
  "MAX_DRAWDOWN",
  "INSUFFICIENT_DATA",
  "SIZE_BELOW_MINIMUM",
  "NO_POSITION_TO_SELL",
  /** no equity snapshot, or the latest is older than RISK_MAX_SNAPSHOT_AGE_MINUTES: BUYs wait, sells go */
  "PORTFOLIO_STALE",
]);
export type RiskRefusalReason = z.infer<typeof RiskRefusalReason>;

export const RiskDecision = z.object({
  recommendationId: z.string().min(1),
  decision: z.enum(["APPROVE", "REFUSE"]),
  refusals: z.array(z.object({ reason: RiskRefusalReason, detail: z.string() })),
  volatility14d: FiniteNumber.nonnegative(),
  portfolioHeat: FiniteNumber.nonnegative(),
  riskScore: FiniteNumber.min(0).max(100),
  kellyFraction: FiniteNumber,
  requestedAmountUsd: FiniteNumber.positive(),
  adjustedAmountUsd: FiniteNumber.nonnegative(),
  stopLoss: FiniteNumber.positive().optional(),
  takeProfit: FiniteNumber.positive().optional(),
  /** what the executor trades, fixed here once (never recomputed from balances on a retry) */
  order: z
    .object({
      symbol: ProductId,
      side: Side,
      /** BUY: quote currency to spend */
      quoteSize: DecimalString.optional(),
      /** SELL: base currency to sell (at most the position held at decision time) */
      baseSize: DecimalString.optional(),
    })
    .refine((o) => (o.side === "BUY" ? o.quoteSize !== undefined : o.baseSize !== undefined), {
      message: "a BUY is sized in quote (quoteSize), a SELL in base (baseSize)",
    })
    .optional(),
  createdAt: IsoTime,
});
export type RiskDecision = z.infer<typeof RiskDecision>;

// ---------------------------------------------------------------------------------------------
// Execution and books

export const TradingMode = z.enum(["paper", "live"]);
export type TradingMode = z.infer<typeof TradingMode>;

export const OrderStatus = z.enum(["PENDING", "OPEN", "FILLED", "CANCELLED", "EXPIRED", "FAILED"]);
export type OrderStatus = z.infer<typeof OrderStatus>;
export const TERMINAL_ORDER_STATUSES: readonly OrderStatus[] = ["FILLED", "CANCELLED", "EXPIRED", "FAILED"];

export const OrderType = z.enum(["MARKET", "LIMIT"]);
export type OrderType = z.infer<typeof OrderType>;

export const Order = z.object({
  /** deterministic, derived from the recommendation id */
  clientOrderId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
  /** the exchange's id; empty until the exchange accepted the order */
  orderId: z.string(),
  recommendationId: z.string().min(1),
  venue: z.enum(["paper", "coinbase"]),
  symbol: ProductId,
  side: Side,
  type: OrderType,
  quoteSize: DecimalString.optional(),
  baseSize: DecimalString.optional(),
  limitPrice: DecimalString.optional(),
  status: OrderStatus,
  filledSize: DecimalString,
  averageFilledPrice: DecimalString,
  filledValue: DecimalString,
  totalFees: DecimalString,
  failureReason: z.string().optional(),
  /** true once the portfolio applied every fill of this (terminal) order to the positions */
  reconciled: z.boolean().optional(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type Order = z.infer<typeof Order>;

export const Fill = z.object({
  tradeId: z.string().min(1),
  orderId: z.string().min(1),
  clientOrderId: z.string().min(1),
  symbol: ProductId,
  side: Side,
  price: DecimalString,
  size: DecimalString,
  commission: DecimalString,
  liquidity: z.enum(["MAKER", "TAKER"]),
  tradeTime: IsoTime,
});
export type Fill = z.infer<typeof Fill>;

export const Position = z.object({
  symbol: ProductId,
  quantity: DecimalString,
  averageEntryPrice: DecimalString,
  costBasisUsd: DecimalString,
  realizedPnlUsd: DecimalString,
  markPrice: DecimalString,
  marketValueUsd: DecimalString,
  updatedAt: IsoTime,
});
export type Position = z.infer<typeof Position>;

export const EquitySnapshot = z.object({
  at: IsoTime,
  equityUsd: FiniteNumber,
  cashUsd: FiniteNumber,
  positionsValueUsd: FiniteNumber,
  peakEquityUsd: FiniteNumber,
  drawdownPct: FiniteNumber.min(0).max(100),
  dayStartEquityUsd: FiniteNumber,
  dailyPnlUsd: FiniteNumber,
  dailyPnlPct: FiniteNumber,
  tradesToday: z.number().int().nonnegative(),
  /** held assets that could not be marked to market; they count 0 in equity (absent on old items) */
  unpricedAssets: z.number().int().nonnegative().optional(),
});
export type EquitySnapshot = z.infer<typeof EquitySnapshot>;

export const KillSwitch = z.object({
  active: z.boolean(),
  changedBy: z.string().min(1),
  changedAt: IsoTime,
  reason: z.string().min(1),
});
export type KillSwitch = z.infer<typeof KillSwitch>;

// ---------------------------------------------------------------------------------------------
// Queue messages: every body carries schemaVersion; consumers refuse any other version.

const MessageBase = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  recommendationId: z.string().min(1),
  symbol: ProductId,
  sentAt: IsoTime,
});

export const ValidationRequest = MessageBase.extend({ type: z.literal("ValidateRecommendation") });
export type ValidationRequest = z.infer<typeof ValidationRequest>;

export const RiskRequest = MessageBase.extend({ type: z.literal("AssessRisk") });
export type RiskRequest = z.infer<typeof RiskRequest>;

/**
 * Ids only: the executor re-reads the approved risk decision and trades exactly that. `symbol` and
 * `side` are echoes for routing and logs; one that disagrees with the store refuses the message.
 * Any other field (an amount, a price) is dropped at parsing and never read.
 */
export const ExecutionRequest = MessageBase.extend({
  type: z.literal("ExecuteTrade"),
  side: Side,
});
export type ExecutionRequest = z.infer<typeof ExecutionRequest>;

export const QueueMessage = z.discriminatedUnion("type", [ValidationRequest, RiskRequest, ExecutionRequest]);
export type QueueMessage = z.infer<typeof QueueMessage>;
