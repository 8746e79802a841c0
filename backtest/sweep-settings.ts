/**
 * The settings a sweep varies, by the names of the environment variables the live functions read
 * (SIGNAL_*, BRIDGE_*, RECOMMENDATION_AMOUNT_USD, RISK_*, EXIT_*, KILL_SWITCH_*, PAPER_*), turned
 * into the replay's settings. Values are checked by the live config schema where it has the
 * variable (the same messages as a wrong environment), by the exit settings' parser and checks
 * (parseLadder, assertValidExitSettings) and by the risk limits' schema (parseRiskLimits).
 *
 * This is the sweep's own mapping "config variables → backtest settings", written in this one
 * place so that the sweep does not wait for backtest/settings.ts (the backtest reading every setting
 * through the live config schema); at merge, backtest/settings.ts replaces it.
 */
import type { z } from "zod";
import { ConfigSchema } from "#config";
import {
  DEFAULT_BRIDGE_SETTINGS,
  DEFAULT_DECISION_THRESHOLDS,
  DEFAULT_EXIT_SETTINGS,
  DEFAULT_KILL_SWITCH_SETTINGS,
  DEFAULT_PAPER_ACCOUNT,
} from "#defaults";
import { exitSettingsFrom } from "#exits/exit-config.js";
import {
  DEFAULT_EXITS,
  type ExitSettings,
  formatLadder,
  parseLadder,
  type TakeProfitLeg,
} from "#exits/exit-settings.js";
import type { DecisionThresholds } from "#model/index.js";
import { DEFAULT_RISK_LIMITS, parseRiskLimits, type RiskLimits } from "#risk/index.js";
import type { BridgeSettings } from "#steps/signal-bridge.js";
import type { FillSettings } from "./engine.js";

/** A value in grid.json (or the environment's text). */
export type GridValue = string | number | boolean;

/** What one configuration sets in a replay (BacktestSettings' fields that a sweep may vary). */
export interface SweepSettings {
  thresholds: DecisionThresholds;
  bridge: BridgeSettings;
  limits: RiskLimits;
  exits: ExitSettings;
  dailyLossResumesNextDay: boolean;
  startingCashUsd: number;
  fill: FillSettings;
}

/** A grid, an environment or a configuration that cannot be run; the message says what and how to fix it. */
export class SweepError extends Error {
  override readonly name = "SweepError";
}

/** The settings being built, before the combined checks. */
interface Draft {
  thresholds: DecisionThresholds;
  bridge: BridgeSettings;
  limits: RiskLimits;
  ladder: readonly TakeProfitLeg[];
  trailingActivationR: number;
  trailingDistanceR: number;
  timeLimitCandles: number;
  exitOnSellSignal: boolean;
  flattenOnKillSwitch: boolean;
  dailyLossResumesNextDay: boolean;
  startingCashUsd: number;
  fill: FillSettings;
}

type Read = { value: unknown } | { problem: string };

interface SettingKey {
  read(text: string): Read;
  apply(draft: Draft, value: unknown): void;
}

/** A variable of the live config schema: its own parser, so its own messages. */
function configVariable(name: keyof typeof ConfigSchema.shape, apply: SettingKey["apply"]): SettingKey {
  const schema = ConfigSchema.shape[name] as z.ZodType;
  return {
    read(text) {
      const parsed = schema.safeParse(text);
      return parsed.success ? { value: parsed.data } : { problem: parsed.error.issues[0]!.message };
    },
    apply,
  };
}

/** Plain decimal text, as config.ts reads numbers (no blanks, hex, Infinity or NaN). */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function numberVariable(expected: string, inDomain: (n: number) => boolean, apply: SettingKey["apply"]) {
  return {
    read(text: string): Read {
      const t = text.trim();
      const n = Number(t);
      return DECIMAL.test(t) && Number.isFinite(n) && inDomain(n)
        ? { value: n }
        : { problem: `expected ${expected}` };
    },
    apply,
  };
}

const ON = ["true", "1", "yes", "on"];
const OFF = ["false", "0", "no", "off"];

function onOffVariable(apply: SettingKey["apply"]): SettingKey {
  return {
    read(text) {
      const t = text.trim().toLowerCase();
      if (ON.includes(t)) return { value: true };
      if (OFF.includes(t)) return { value: false };
      return { problem: "expected true or false" };
    },
    apply,
  };
}

const num = (v: unknown) => v as number;

/** Every setting a sweep can vary, by its environment variable. */
const KEYS: Record<string, SettingKey> = {
  SIGNAL_BUY_THRESHOLD: configVariable("SIGNAL_BUY_THRESHOLD", (d, v) => {
    d.thresholds.buy = num(v);
  }),
  SIGNAL_SELL_THRESHOLD: configVariable("SIGNAL_SELL_THRESHOLD", (d, v) => {
    d.thresholds.sell = num(v);
  }),
  BRIDGE_MIN_CONFIDENCE: configVariable("BRIDGE_MIN_CONFIDENCE", (d, v) => {
    d.bridge.minConfidence = num(v);
  }),
  RECOMMENDATION_AMOUNT_USD: configVariable("RECOMMENDATION_AMOUNT_USD", (d, v) => {
    d.bridge.amountUsd = num(v);
  }),
  BRIDGE_MAX_PER_CYCLE: configVariable("BRIDGE_MAX_PER_CYCLE", (d, v) => {
    d.bridge.maxPerCycle = num(v);
  }),
  BRIDGE_QUEUE_WINDOW_MINUTES: configVariable("BRIDGE_QUEUE_WINDOW_MINUTES", (d, v) => {
    d.bridge.queueWindowMinutes = num(v);
  }),
  RISK_MAX_ASSET_FRACTION: configVariable("RISK_MAX_ASSET_FRACTION", (d, v) => {
    d.limits.maxAssetFraction = num(v);
  }),
  RISK_MAX_TOTAL_EXPOSURE: configVariable("RISK_MAX_TOTAL_EXPOSURE", (d, v) => {
    d.limits.maxTotalExposure = num(v);
  }),
  RISK_MAX_RISK_PER_TRADE: configVariable("RISK_MAX_RISK_PER_TRADE", (d, v) => {
    d.limits.maxRiskPerTrade = num(v);
  }),
  RISK_MAX_TRADES_PER_DAY: configVariable("RISK_MAX_TRADES_PER_DAY", (d, v) => {
    d.limits.maxTradesPerDay = num(v);
  }),
  RISK_MAX_DAILY_LOSS: configVariable("RISK_MAX_DAILY_LOSS", (d, v) => {
    d.limits.maxDailyLoss = num(v);
  }),
  RISK_MAX_DRAWDOWN: configVariable("RISK_MAX_DRAWDOWN", (d, v) => {
    d.limits.maxDrawdown = num(v);
  }),
  RISK_KELLY_FRACTION: configVariable("RISK_KELLY_FRACTION", (d, v) => {
    d.limits.kellyFraction = num(v);
  }),
  KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY: configVariable(
    "KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY",
    (d, v) => {
      d.dailyLossResumesNextDay = v as boolean;
    },
  ),
  PAPER_STARTING_CASH_USD: configVariable("PAPER_STARTING_CASH_USD", (d, v) => {
    d.startingCashUsd = num(v);
  }),
  PAPER_SLIPPAGE_BPS: configVariable("PAPER_SLIPPAGE_BPS", (d, v) => {
    d.fill.slippageBps = num(v);
  }),
  PAPER_TAKER_FEE_BPS: configVariable("PAPER_TAKER_FEE_BPS", (d, v) => {
    d.fill.takerFeeBps = num(v);
  }),
  EXIT_TAKE_PROFIT_LADDER: {
    read(text) {
      const parsed = parseLadder(text);
      return "ladder" in parsed
        ? { value: parsed.ladder }
        : { problem: `${parsed.problem}; expected atR:share pairs such as 1:0.5,2:0.5, or none` };
    },
    apply(d, v) {
      d.ladder = v as TakeProfitLeg[];
    },
  },
  EXIT_TRAILING_ACTIVATION_R: numberVariable(
    "a number of R >= 0 (0 = no trailing stop)",
    (n) => n >= 0,
    (d, v) => {
      d.trailingActivationR = num(v);
    },
  ),
  EXIT_TRAILING_DISTANCE_R: numberVariable(
    "a number of R above 0",
    (n) => n > 0,
    (d, v) => {
      d.trailingDistanceR = num(v);
    },
  ),
  EXIT_TIME_LIMIT_CANDLES: numberVariable(
    "a whole number of candles >= 0 (0 = no time limit)",
    (n) => Number.isInteger(n) && n >= 0,
    (d, v) => {
      d.timeLimitCandles = num(v);
    },
  ),
  EXIT_ON_SELL_SIGNAL: onOffVariable((d, v) => {
    d.exitOnSellSignal = v as boolean;
  }),
  KILL_SWITCH_FLATTEN: onOffVariable((d, v) => {
    d.flattenOnKillSwitch = v as boolean;
  }),
};

/** The names a grid (or the environment) may set, sorted. */
export const SWEEP_KEYS: readonly string[] = Object.keys(KEYS).sort();

export function isSweepKey(name: string): boolean {
  return Object.hasOwn(KEYS, name);
}

/** An unknown name, in words that list the known ones. */
export function unknownKeysMessage(unknown: readonly string[], where: string): string {
  return `${where}: unknown setting${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; a sweep varies these (the environment variables of the same names): ${SWEEP_KEYS.join(", ")}`;
}

/** A grid value as the environment would hold it. */
function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * One value of one setting, read as its environment variable would be: the value, or what is wrong
 * with it (the config's own message where the config schema has the variable).
 */
export function readSetting(key: string, value: unknown): Read {
  if (!isSweepKey(key)) return { problem: unknownKeysMessage([key], key) };
  const text = asText(value);
  if (text === undefined) return { problem: "expected a string, a number or true/false" };
  if (text.trim() === "") return { problem: "empty; give a value" };
  return KEYS[key]!.read(text);
}

function defaultDraft(): Draft {
  return {
    thresholds: { ...DEFAULT_DECISION_THRESHOLDS },
    bridge: { ...DEFAULT_BRIDGE_SETTINGS },
    limits: { ...DEFAULT_RISK_LIMITS },
    ladder: DEFAULT_EXIT_SETTINGS.takeProfitLadder.map((l) => ({ ...l })),
    trailingActivationR: DEFAULT_EXIT_SETTINGS.trailingActivationR,
    trailingDistanceR: DEFAULT_EXIT_SETTINGS.trailingDistanceR,
    timeLimitCandles: DEFAULT_EXIT_SETTINGS.timeLimitCandles,
    exitOnSellSignal: DEFAULT_EXIT_SETTINGS.exitOnSellSignal,
    flattenOnKillSwitch: DEFAULT_KILL_SWITCH_SETTINGS.flatten,
    dailyLossResumesNextDay: DEFAULT_KILL_SWITCH_SETTINGS.dailyLossResumesNextDay,
    startingCashUsd: DEFAULT_PAPER_ACCOUNT.startingCashUsd,
    fill: {
      spreadBps: DEFAULT_PAPER_ACCOUNT.spreadBps,
      slippageBps: DEFAULT_PAPER_ACCOUNT.slippageBps,
      impactCoefficient: DEFAULT_PAPER_ACCOUNT.impactCoefficient,
      takerFeeBps: DEFAULT_PAPER_ACCOUNT.takerFeeBps,
    },
  };
}

/**
 * The replay settings of one configuration: the defaults, then `assignment` (environment-variable
 * names → values). Throws a SweepError naming the setting, the value and what is expected, also when
 * the values are fine one by one but not together (the exit checks and the risk limits' schema).
 */
export function sweepSettingsFor(assignment: Readonly<Record<string, GridValue>>): SweepSettings {
  const draft = defaultDraft();
  const unknown = Object.keys(assignment).filter((k) => !isSweepKey(k));
  if (unknown.length > 0) throw new SweepError(unknownKeysMessage(unknown, "settings"));
  for (const [key, raw] of Object.entries(assignment)) {
    const read = readSetting(key, raw);
    if ("problem" in read) throw new SweepError(`${key}=${JSON.stringify(raw)}: ${read.problem}`);
    KEYS[key]!.apply(draft, read.value);
  }
  // the live mapping (exits/exit-config.ts), on the draft's values in their configuration form
  const exitsOf = () =>
    exitSettingsFrom({
      EXIT_TAKE_PROFIT_LADDER: formatLadder(draft.ladder) || "none",
      EXIT_TRAILING_ACTIVATION_R: draft.trailingActivationR,
      EXIT_TRAILING_DISTANCE_R: draft.trailingDistanceR,
      EXIT_TIME_LIMIT_CANDLES: draft.timeLimitCandles,
      EXIT_ON_SELL_SIGNAL: draft.exitOnSellSignal,
      KILL_SWITCH_FLATTEN: draft.flattenOnKillSwitch,
      EXIT_STOP_LIMIT_OFFSET: DEFAULT_EXITS.stopLimitOffset,
    });
  let exits: ExitSettings;
  const given = describeAssignment(assignment);
  try {
    exits = exitsOf();
  } catch (error) {
    throw new SweepError(`${given}: ${(error as Error).message}`);
  }
  let limits: RiskLimits;
  try {
    limits = parseRiskLimits(draft.limits);
  } catch (error) {
    const issues = (error as z.ZodError).issues ?? [];
    throw new SweepError(
      `${given}: the risk limits do not hold together: ${issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") || (error as Error).message}`,
    );
  }
  return {
    thresholds: draft.thresholds,
    bridge: draft.bridge,
    limits,
    exits,
    dailyLossResumesNextDay: draft.dailyLossResumesNextDay,
    startingCashUsd: draft.startingCashUsd,
    fill: draft.fill,
  };
}

/** "KEY=value KEY=value", in the assignment's order; "defaults" for an empty one. */
export function describeAssignment(assignment: Readonly<Record<string, GridValue>>): string {
  const parts = Object.entries(assignment).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? parts.join(" ") : "defaults";
}

/**
 * The sweep settings the environment sets (the variables of SWEEP_KEYS that are set and not empty),
 * each checked: a wrong one stops the sweep before it starts, with the variable and the value.
 */
export function sweepSettingsFromEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const found: Record<string, string> = {};
  const problems: string[] = [];
  for (const key of SWEEP_KEYS) {
    const value = env[key];
    if (value === undefined || value === "") continue;
    const read = readSetting(key, value);
    if ("problem" in read) problems.push(`${key}=${JSON.stringify(value)}: ${read.problem}`);
    else found[key] = value;
  }
  if (problems.length > 0)
    throw new SweepError(
      `Invalid configuration in the environment: ${problems.join("; ")}. See the configuration table in README.md.`,
    );
  return found;
}
