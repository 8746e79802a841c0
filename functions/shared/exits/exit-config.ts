/**
 * The exit settings of a configuration: what the position manager (live, paper) and the backtest
 * use, read through the one config schema (EXIT_*, KILL_SWITCH_FLATTEN). The schema has already
 * refused a bad value at init; this only turns the text forms into the policy's settings.
 */
import type { Config } from "#config";
import { GRANULARITY_SECONDS } from "#domain/market.js";
import { assertValidExitSettings, type ExitSettings, parseLadder } from "./exit-settings.js";

export type ExitConfig = Pick<
  Config,
  | "EXIT_TAKE_PROFIT_LADDER"
  | "EXIT_TRAILING_ACTIVATION_R"
  | "EXIT_TRAILING_DISTANCE_R"
  | "EXIT_TIME_LIMIT_CANDLES"
  | "EXIT_ON_SELL_SIGNAL"
  | "KILL_SWITCH_FLATTEN"
  | "EXIT_STOP_LIMIT_OFFSET"
>;

export function exitSettingsFrom(config: ExitConfig): ExitSettings {
  const ladder = parseLadder(config.EXIT_TAKE_PROFIT_LADDER);
  if ("problem" in ladder)
    throw new RangeError(
      `EXIT_TAKE_PROFIT_LADDER=${JSON.stringify(config.EXIT_TAKE_PROFIT_LADDER)}: ${ladder.problem}`,
    );
  const settings: ExitSettings = {
    takeProfitLadder: ladder.ladder,
    trailing:
      config.EXIT_TRAILING_ACTIVATION_R > 0
        ? { activationR: config.EXIT_TRAILING_ACTIVATION_R, distanceR: config.EXIT_TRAILING_DISTANCE_R }
        : undefined,
    timeLimitCandles: config.EXIT_TIME_LIMIT_CANDLES,
    exitOnSellSignal: config.EXIT_ON_SELL_SIGNAL,
    flattenOnKillSwitch: config.KILL_SWITCH_FLATTEN,
    stopLimitOffset: config.EXIT_STOP_LIMIT_OFFSET,
  };
  assertValidExitSettings(settings);
  return settings;
}

/** What new managed positions get: the exit settings and the candle interval the time limit counts in. */
export function positionTrackingFrom(config: ExitConfig & Pick<Config, "CANDLE_GRANULARITY">): {
  exits: ExitSettings;
  intervalSeconds: number;
} {
  return { exits: exitSettingsFrom(config), intervalSeconds: GRANULARITY_SECONDS[config.CANDLE_GRANULARITY] };
}
