/**
 * grid.json: an object whose keys name settings (the environment variables of the same names) and
 * whose values are arrays of values; the configurations are their cartesian product. Every value
 * and every configuration is checked before anything runs.
 */
import {
  describeAssignment,
  type GridValue,
  isSweepKey,
  readSetting,
  SweepError,
  sweepSettingsFor,
  unknownKeysMessage,
} from "./sweep-settings.js";

/** A sweep runs at most this many configurations. */
export const MAX_CONFIGURATIONS = 10_000;

export interface SweepGrid {
  /** the settings varied, in the file's order */
  keys: string[];
  /** per key, its values as the file gives them */
  values: GridValue[][];
  /** the product of the value counts */
  count: number;
  /** settings every configuration shares (the environment's), under the grid's */
  base: Readonly<Record<string, GridValue>>;
}

/**
 * Parses and checks a grid. `base` holds the settings that are not varied (from the environment);
 * a key of the grid overrides it. `source` names the file in messages.
 */
export function parseGrid(
  json: unknown,
  source = "grid.json",
  base: Readonly<Record<string, GridValue>> = {},
): SweepGrid {
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new SweepError(
      `${source} must be a JSON object of setting names to arrays of values, such as {"EXIT_TIME_LIMIT_CANDLES": [12, 24], "SIGNAL_BUY_THRESHOLD": [0.5, 0.55]}`,
    );
  const entries = Object.entries(json as Record<string, unknown>);
  const unknown = entries.map(([k]) => k).filter((k) => !isSweepKey(k));
  if (unknown.length > 0) throw new SweepError(unknownKeysMessage(unknown, source));
  const problems: string[] = [];
  const keys: string[] = [];
  const values: GridValue[][] = [];
  for (const [key, list] of entries) {
    if (!Array.isArray(list) || list.length === 0) {
      problems.push(`${key}: expected a non-empty array of values, such as [${exampleFor(key)}]`);
      continue;
    }
    const seen = new Set<string>();
    list.forEach((value, i) => {
      const read = readSetting(key, value);
      if ("problem" in read) problems.push(`${key}[${i}]=${JSON.stringify(value)}: ${read.problem}`);
      const same = JSON.stringify("value" in read ? read.value : value);
      if (seen.has(same)) problems.push(`${key}[${i}]=${JSON.stringify(value)}: listed twice`);
      seen.add(same);
    });
    keys.push(key);
    values.push(list as GridValue[]);
  }
  if (problems.length > 0) throw new SweepError(`${source}: ${problems.join("; ")}`);
  const count = values.reduce((product, list) => product * list.length, 1);
  if (count > MAX_CONFIGURATIONS)
    throw new SweepError(
      `${source} makes ${count.toLocaleString("en-US")} configurations (${values.map((v) => v.length).join(" x ")}), more than the ${MAX_CONFIGURATIONS.toLocaleString("en-US")} a sweep runs: drop some values or split the grid`,
    );
  const grid: SweepGrid = { keys, values, count, base: { ...base } };
  // every configuration as the replay will take it, through the exit settings' and the risk
  // limits' own checks (assertValidExitSettings, parseRiskLimits), before anything runs
  for (let i = 0; i < count; i++) sweepSettingsFor(configurationAt(grid, i));
  return grid;
}

function exampleFor(key: string): string {
  if (key === "EXIT_TAKE_PROFIT_LADDER") return '"1:0.5,2:0.5", "1:1"';
  if (key === "EXIT_ON_SELL_SIGNAL" || key.startsWith("KILL_SWITCH_")) return "true, false";
  return "1, 2";
}

/**
 * Configuration `index` of the product: the base settings, then one value of each key; the last
 * key varies fastest.
 */
export function configurationAt(grid: SweepGrid, index: number): Record<string, GridValue> {
  if (!(Number.isInteger(index) && index >= 0 && index < grid.count))
    throw new RangeError(`configuration ${index} is not in 0..${grid.count - 1}`);
  const picked: Record<string, GridValue> = {};
  let rest = index;
  for (let k = grid.keys.length - 1; k >= 0; k--) {
    const list = grid.values[k]!;
    picked[grid.keys[k]!] = list[rest % list.length]!;
    rest = Math.floor(rest / list.length);
  }
  const ordered: Record<string, GridValue> = { ...grid.base };
  for (const key of grid.keys) ordered[key] = picked[key]!;
  return ordered;
}

/** The grid's values of configuration `index`, "KEY=value ..." (the base is left out). */
export function configurationLabel(grid: SweepGrid, index: number): string {
  const all = configurationAt(grid, index);
  return describeAssignment(Object.fromEntries(grid.keys.map((k) => [k, all[k]!])));
}

/** The longest time limit of any configuration (the grid's, the base's or the default): the purge needs it. */
export function longestTimeLimitCandles(grid: SweepGrid): number {
  let longest = 0;
  for (let i = 0; i < grid.count; i++)
    longest = Math.max(longest, sweepSettingsFor(configurationAt(grid, i)).exits.timeLimitCandles);
  return longest;
}
