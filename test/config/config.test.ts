/**
 * The configuration fails closed: every variable of the schema, fed every kind of bad value a probe
 * tried (blank, whitespace, negative, zero where a positive is needed, NaN, Infinity, fractions
 * above 1, fractions where a whole number is needed, hex and other non-decimal text, bad URL
 * schemes, bad enums, malformed symbols, ...), stops loadConfig with the variable, the value and
 * what is expected.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, ConfigSchema, loadConfig } from "#config";
import { MAX_LLM_PARALLEL_REQUESTS } from "#queues/validator-capacity.js";

const WHITESPACE = [" ", "   ", "\t", "\n", " \t\r\n "];
/** text that Number() would turn into a number, or that is no number at all */
const NOT_DECIMAL = [
  "abc",
  "NaN",
  "Infinity",
  "-Infinity",
  "0x10",
  "0b1",
  "1_000",
  "10abc",
  "1e400",
  "--1",
  "1,5",
];
const NOT_WHOLE = ["2.5", "0.1", "1e-3"];

const positiveNumber = [...NOT_DECIMAL, "0", "-0", "-1", "-0.0001", "-1e9"];
const wholeNumber = (min: number, max: number) => [
  ...NOT_DECIMAL,
  ...NOT_WHOLE,
  String(min - 1),
  String(max + 1),
  ...(min >= 0 ? ["-5"] : []),
];
const fraction = [...NOT_DECIMAL, "0", "-0.1", "1.5", "2", "50", "-1"];
const lossLimit = [...fraction, "1", "1.0"];
const basisPoints = [...NOT_DECIMAL, "-1", "-0.5", "1001", "10000"];
const httpUrl = [
  "ftp://example.com/api",
  "javascript:alert(1)",
  "file:///etc/passwd",
  "data:text/plain,hi",
  "ws://127.0.0.1:11434",
  "127.0.0.1:11434",
  "api.coinbase.com",
  "http://",
  "http:/x",
  "not a url",
];

/** Every variable of ConfigSchema with the bad values it must refuse (whitespace is added to all). */
const BAD: Record<string, string[]> = {
  TRADING_MODE: ["LIVE", "Paper", "real", "prod", "true", "1", "paper,live"],
  SYMBOLS: [
    "BTCUSD",
    "btc_usd",
    "BTC-USD;ETH-USD",
    "BTC-USD ETH-USD",
    "BTC-EUR",
    "BTC-USDC",
    "BTC-USDT",
    "ETH-BTC",
    "-USD",
    "BTC-",
    ",",
    "BTC-USD,",
    ",BTC-USD",
    "BTC-USD,,ETH-USD",
    "BTC-USD,btc-usd",
    "../../etc/passwd",
    "BTC-USD,<script>",
  ],
  TOP_N_SYMBOLS: wholeNumber(1, 100),
  CANDLE_GRANULARITY: ["1h", "ONE-HOUR", "one_hour", "HOURLY", "3600", "TEN_MINUTE"],
  CANDLE_BACKFILL: wholeNumber(1, 5000),
  COINBASE_API_BASE_URL: httpUrl,
  COINBASE_SECRET_ARN: [
    "coinbase",
    "arn:aws:s3:::bucket",
    "arn:aws:secretsmanager:us-east-1:123:secret:x",
    "arn:aws:secretsmanager:us-east-1:123456789012:parameter:x",
    "arn:aws:secretsmanager::123456789012:secret:x",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:has space",
  ],
  MODEL_PATH: ["models/signal-model.onxx", "models/", "model", "signal-model.onnx.bak"],
  MODEL_CARD_PATH: ["models/signal-model.card.yaml", "models/", "card"],
  SIGNAL_BUY_THRESHOLD: fraction,
  SIGNAL_SELL_THRESHOLD: fraction,
  SIGNAL_TTL_DAYS: positiveNumber,
  BRIDGE_MIN_CONFIDENCE: fraction,
  RECOMMENDATION_AMOUNT_USD: positiveNumber,
  BRIDGE_LOOKBACK_MINUTES: wholeNumber(1, 10_080),
  BRIDGE_QUEUE_WINDOW_MINUTES: wholeNumber(1, 10_080),
  BRIDGE_MAX_PER_CYCLE: wholeNumber(1, 1000),
  OLLAMA_HOST: httpUrl,
  OLLAMA_MODEL: ["phi3 3.8b", "-phi3", ":latest", "phi3;rm -rf /", "phi3\u0000"],
  OLLAMA_TIMEOUT_MS: wholeNumber(1, 2_147_483_647),
  OLLAMA_SEED: wholeNumber(-2_147_483_648, 2_147_483_647),
  PAPER_STARTING_CASH_USD: positiveNumber,
  PAPER_SLIPPAGE_BPS: basisPoints,
  PAPER_TAKER_FEE_BPS: basisPoints,
  PAPER_MAKER_FEE_BPS: basisPoints,
  RISK_MAX_ASSET_FRACTION: fraction,
  RISK_MAX_TOTAL_EXPOSURE: fraction,
  RISK_MAX_RISK_PER_TRADE: fraction,
  RISK_MAX_TRADES_PER_DAY: wholeNumber(0, 10_000),
  RISK_MAX_DAILY_LOSS: lossLimit,
  RISK_MAX_DRAWDOWN: lossLimit,
  RISK_KELLY_FRACTION: fraction,
  SCHEDULED_EVENT_MAX_AGE_MINUTES: wholeNumber(1, 1440),
  /** any non-blank path is a path; reading it is checked where the key is loaded */
  COINBASE_KEY_FILE: [],
  RISK_MAX_SNAPSHOT_AGE_MINUTES: wholeNumber(1, 1440),
  EXECUTION_PRICE_BAND: [...NOT_DECIMAL, "0", "-0.1", "0.51", "1", "2"],
  EXECUTION_STUCK_MINUTES: wholeNumber(1, 1440),
  OLLAMA_NUM_PARALLEL: wholeNumber(1, MAX_LLM_PARALLEL_REQUESTS),
  KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY: ["maybe", "2", "truee", "y", "enabled", "1", "0", "on"],
  EXIT_TAKE_PROFIT_LADDER: [
    "1",
    "1:",
    ":0.5",
    "1:0.5;2:0.5",
    "1:0.5,,2:0.5",
    "2:0.5,1:0.5",
    "1:0.5,1:0.5",
    "1:0.6,2:0.6",
    "0:0.5",
    "-1:0.5",
    "1:0",
    "1:1.5",
    "1:-0.5",
    "NaN:0.5",
    "Infinity:1",
    "0x1:0.5",
    "off",
  ],
  EXIT_TRAILING_ACTIVATION_R: [...NOT_DECIMAL, "-1", "-0.5"],
  EXIT_TRAILING_DISTANCE_R: positiveNumber,
  EXIT_TIME_LIMIT_CANDLES: wholeNumber(0, 10_000),
  EXIT_ON_SELL_SIGNAL: ["1", "0", "yes", "no", "on", "off", "tru", "falsey", "true false"],
  KILL_SWITCH_FLATTEN: ["1", "0", "yes", "no", "on", "off", "t", "f"],
  EXIT_MAX_ATTEMPTS: wholeNumber(1, 1000),
  EXIT_STOP_LIMIT_OFFSET: [...NOT_DECIMAL, "0", "-0.05", "0.51", "1"],
  EXIT_RESTING_STOP: ["1", "0", "yes", "no", "on", "off", "resting"],
};

/** Values at the edges of each domain that must still be accepted, with what they parse to. */
const GOOD: [string, string, unknown][] = [
  ["TRADING_MODE", "live", "live"],
  ["TRADING_MODE", " paper ", "paper"],
  ["SYMBOLS", "btc-usd, ETH-USD ,SHIB-USD", ["BTC-USD", "ETH-USD", "SHIB-USD"]],
  ["SYMBOLS", "1INCH-USD", ["1INCH-USD"]],
  ["TOP_N_SYMBOLS", "1", 1],
  ["TOP_N_SYMBOLS", "100", 100],
  ["TOP_N_SYMBOLS", " 7 ", 7],
  ["CANDLE_GRANULARITY", "FIVE_MINUTE", "FIVE_MINUTE"],
  ["CANDLE_BACKFILL", "5000", 5000],
  [
    "COINBASE_API_BASE_URL",
    "http://127.0.0.1:8080/api/v3/brokerage",
    "http://127.0.0.1:8080/api/v3/brokerage",
  ],
  [
    "COINBASE_SECRET_ARN",
    "arn:aws:secretsmanager:eu-west-2:123456789012:secret:trading/coinbase-AbCdEf",
    "arn:aws:secretsmanager:eu-west-2:123456789012:secret:trading/coinbase-AbCdEf",
  ],
  ["MODEL_PATH", "/opt/models/other model.onnx", "/opt/models/other model.onnx"],
  ["SIGNAL_BUY_THRESHOLD", "1", 1],
  ["SIGNAL_BUY_THRESHOLD", ".55", 0.55],
  ["SIGNAL_TTL_DAYS", "0.5", 0.5],
  ["RECOMMENDATION_AMOUNT_USD", "1e3", 1000],
  ["OLLAMA_HOST", "https://ollama.internal:11434", "https://ollama.internal:11434"],
  ["OLLAMA_MODEL", "hf.co/org/model:Q4_K_M", "hf.co/org/model:Q4_K_M"],
  ["OLLAMA_SEED", "-1", -1],
  ["PAPER_SLIPPAGE_BPS", "0", 0],
  ["PAPER_TAKER_FEE_BPS", "1000", 1000],
  ["RISK_MAX_TRADES_PER_DAY", "0", 0],
  ["RISK_MAX_DRAWDOWN", "0.99", 0.99],
  ["RISK_KELLY_FRACTION", "1", 1],
  ["SCHEDULED_EVENT_MAX_AGE_MINUTES", "1440", 1440],
  ["EXECUTION_PRICE_BAND", "0.5", 0.5],
  ["EXECUTION_PRICE_BAND", "0.02", 0.02],
  ["RISK_MAX_SNAPSHOT_AGE_MINUTES", "3", 3],
  ["EXECUTION_STUCK_MINUTES", "1440", 1440],
  ["KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY", "FALSE", false],
  ["KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY", " true ", true],
  ["EXIT_TAKE_PROFIT_LADDER", " 1:0.5, 2:0.5 ", "1:0.5, 2:0.5"],
  ["EXIT_TAKE_PROFIT_LADDER", "none", "none"],
  ["EXIT_TAKE_PROFIT_LADDER", "1.5:1", "1.5:1"],
  ["EXIT_TRAILING_ACTIVATION_R", "0", 0],
  ["EXIT_TRAILING_DISTANCE_R", "0.25", 0.25],
  ["EXIT_TIME_LIMIT_CANDLES", "0", 0],
  ["EXIT_ON_SELL_SIGNAL", "FALSE", false],
  ["KILL_SWITCH_FLATTEN", " true ", true],
  ["EXIT_STOP_LIMIT_OFFSET", "0.5", 0.5],
  ["EXIT_STOP_LIMIT_OFFSET", "0.001", 0.001],
];

function configErrorFor(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const cases = Object.entries(BAD).flatMap(([key, values]) =>
  [...WHITESPACE, ...values].map((value) => [key, value] as const),
);

describe("configuration fails closed", () => {
  it("has a table of bad values for every variable of the schema (add one for a new variable)", () => {
    expect(Object.keys(BAD).sort()).toEqual(Object.keys(ConfigSchema.shape).sort());
  });

  it.each(cases)("refuses %s=%j, naming the variable, the value and what is expected", (key, value) => {
    const message = configErrorFor({ [key]: value });
    expect(message).toContain(`${key}=${JSON.stringify(value)}: `);
    if (value.trim() === "") expect(message).toContain("only whitespace");
    else expect(message).toMatch(/expected/i);
  });

  it.each(GOOD)("accepts %s=%j", (key, value, parsed) => {
    expect(loadConfig({ [key]: value })[key as keyof ReturnType<typeof loadConfig>]).toEqual(parsed);
  });

  it("an empty value means the default, for every variable", () => {
    const empty = Object.fromEntries(Object.keys(ConfigSchema.shape).map((k) => [k, ""]));
    expect(loadConfig(empty)).toEqual(loadConfig({}));
    expect(loadConfig({}).TRADING_MODE).toBe("paper");
  });

  it("reports every wrong variable at once", () => {
    const message = configErrorFor({
      SIGNAL_BUY_THRESHOLD: " ",
      SIGNAL_TTL_DAYS: "-1",
      OLLAMA_HOST: "ftp://x",
      TRADING_MODE: "LIVE",
    });
    for (const key of ["SIGNAL_BUY_THRESHOLD", "SIGNAL_TTL_DAYS", "OLLAMA_HOST", "TRADING_MODE"])
      expect(message).toContain(`${key}=`);
    expect(message).toMatch(/See the configuration table in README.md\.$/);
  });
});
