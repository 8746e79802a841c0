/**
 * The backtest's trading settings, read through the live functions' own configuration schema
 * (functions/shared/config.ts): the same variable names, the same parsing, the same defaults and the
 * same error messages as a Lambda's init. Sources, each overriding the ones before it:
 *
 *   the defaults < the environment < `--config file.json` < the CLI's shorthands (--equity, ...)
 *
 * Which variables the backtest reads is not a list kept by hand: every variable of the config whose
 * name starts with one of TRADING_GROUPS. `tradingSettingsFrom` turns them into the replay's
 * settings, each group as its function does (runtime/settings-from-config.ts, risk/limits-from-config.ts);
 * a variable that cannot change a replay says why in NO_EFFECT_IN_REPLAY. test/backtest/settings.test.ts
 * fails when a variable of these groups is neither mapped nor explained, so a new group or variable
 * (EXIT_*, KILL_SWITCH_FLATTEN) is added in exactly two places: config.ts, and tradingSettingsFrom.
 */
import { readFileSync } from "node:fs";
import { type Config, ConfigError, ConfigSchema, loadConfig } from "#config";
import { DEFAULT_PAPER_ACCOUNT as PAPER } from "#defaults";
import { exitSettingsFrom } from "#exits/exit-config.js";
import type { ExitSettings } from "#exits/exit-settings.js";
import type { DecisionThresholds } from "#model/decision.js";
import type { RiskLimits } from "#risk/limits.js";
import { riskLimitsFromConfig } from "#risk/limits-from-config.js";
import {
  bridgeSettingsFromConfig,
  decisionThresholdsFromConfig,
  paperSettingsFromConfig,
} from "#runtime/settings-from-config.js";
import type { BridgeSettings } from "#steps/signal-bridge.js";
import type { BacktestSettings, FillSettings } from "./engine.js";

/** The variable groups that decide trades: signals, bridge, risk, paper venue, kill switch, exits. */
export const TRADING_GROUPS = [
  "SIGNAL_",
  "BRIDGE_",
  "RECOMMENDATION_",
  "RISK_",
  "PAPER_",
  "KILL_SWITCH_",
  "EXIT_",
] as const;

/** Variables of those groups that are read and validated but cannot change a replay, and why. */
export const NO_EFFECT_IN_REPLAY: Readonly<Record<string, string>> = {
  SIGNAL_TTL_DAYS: "how long DynamoDB keeps a signal; the replay stores none",
  BRIDGE_LOOKBACK_MINUTES:
    "the replay's bridge runs in the cycle that wrote the signal, so no signal is ever older than the lookback",
  RISK_MAX_SNAPSHOT_AGE_MINUTES:
    "the replay's portfolio step writes a snapshot every cycle, as the every-minute schedule does live, so it is never stale",
  EXIT_MAX_ATTEMPTS:
    "a replay has no operator to hand a refused exit to: a refused exit (a sell the paper venue cannot fill) is tried again at the next bar",
};

/** Every variable of the config the backtest reads, in the config's order. */
export const BACKTEST_VARIABLES: readonly string[] = Object.keys(ConfigSchema.shape).filter((name) =>
  TRADING_GROUPS.some((prefix) => name.startsWith(prefix)),
);

/** What the replay takes from the configuration. */
export interface TradingSettings {
  thresholds: DecisionThresholds;
  bridge: BridgeSettings;
  limits: RiskLimits;
  startingCashUsd: number;
  fill: FillSettings;
  exits: ExitSettings;
  /** the position manager rests each position's stop on the venue (EXIT_RESTING_STOP) */
  restingStops: boolean;
  dailyLossResumesNextDay: boolean;
}

/** The paper venue's costs as the backtest's fill model takes them; spread and impact are fixed. */
export const DEFAULT_FILL_SETTINGS: FillSettings = {
  spreadBps: PAPER.spreadBps,
  slippageBps: PAPER.slippageBps,
  impactCoefficient: PAPER.impactCoefficient,
  takerFeeBps: PAPER.takerFeeBps,
  makerFeeBps: PAPER.makerFeeBps,
};

/** The configuration → the replay's settings, each group as its live function reads it. */
export function tradingSettingsFrom(config: Config): TradingSettings {
  const paper = paperSettingsFromConfig(config);
  return {
    thresholds: decisionThresholdsFromConfig(config),
    bridge: bridgeSettingsFromConfig(config),
    limits: riskLimitsFromConfig(config),
    startingCashUsd: Number(paper.startingCashUsd),
    fill: {
      ...DEFAULT_FILL_SETTINGS,
      slippageBps: paper.slippageBps,
      impactCoefficient: paper.impactCoefficient,
      takerFeeBps: paper.takerFeeBps,
      makerFeeBps: paper.makerFeeBps,
    },
    // the portfolio function's kill switch (functions/portfolio/handler.ts)
    dailyLossResumesNextDay: config.KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY,
    exits: exitSettingsFrom(config),
    // the position manager's (functions/position-manager/handler.ts)
    restingStops: config.EXIT_RESTING_STOP,
  };
}

/** The parts of BacktestSettings that are not configuration: the window, the model, the products. */
export type ReplayFrame = Omit<BacktestSettings, keyof TradingSettings>;

/** The engine's settings: the configured trading settings in the given frame. */
export function backtestSettingsOf(trading: TradingSettings, frame: ReplayFrame): BacktestSettings {
  return { ...frame, ...trading };
}

/** Where values came from, in increasing precedence: "environment", "--config x.json", "--equity". */
export interface SettingSource {
  name: string;
  /** variable name → value as text (the environment's form), a number or true/false */
  values: Readonly<Record<string, unknown>>;
}

/** One variable the backtest read: its value, its default, where the value came from. */
export interface SettingReport {
  name: string;
  value: unknown;
  default: unknown;
  /** "default" or the source that set it */
  source: string;
  differs: boolean;
  /** set when the variable cannot change a replay: why */
  noEffect?: string;
}

export interface ResolvedSettings {
  trading: TradingSettings;
  /** every variable of BACKTEST_VARIABLES, in order */
  variables: SettingReport[];
}

export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

/** The environment's values of the backtest's variables (the rest of the environment is not read). */
export function environmentSource(env: NodeJS.ProcessEnv = process.env): SettingSource {
  const values: Record<string, string> = {};
  for (const name of BACKTEST_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== "") values[name] = value;
  }
  return { name: "environment", values };
}

/** `--config file.json`: a JSON object of variable names → values. */
export function configFileSource(path: string, read: (path: string) => string = readUtf8): SettingSource {
  const name = `--config ${path}`;
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new SettingsError(
      `${name}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); give the path of a JSON object such as {"RISK_MAX_DRAWDOWN": 0.1}.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(
      `${name} is not valid JSON (${(error as Error).message}); expected an object such as {"RISK_MAX_DRAWDOWN": 0.1}.`,
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new SettingsError(
      `${name} holds ${Array.isArray(parsed) ? "an array" : JSON.stringify(parsed)}; expected a JSON object of variable names and values, such as {"RISK_MAX_DRAWDOWN": 0.1}.`,
    );
  }
  return { name, values: parsed as Record<string, unknown> };
}

function readUtf8(path: string): string {
  return readFileSync(path, "utf8");
}

/**
 * The sources merged (later ones win) and parsed by the live config schema. Throws a SettingsError
 * for a variable the backtest does not read (naming the known ones), a value that is not text, a
 * number or true/false, and any value the config refuses (its own message, and where it came from).
 */
export function resolveSettings(sources: readonly SettingSource[]): ResolvedSettings {
  const merged: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const source of sources) {
    for (const [name, value] of Object.entries(source.values)) {
      if (!BACKTEST_VARIABLES.includes(name)) throw new SettingsError(unknownVariable(name, source.name));
      merged[name] = asEnvironmentText(name, value, source.name);
      from[name] = source.name;
    }
  }
  let config: Config;
  try {
    config = loadConfig(merged);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const where = Object.keys(from)
      .filter((name) => error.message.includes(`${name}=`))
      .map((name) => `${name} from ${from[name]}`);
    throw new SettingsError(`${error.message}${where.length > 0 ? ` (${where.join(", ")})` : ""}`);
  }
  const defaults = loadConfig({});
  const variables = BACKTEST_VARIABLES.map((name): SettingReport => {
    const value = config[name as keyof Config];
    const byDefault = defaults[name as keyof Config];
    const differs = JSON.stringify(value) !== JSON.stringify(byDefault);
    return {
      name,
      value,
      default: byDefault,
      source: from[name] ?? "default",
      differs,
      ...(NO_EFFECT_IN_REPLAY[name] ? { noEffect: NO_EFFECT_IN_REPLAY[name] } : {}),
    };
  });
  return { trading: tradingSettingsFrom(config), variables };
}

/** The live defaults, read through the same schema. */
export function defaultSettings(): ResolvedSettings {
  return resolveSettings([]);
}

function unknownVariable(name: string, source: string): string {
  const live = Object.hasOwn(ConfigSchema.shape, name)
    ? ` It configures the deployment (${name}), not a trading decision the backtest replays.`
    : "";
  return `${source}: "${name}" is not a setting the backtest reads.${live} Known: ${BACKTEST_VARIABLES.join(", ")} (see the configuration table in README.md).`;
}

/** A value as the environment would hold it; the config schema then parses and checks it. */
function asEnvironmentText(name: string, value: unknown, source: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new SettingsError(
    `${source}: ${name} is ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}; give text, a number or true/false, as the environment variable would hold it (such as "${name}": ${JSON.stringify(String(loadConfig({})[name as keyof Config]))}).`,
  );
}

/** The variables that differ from the defaults, as NAME=value (where from). */
export function changedSettings(variables: readonly SettingReport[]): string[] {
  return variables
    .filter((v) => v.differs)
    .map((v) => `${v.name}=${formatValue(v.value)} (default ${formatValue(v.default)}; ${v.source})`);
}

export function formatValue(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The CLI's shorthands, each one variable: `--equity 5000` is PAPER_STARTING_CASH_USD=5000. */
export const CLI_SHORTHANDS = {
  equity: "PAPER_STARTING_CASH_USD",
  "fee-bps": "PAPER_TAKER_FEE_BPS",
  "slippage-bps": "PAPER_SLIPPAGE_BPS",
} as const;

/**
 * The sources of a command line, in precedence order: the environment, then `--config file.json`,
 * then each shorthand flag given.
 */
export function commandLineSources(input: {
  env?: NodeJS.ProcessEnv;
  configFile?: string | undefined;
  flags?: Partial<Record<keyof typeof CLI_SHORTHANDS, string | undefined>>;
  read?: (path: string) => string;
}): SettingSource[] {
  const sources = [environmentSource(input.env ?? process.env)];
  if (input.configFile !== undefined) sources.push(configFileSource(input.configFile, input.read));
  for (const [flag, name] of Object.entries(CLI_SHORTHANDS)) {
    const value = input.flags?.[flag as keyof typeof CLI_SHORTHANDS];
    if (value !== undefined) sources.push({ name: `--${flag}`, values: { [name]: value } });
  }
  return sources;
}
