/**
 * Every setting of the pipeline, read from the environment once and validated. The README's
 * configuration table lists the same variables; a wrong value stops the function at init with the
 * variable's name, what was given and what is expected.
 *
 * Fail closed: an unset or empty variable takes its default; surrounding whitespace is ignored; a
 * value of only whitespace, a number that is not plain decimal text (`Number(" ")` is 0,
 * `Number("0x10")` is 16), a URL that is not http(s), and any value outside the variable's domain
 * is an error. Values are echoed in errors, so no secret may ever be read through this schema.
 */
import { z } from "zod";
import {
  DEFAULT_BRIDGE_SETTINGS as BRIDGE,
  DEFAULT_DECISION_THRESHOLDS,
  DEFAULT_GRANULARITY,
  DEFAULT_PRICE_BAND,
  DEFAULT_SIGNAL_TTL_DAYS,
  DEFAULT_EXIT_SETTINGS as EXITS,
  DEFAULT_KILL_SWITCH_SETTINGS as KILL_SWITCH,
  DEFAULT_PAPER_ACCOUNT as PAPER,
} from "./defaults.js";
import { Granularity, ProductId, TradingMode } from "./domain/schemas.js";
import { formatLadder, parseLadder } from "./exits/exit-settings.js";
import { MAX_LLM_PARALLEL_REQUESTS } from "./queues/validator-capacity.js";
import { DEFAULT_RISK_LIMITS as RISK } from "./risk/limits.js";
import { DEFAULT_MAX_EVENT_AGE_MINUTES } from "./runtime/lambda-events.js";

/** Plain decimal text, optionally with an exponent: no blanks, hex, "Infinity" or "NaN". */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A number read from decimal text that `inDomain` accepts; `expected` says what that is. */
function numberSetting(def: number, expected: string, inDomain: (n: number) => boolean) {
  return z
    .string()
    .trim()
    .refine((s) => DECIMAL.test(s) && Number.isFinite(Number(s)) && inDomain(Number(s)), {
      error: `expected ${expected} (default ${def})`,
    })
    .transform(Number)
    .default(def);
}

const wholeNumber = (def: number, min: number, max: number) =>
  numberSetting(
    def,
    `a whole number from ${min} to ${max}`,
    (n) => Number.isInteger(n) && n >= min && n <= max,
  );
const positive = (def: number) => numberSetting(def, "a number above 0", (n) => n > 0);
/** a probability threshold or a share of equity: (0, 1] */
const fraction = (def: number) =>
  numberSetting(def, "a fraction above 0 and at most 1, such as 0.05 for 5%", (n) => n > 0 && n <= 1);
/** a loss limit: (0, 1), since a limit of 100% never trips */
const lossLimit = (def: number) =>
  numberSetting(def, "a fraction above 0 and below 1, such as 0.15 for 15%", (n) => n > 0 && n < 1);
/** paper costs, in basis points of the trade's value: at most 10% */
const basisPoints = (def: number) =>
  numberSetting(def, "basis points from 0 to 1000 (10%)", (n) => n >= 0 && n <= 1000);
/** the longest timer Node can set; a longer one fires at once */
const MAX_TIMER_MS = 2_147_483_647;

const httpUrl = (def: string) =>
  z
    .string()
    .trim()
    .pipe(z.url({ protocol: /^https?$/, error: `expected an http:// or https:// URL (default ${def})` }))
    .default(def);

const text = (def: string, pattern: RegExp, expected: string) =>
  z
    .string()
    .trim()
    .regex(pattern, { error: `expected ${expected} (default ${def})` })
    .default(def);

/** `true` or `false` (any case); anything else (1, yes, on) is a typo, not a choice. */
const flag = (def: boolean) =>
  z
    .string()
    .trim()
    .refine((s) => /^(true|false)$/i.test(s), { error: `expected true or false (default ${def})` })
    .transform((s) => s.toLowerCase() === "true")
    .default(def);

/** The take-profit ladder as text, `atR:share` pairs ("1:0.5,2:0.5"), or "none"; exitSettingsFrom parses it. */
const ladderText = (def: string) =>
  z
    .string()
    .trim()
    .superRefine((s, ctx) => {
      const parsed = parseLadder(s);
      if ("problem" in parsed)
        ctx.addIssue({
          code: "custom",
          message: `${parsed.problem}: expected atR:share pairs with rising targets and shares adding up to at most 1, such as 1:0.5,2:0.5, or none (default ${def})`,
        });
    })
    .default(def);

/** Comma-separated USD product ids: each BASE-USD, none twice, no empty item. */
const symbolList = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const symbols = s.split(",").map((x) => x.trim().toUpperCase());
    const problems: string[] = [];
    symbols.forEach((symbol, i) => {
      if (symbol === "") problems.push(`item ${i + 1} is empty`);
      else if (!ProductId.safeParse(symbol).success || !symbol.endsWith("-USD"))
        problems.push(`"${symbol}" is not a USD product id`);
      else if (symbols.indexOf(symbol) < i) problems.push(`"${symbol}" is listed twice`);
    });
    if (problems.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `${problems.join(", ")}: expected comma-separated Coinbase USD products such as BTC-USD,ETH-USD (the pipeline keeps cash, sizes and P&L in USD), or leave it empty for the top TOP_N_SYMBOLS`,
      });
      return z.NEVER;
    }
    return symbols;
  })
  .default([]);

export const ConfigSchema = z.object({
  TRADING_MODE: z.string().trim().pipe(TradingMode).default("paper"),
  /** comma-separated product ids; empty = the top N USD products by 24h volume */
  SYMBOLS: symbolList,
  TOP_N_SYMBOLS: wholeNumber(20, 1, 100),
  CANDLE_GRANULARITY: z.string().trim().pipe(Granularity).default(DEFAULT_GRANULARITY),
  /** candles fetched for a symbol seen for the first time; ingest fetches at most 5000 a run */
  CANDLE_BACKFILL: wholeNumber(720, 1, 5000),
  /** scheduled handlers refuse an event stamped longer ago than this (or over 5 minutes ahead) */
  SCHEDULED_EVENT_MAX_AGE_MINUTES: wholeNumber(DEFAULT_MAX_EVENT_AGE_MINUTES, 1, 1440),
  COINBASE_API_BASE_URL: httpUrl("https://api.coinbase.com/api/v3/brokerage"),
  COINBASE_SECRET_ARN: z
    .string()
    .trim()
    .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/, {
      error:
        "expected the ARN of a Secrets Manager secret, such as arn:aws:secretsmanager:us-east-1:123456789012:secret:coinbase-AbCdEf",
    })
    .optional(),
  /** local runs: path of a CDP key file, instead of COINBASE_SECRET_ARN (never both) */
  COINBASE_KEY_FILE: z.string().trim().min(1, "expected the path of a CDP key file").optional(),
  MODEL_PATH: text("models/signal-model.onnx", /^\S(?:.*\S)?\.onnx$/, "the path of an .onnx file"),
  MODEL_CARD_PATH: text(
    "models/signal-model.card.json",
    /^\S(?:.*\S)?\.json$/,
    "the path of a .json model card",
  ),
  SIGNAL_BUY_THRESHOLD: fraction(DEFAULT_DECISION_THRESHOLDS.buy),
  SIGNAL_SELL_THRESHOLD: fraction(DEFAULT_DECISION_THRESHOLDS.sell),
  SIGNAL_TTL_DAYS: positive(DEFAULT_SIGNAL_TTL_DAYS),
  BRIDGE_MIN_CONFIDENCE: fraction(BRIDGE.minConfidence),
  RECOMMENDATION_AMOUNT_USD: positive(BRIDGE.amountUsd),
  BRIDGE_LOOKBACK_MINUTES: wholeNumber(BRIDGE.lookbackMinutes, 1, 10_080),
  BRIDGE_QUEUE_WINDOW_MINUTES: wholeNumber(BRIDGE.queueWindowMinutes, 1, 10_080),
  BRIDGE_MAX_PER_CYCLE: wholeNumber(BRIDGE.maxPerCycle, 1, 1000),
  OLLAMA_HOST: httpUrl("http://127.0.0.1:11434"),
  OLLAMA_MODEL: text("phi3:3.8b", /^[A-Za-z0-9][A-Za-z0-9._/:-]*$/, "an Ollama model name such as phi3:3.8b"),
  OLLAMA_TIMEOUT_MS: wholeNumber(90_000, 1, MAX_TIMER_MS),
  /** requests Ollama serves side by side; the validator worker takes that many messages at once */
  OLLAMA_NUM_PARALLEL: wholeNumber(1, 1, MAX_LLM_PARALLEL_REQUESTS),
  OLLAMA_SEED: wholeNumber(42, -MAX_TIMER_MS - 1, MAX_TIMER_MS),
  PAPER_STARTING_CASH_USD: positive(PAPER.startingCashUsd),
  PAPER_SLIPPAGE_BPS: basisPoints(PAPER.slippageBps),
  PAPER_TAKER_FEE_BPS: basisPoints(PAPER.takerFeeBps),
  PAPER_MAKER_FEE_BPS: basisPoints(PAPER.makerFeeBps),
  RISK_MAX_ASSET_FRACTION: fraction(RISK.maxAssetFraction),
  RISK_MAX_TOTAL_EXPOSURE: fraction(RISK.maxTotalExposure),
  RISK_MAX_RISK_PER_TRADE: fraction(RISK.maxRiskPerTrade),
  RISK_MAX_TRADES_PER_DAY: wholeNumber(RISK.maxTradesPerDay, 0, 10_000),
  RISK_MAX_DAILY_LOSS: lossLimit(RISK.maxDailyLoss),
  RISK_MAX_DRAWDOWN: lossLimit(RISK.maxDrawdown),
  RISK_KELLY_FRACTION: fraction(RISK.kellyFraction),
  /** a daily-loss trip lifts itself at the next UTC midnight; false: it waits for an operator like a drawdown halt */
  KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY: flag(KILL_SWITCH.dailyLossResumesNextDay),
  /** the risk manager refuses BUYs when the latest equity snapshot is older (portfolio runs every minute) */
  RISK_MAX_SNAPSHOT_AGE_MINUTES: wholeNumber(15, 1, 1440),
  /** the venue's quote may sit this far from the last stored close before an order is refused */
  EXECUTION_PRICE_BAND: numberSetting(
    DEFAULT_PRICE_BAND,
    "a fraction above 0 and at most 0.5, such as 0.1 for ±10%",
    (n) => n > 0 && n <= 0.5,
  ),
  /** a recommendation EXECUTING longer than this is reported stuck (health report, alarm) */
  EXECUTION_STUCK_MINUTES: wholeNumber(15, 1, 1440),
  /** take-profit ladder in R (the entry's stop distance): sell `share` of the entry at entry + atR × R */
  EXIT_TAKE_PROFIT_LADDER: ladderText(formatLadder(EXITS.takeProfitLadder)),
  /** the trailing stop starts once the high reaches entry + this × R; 0 = no trailing stop */
  EXIT_TRAILING_ACTIVATION_R: numberSetting(
    EXITS.trailingActivationR,
    "a number of R from 0 (0 = no trailing stop)",
    (n) => n >= 0,
  ),
  /** and trails this many R under the highest high since the entry */
  EXIT_TRAILING_DISTANCE_R: positive(EXITS.trailingDistanceR),
  /** candles after the entry at which the rest is sold; 0 = no time limit */
  EXIT_TIME_LIMIT_CANDLES: wholeNumber(EXITS.timeLimitCandles, 0, 10_000),
  /** a SELL signal for a held symbol sells its positions */
  EXIT_ON_SELL_SIGNAL: flag(EXITS.exitOnSellSignal),
  /** an exit refused this many times (one reason and leg) waits for an operator instead of a new attempt */
  EXIT_MAX_ATTEMPTS: wholeNumber(EXITS.maxAttempts, 1, 1000),
  /** the kill switch tripping sells every position */
  KILL_SWITCH_FLATTEN: flag(KILL_SWITCH.flatten),
  /** once an entry fills, its stop rests on the venue as a stop-limit (holds while the pipeline is down) */
  EXIT_RESTING_STOP: flag(EXITS.restingStop),
  /** the resting stop-limit's limit sits this fraction under its stop; a gap past it sells at market */
  EXIT_STOP_LIMIT_OFFSET: numberSetting(
    EXITS.stopLimitOffset,
    "a fraction above 0 and at most 0.5, such as 0.05 for 5% under the stop",
    (n) => n > 0 && n <= 0.5,
  ),
});
export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const keys = Object.keys(ConfigSchema.shape);
  // whitespace-only is refused here, for every variable (including ones added later with other
  // schemas): it is a typo, never a choice; only an empty value means "the default"
  const blank = keys.filter((k) => env[k] !== undefined && env[k] !== "" && env[k]!.trim() === "");
  const present = Object.fromEntries(
    keys.filter((k) => !blank.includes(k)).map((k) => [k, env[k] === "" ? undefined : env[k]]),
  );
  const parsed = ConfigSchema.safeParse(present);
  const problems = blank.map(
    (k) =>
      `${k}=${JSON.stringify(env[k])}: only whitespace; leave it empty or unset for the default, or give a value`,
  );
  if (parsed.success && problems.length === 0) return parsed.data;
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = String(i.path[0]);
      if (!blank.includes(key)) problems.push(`${key}=${JSON.stringify(env[key])}: ${i.message}`);
    }
  }
  throw new ConfigError(
    `Invalid configuration: ${problems.join("; ")}. See the configuration table in README.md.`,
  );
}
