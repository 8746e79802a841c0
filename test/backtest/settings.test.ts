import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BacktestSymbol, runBacktest, tradesFingerprint } from "#backtest/engine.js";
import {
  BACKTEST_VARIABLES,
  backtestSettingsOf,
  changedSettings,
  commandLineSources,
  configFileSource,
  DEFAULT_FILL_SETTINGS,
  defaultSettings,
  environmentSource,
  NO_EFFECT_IN_REPLAY,
  type ReplayFrame,
  resolveSettings,
  SettingsError,
  tradingSettingsFrom,
} from "#backtest/settings.js";
import { ConfigSchema, loadConfig } from "#config";
import { DEFAULT_PAPER_ACCOUNT } from "#defaults";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import { DEFAULT_DECISION_THRESHOLDS } from "#model/index.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { DEFAULT_BRIDGE_SETTINGS } from "#steps/signal-bridge.js";
import { market, settings } from "./scenarios.js";

const dir = mkdtempSync(join(tmpdir(), "backtest-settings-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The message the Lambdas' config gives for these values (loadConfig at init). */
function lambdaMessage(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("the backtest's settings come from the live config schema", () => {
  it("reads every SIGNAL_*, BRIDGE_*, RECOMMENDATION_*, RISK_*, PAPER_*, KILL_SWITCH_* and EXIT_* variable of the config, and nothing else", () => {
    const groups = /^(SIGNAL|BRIDGE|RECOMMENDATION|RISK|PAPER|KILL_SWITCH|EXIT)_/;
    expect([...BACKTEST_VARIABLES]).toEqual(Object.keys(ConfigSchema.shape).filter((k) => groups.test(k)));
    expect(BACKTEST_VARIABLES).toEqual(
      expect.arrayContaining([
        "RISK_MAX_TRADES_PER_DAY",
        "RECOMMENDATION_AMOUNT_USD",
        "SIGNAL_BUY_THRESHOLD",
      ]),
    );
    for (const name of Object.keys(NO_EFFECT_IN_REPLAY)) expect(BACKTEST_VARIABLES).toContain(name);
  });

  it("maps every variable that can change a replay into the replay's settings (a new EXIT_* variable fails here until tradingSettingsFrom maps it)", () => {
    const defaults = tradingSettingsFrom(loadConfig({}));
    // candidates in each variable's domain: the first one the schema accepts with another value is used
    const candidates = ["0.3", "0.77", "0.001", "3", "7", "55", "555", "false", "true", "2:1", "off"];
    const unmapped: string[] = [];
    for (const name of BACKTEST_VARIABLES.filter((n) => !NO_EFFECT_IN_REPLAY[n])) {
      const byDefault = loadConfig({})[name as keyof ReturnType<typeof loadConfig>];
      const value = candidates.find((c) => {
        const parsed = ConfigSchema.shape[name as keyof typeof ConfigSchema.shape].safeParse(c);
        return parsed.success && JSON.stringify(parsed.data) !== JSON.stringify(byDefault);
      });
      expect(value, `no test value for ${name}`).toBeDefined();
      const changed = tradingSettingsFrom(loadConfig({ [name]: value }));
      if (JSON.stringify(changed) === JSON.stringify(defaults)) unmapped.push(`${name}=${value}`);
    }
    expect(unmapped).toEqual([]);
  });

  it("defaults to the seed defaults (functions/shared/defaults.ts, risk/limits.ts, exits)", () => {
    const { trading, variables } = defaultSettings();
    expect(trading).toEqual({
      thresholds: DEFAULT_DECISION_THRESHOLDS,
      bridge: DEFAULT_BRIDGE_SETTINGS,
      limits: DEFAULT_RISK_LIMITS,
      startingCashUsd: DEFAULT_PAPER_ACCOUNT.startingCashUsd,
      fill: DEFAULT_FILL_SETTINGS,
      exits: DEFAULT_EXITS,
      restingStops: true,
      dailyLossResumesNextDay: true,
    });
    expect(variables.map((v) => v.name)).toEqual([...BACKTEST_VARIABLES]);
    expect(variables.every((v) => v.source === "default" && !v.differs)).toBe(true);
    expect(changedSettings(variables)).toEqual([]);
  });

  it("takes the environment's values, ignores the rest of the environment, and says what differs and where from", () => {
    const env = {
      RISK_MAX_TRADES_PER_DAY: "100",
      RECOMMENDATION_AMOUNT_USD: " 500 ",
      SIGNAL_SELL_THRESHOLD: "",
      OLLAMA_HOST: "not a url",
      TRADING_MODE: "live",
      PATH: "/usr/bin",
    };
    const { trading, variables } = resolveSettings([environmentSource(env)]);
    expect(trading.limits.maxTradesPerDay).toBe(100);
    expect(trading.bridge.amountUsd).toBe(500);
    expect(trading.thresholds.sell).toBe(DEFAULT_DECISION_THRESHOLDS.sell);
    expect(changedSettings(variables)).toEqual([
      "RECOMMENDATION_AMOUNT_USD=500 (default 100; environment)",
      "RISK_MAX_TRADES_PER_DAY=100 (default 10; environment)",
    ]);
    expect(variables.find((v) => v.name === "SIGNAL_TTL_DAYS")?.noEffect).toMatch(/stores none/);
  });

  it("--config file.json overrides the environment, and the shorthand flags override both", () => {
    const file = join(dir, "settings.json");
    writeFileSync(
      file,
      JSON.stringify({ RISK_MAX_DRAWDOWN: 0.1, PAPER_TAKER_FEE_BPS: 25, SIGNAL_BUY_THRESHOLD: "0.55" }),
    );
    const { trading, variables } = resolveSettings(
      commandLineSources({
        env: { RISK_MAX_DRAWDOWN: "0.2", RISK_KELLY_FRACTION: "0.5" },
        configFile: file,
        flags: { "fee-bps": "10", equity: "2500" },
      }),
    );
    expect(trading.limits.maxDrawdown).toBe(0.1);
    expect(trading.limits.kellyFraction).toBe(0.5);
    expect(trading.thresholds.buy).toBe(0.55);
    expect(trading.fill.takerFeeBps).toBe(10);
    expect(trading.startingCashUsd).toBe(2500);
    const from = Object.fromEntries(variables.filter((v) => v.differs).map((v) => [v.name, v.source]));
    expect(from).toEqual({
      RISK_MAX_DRAWDOWN: `--config ${file}`,
      RISK_KELLY_FRACTION: "environment",
      SIGNAL_BUY_THRESHOLD: `--config ${file}`,
      PAPER_TAKER_FEE_BPS: "--fee-bps",
      PAPER_STARTING_CASH_USD: "--equity",
    });
  });

  it("refuses an unknown key in --config, naming it and listing the known ones", () => {
    const file = join(dir, "typo.json");
    writeFileSync(file, JSON.stringify({ RISK_MAX_DRAWDOWM: 0.1 }));
    const run = () => resolveSettings(commandLineSources({ env: {}, configFile: file }));
    expect(run).toThrow(SettingsError);
    expect(run).toThrow(`--config ${file}: "RISK_MAX_DRAWDOWM" is not a setting the backtest reads.`);
    expect(run).toThrow(`Known: ${BACKTEST_VARIABLES.join(", ")}`);
    writeFileSync(file, JSON.stringify({ OLLAMA_HOST: "http://127.0.0.1:11434" }));
    expect(run).toThrow(/"OLLAMA_HOST" is not a setting the backtest reads\. It configures the deployment/);
  });

  it("fails a bad value with the Lambda's own message, saying where the value came from", () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ RISK_MAX_DRAWDOWN: 2 }));
    const run = () => resolveSettings(commandLineSources({ env: {}, configFile: file }));
    expect(run).toThrow(lambdaMessage({ RISK_MAX_DRAWDOWN: "2" }));
    expect(run).toThrow(`(RISK_MAX_DRAWDOWN from --config ${file})`);
    const env = () => resolveSettings([environmentSource({ SIGNAL_BUY_THRESHOLD: "0x10" })]);
    expect(env).toThrow(lambdaMessage({ SIGNAL_BUY_THRESHOLD: "0x10" }));
    const flag = () => resolveSettings(commandLineSources({ env: {}, flags: { "fee-bps": "5000" } }));
    expect(flag).toThrow(lambdaMessage({ PAPER_TAKER_FEE_BPS: "5000" }));
    expect(flag).toThrow("(PAPER_TAKER_FEE_BPS from --fee-bps)");
  });

  it("refuses a --config that is not a JSON object, and values that are not text, numbers or true/false", () => {
    const file = join(dir, "shape.json");
    writeFileSync(file, "[1, 2]");
    expect(() => configFileSource(file)).toThrow(/holds an array; expected a JSON object/);
    writeFileSync(file, "{RISK_MAX_DRAWDOWN: 0.1}");
    expect(() => configFileSource(file)).toThrow(/is not valid JSON/);
    expect(() => configFileSource(join(dir, "missing.json"))).toThrow(/cannot read the file \(ENOENT\)/);
    expect(() =>
      resolveSettings([{ name: "--config x.json", values: { RISK_MAX_DRAWDOWN: [0.1] } }]),
    ).toThrow(
      '--config x.json: RISK_MAX_DRAWDOWN is an array; give text, a number or true/false, as the environment variable would hold it (such as "RISK_MAX_DRAWDOWN": "0.15")',
    );
  });
});

/** Four products that signal together (so the bridge's cap and window bind) on a wavy market. */
function fourSymbolMarket(): BacktestSymbol[] {
  const signals: Record<number, "BUY" | "SELL"> = {};
  for (let r = 520; r < 880; r += 5) signals[r] = r % 35 === 0 ? "SELL" : "BUY";
  return ["BTC-USD", "ETH-USD", "SOL-USD", "LTC-USD"].map((productId, k) => ({
    ...market((i) => 100 * (1 + 0.03 * Math.sin(i / (7 + k)) + 0.0004 * i), signals),
    productId,
  }));
}

/** The frame of scenarios.ts (window, model version, product rules) without its trading settings. */
function frame(): ReplayFrame {
  const {
    thresholds: _t,
    bridge: _b,
    limits: _l,
    startingCashUsd: _s,
    fill: _f,
    exits: _e,
    dailyLossResumesNextDay: _d,
    ...rest
  } = settings();
  return rest;
}

async function tradeList(symbols: BacktestSymbol[], values: Record<string, unknown>): Promise<string> {
  const { trading } = resolveSettings([{ name: "test", values }]);
  return tradesFingerprint((await runBacktest(symbols, backtestSettingsOf(trading, frame()))).trades);
}

describe("another setting gives another trade list (synthetic market)", () => {
  const symbols = fourSymbolMarket();

  it("the defaults give the list of the seed defaults, and the issue's RISK_MAX_TRADES_PER_DAY=100 RECOMMENDATION_AMOUNT_USD=500 another", async () => {
    const seed = await runBacktest(
      symbols,
      settings({
        thresholds: DEFAULT_DECISION_THRESHOLDS,
        bridge: DEFAULT_BRIDGE_SETTINGS,
        limits: DEFAULT_RISK_LIMITS,
        startingCashUsd: 10_000,
        fill: DEFAULT_FILL_SETTINGS,
      }),
    );
    expect(seed.trades.length).toBeGreaterThan(20);
    const defaults = await tradeList(symbols, {});
    expect(defaults).toBe(tradesFingerprint(seed.trades));
    const env = resolveSettings([
      environmentSource({ RISK_MAX_TRADES_PER_DAY: "100", RECOMMENDATION_AMOUNT_USD: "500" }),
    ]);
    const changed = await runBacktest(symbols, backtestSettingsOf(env.trading, frame()));
    expect(tradesFingerprint(changed.trades)).not.toBe(defaults);
    expect(changed.trades.find((t) => t.side === "BUY")?.quoteSize).not.toBe(seed.trades[0].quoteSize);
  });

  const NO_TARGETS = { EXIT_TAKE_PROFIT_LADDER: "none", EXIT_TIME_LIMIT_CANDLES: "0" };
  // each variable that can change a replay, with a value (and what else must hold for it to bind)
  const cases: { name: string; value: string; context?: Record<string, string> }[] = [
    { name: "SIGNAL_BUY_THRESHOLD", value: "0.75" },
    { name: "SIGNAL_SELL_THRESHOLD", value: "0.75" },
    { name: "BRIDGE_MIN_CONFIDENCE", value: "0.7" },
    { name: "RECOMMENDATION_AMOUNT_USD", value: "500" },
    { name: "BRIDGE_QUEUE_WINDOW_MINUTES", value: "1" },
    { name: "BRIDGE_MAX_PER_CYCLE", value: "1" },
    { name: "PAPER_STARTING_CASH_USD", value: "1000" },
    { name: "PAPER_SLIPPAGE_BPS", value: "50" },
    { name: "PAPER_TAKER_FEE_BPS", value: "10" },
    { name: "RISK_MAX_ASSET_FRACTION", value: "0.005" },
    { name: "RISK_MAX_TOTAL_EXPOSURE", value: "0.02" },
    { name: "RISK_MAX_RISK_PER_TRADE", value: "0.0001" },
    { name: "RISK_MAX_TRADES_PER_DAY", value: "1" },
    { name: "RISK_MAX_DAILY_LOSS", value: "0.001" },
    { name: "RISK_MAX_DRAWDOWN", value: "0.001" },
    { name: "RISK_KELLY_FRACTION", value: "0.01" },
    {
      name: "KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY",
      value: "false",
      context: { RISK_MAX_DAILY_LOSS: "0.001" },
    },
    { name: "EXIT_TAKE_PROFIT_LADDER", value: "0.5:1" },
    { name: "EXIT_TRAILING_ACTIVATION_R", value: "0.2", context: NO_TARGETS },
    { name: "EXIT_TRAILING_DISTANCE_R", value: "0.1", context: NO_TARGETS },
    { name: "EXIT_TIME_LIMIT_CANDLES", value: "2" },
    { name: "EXIT_ON_SELL_SIGNAL", value: "false" },
    // off, the trail's exits are market sells at the bid under their own ids, not the resting stop's
    { name: "EXIT_RESTING_STOP", value: "false", context: NO_TARGETS },
    { name: "KILL_SWITCH_FLATTEN", value: "true", context: { RISK_MAX_DAILY_LOSS: "0.001" } },
  ];
  // bind only on a gap through a stop, which this smooth market never makes: exits.test.ts
  // ("a gap through the stop ...", "a gap under the limit ...") shows each changing a fill
  const ONLY_ON_GAPS = ["EXIT_STOP_LIMIT_OFFSET", "PAPER_MAKER_FEE_BPS"];

  it("every variable that can change a replay has a case here (add one with a new EXIT_* variable)", () => {
    expect(cases.map((c) => c.name).sort()).toEqual(
      BACKTEST_VARIABLES.filter((n) => !NO_EFFECT_IN_REPLAY[n] && !ONLY_ON_GAPS.includes(n)).sort(),
    );
  });

  it.each(cases)("$name=$value", async ({ name, value, context = {} }) => {
    const before = await tradeList(symbols, context);
    expect(await tradeList(symbols, { ...context, [name]: value })).not.toBe(before);
  });

  it.each(Object.keys(NO_EFFECT_IN_REPLAY))(
    "%s changes nothing in a replay, as the report says",
    async (name) => {
      const value = {
        SIGNAL_TTL_DAYS: "1",
        BRIDGE_LOOKBACK_MINUTES: "1",
        RISK_MAX_SNAPSHOT_AGE_MINUTES: "1",
        EXIT_MAX_ATTEMPTS: "1",
      }[name];
      const before = await tradeList(symbols, {});
      expect(await tradeList(symbols, { [name]: value ?? "0" })).toBe(before);
    },
  );
});
