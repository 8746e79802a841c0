/** What the model says about a product at one candle: BUY, SELL or HOLD, with its evidence. */
import { z } from "zod";
import { DataSource, Granularity } from "./market.js";
import { FiniteNumber, IsoTime, Probability, ProductId, UnixSeconds } from "./primitives.js";

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
