/**
 * Every setting of the pipeline, read from the environment once and validated. The README's
 * configuration table lists the same variables; a wrong value stops the function at init with the
 * variable's name, what was given and what is expected.
 */
import { z } from "zod";
import { Granularity, TradingMode } from "./domain/schemas.js";
import { MAX_LLM_PARALLEL_REQUESTS } from "./queues/validator-capacity.js";

const num = (def: number) => z.coerce.number().finite().default(def);
const fraction = (def: number) => z.coerce.number().min(0).max(1).default(def);

export const ConfigSchema = z.object({
  TRADING_MODE: TradingMode.default("paper"),
  /** comma-separated product ids; empty = the top N USD products by 24h volume */
  SYMBOLS: z
    .string()
    .default("")
    .transform((s) =>
      s
        .split(",")
        .map((x) => x.trim().toUpperCase())
        .filter(Boolean),
    ),
  TOP_N_SYMBOLS: z.coerce.number().int().min(1).max(100).default(20),
  CANDLE_GRANULARITY: Granularity.default("ONE_HOUR"),
  /** candles fetched for a symbol seen for the first time */
  CANDLE_BACKFILL: z.coerce.number().int().min(1).default(720),
  COINBASE_API_BASE_URL: z.url().default("https://api.coinbase.com/api/v3/brokerage"),
  COINBASE_SECRET_ARN: z.string().optional(),
  MODEL_PATH: z.string().default("models/signal-model.onnx"),
  MODEL_CARD_PATH: z.string().default("models/signal-model.card.json"),
  SIGNAL_BUY_THRESHOLD: fraction(0.5),
  SIGNAL_SELL_THRESHOLD: fraction(0.6),
  SIGNAL_TTL_DAYS: num(30),
  BRIDGE_MIN_CONFIDENCE: fraction(0.6),
  RECOMMENDATION_AMOUNT_USD: z.coerce.number().positive().default(100),
  BRIDGE_LOOKBACK_MINUTES: z.coerce.number().int().positive().default(60),
  BRIDGE_QUEUE_WINDOW_MINUTES: z.coerce.number().int().positive().default(120),
  BRIDGE_MAX_PER_CYCLE: z.coerce.number().int().positive().default(3),
  OLLAMA_HOST: z.url().default("http://127.0.0.1:11434"),
  OLLAMA_MODEL: z.string().min(1).default("phi3:3.8b"),
  OLLAMA_TIMEOUT_MS: z.coerce.number().int().positive().default(90_000),
  /** requests Ollama serves side by side; the validator worker takes that many messages at once */
  OLLAMA_NUM_PARALLEL: z.coerce.number().int().min(1).max(MAX_LLM_PARALLEL_REQUESTS).default(1),
  OLLAMA_SEED: z.coerce.number().int().default(42),
  PAPER_STARTING_CASH_USD: z.coerce.number().positive().default(10_000),
  PAPER_SLIPPAGE_BPS: z.coerce.number().min(0).default(5),
  PAPER_TAKER_FEE_BPS: z.coerce.number().min(0).default(60),
  PAPER_MAKER_FEE_BPS: z.coerce.number().min(0).default(40),
  RISK_MAX_ASSET_FRACTION: fraction(0.05),
  RISK_MAX_TOTAL_EXPOSURE: fraction(0.8),
  RISK_MAX_RISK_PER_TRADE: fraction(0.03),
  RISK_MAX_TRADES_PER_DAY: z.coerce.number().int().min(0).default(10),
  RISK_MAX_DAILY_LOSS: fraction(0.05),
  RISK_MAX_DRAWDOWN: fraction(0.15),
  RISK_KELLY_FRACTION: fraction(0.25),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(ConfigSchema.shape).map((k) => [k, env[k] === "" ? undefined : env[k]]),
  );
  const parsed = ConfigSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const key = String(i.path[0]);
    return `${key}=${JSON.stringify(env[key])}: ${i.message}`;
  });
  throw new ConfigError(
    `Invalid configuration: ${problems.join("; ")}. See the configuration table in README.md.`,
  );
}
