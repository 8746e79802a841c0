/**
 * How positions leave (EXIT_* and KILL_SWITCH_FLATTEN). The environment's text forms are parsed
 * and checked by config.ts with the helpers below; the backtest takes the same settings through
 * the same schema. Everything is in R, the entry's stop distance in price, so one setting means
 * the same on a calm and a wild coin.
 */
import { DEFAULT_EXIT_SETTINGS, DEFAULT_KILL_SWITCH_SETTINGS } from "#defaults";

export interface TakeProfitLeg {
  /** the target: entry + atR × R */
  atR: number;
  /** share of the entry quantity sold there; the last leg sells whatever is left */
  share: number;
}

export interface TrailingStopSettings {
  /** the trail starts once the highest price the policy saw since the entry (the bid, live) reaches entry + activationR × R */
  activationR: number;
  /** and sits distanceR × R under that high */
  distanceR: number;
}

export interface ExitSettings {
  takeProfitLadder: readonly TakeProfitLeg[];
  /** undefined: no trailing stop */
  trailing: TrailingStopSettings | undefined;
  /** candles after the entry at which the rest of the position is sold; 0 = no time limit */
  timeLimitCandles: number;
  /** a SELL signal for the symbol sells the position */
  exitOnSellSignal: boolean;
  /** the kill switch tripping sells every position (KILL_SWITCH_FLATTEN) */
  flattenOnKillSwitch: boolean;
  /** the resting stop-limit's limit, this fraction under its stop (EXIT_STOP_LIMIT_OFFSET) */
  stopLimitOffset: number;
}

export const DEFAULT_EXITS: Readonly<ExitSettings> = Object.freeze({
  takeProfitLadder: DEFAULT_EXIT_SETTINGS.takeProfitLadder,
  trailing:
    DEFAULT_EXIT_SETTINGS.trailingActivationR > 0
      ? {
          activationR: DEFAULT_EXIT_SETTINGS.trailingActivationR,
          distanceR: DEFAULT_EXIT_SETTINGS.trailingDistanceR,
        }
      : undefined,
  timeLimitCandles: DEFAULT_EXIT_SETTINGS.timeLimitCandles,
  exitOnSellSignal: DEFAULT_EXIT_SETTINGS.exitOnSellSignal,
  flattenOnKillSwitch: DEFAULT_KILL_SWITCH_SETTINGS.flatten,
  stopLimitOffset: DEFAULT_EXIT_SETTINGS.stopLimitOffset,
});

/** The ladder's text form, `atR:share` pairs: "1:0.5,2:0.5". */
export function formatLadder(ladder: readonly TakeProfitLeg[]): string {
  return ladder.map((l) => `${l.atR}:${l.share}`).join(",");
}

/**
 * Parses "1:0.5,2:0.5" (or "" / "none" for no targets). Returns the ladder or the problem, in words
 * that say what was wrong and what is expected.
 */
export function parseLadder(text: string): { ladder: TakeProfitLeg[] } | { problem: string } {
  const t = text.trim();
  if (t === "" || t.toLowerCase() === "none") return { ladder: [] };
  const ladder: TakeProfitLeg[] = [];
  for (const item of t.split(",")) {
    const m = /^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(item);
    if (!m) return { problem: `"${item.trim()}" is not atR:share (such as 1:0.5)` };
    ladder.push({ atR: Number(m[1]), share: Number(m[2]) });
  }
  const problem = ladderProblem(ladder);
  return problem ? { problem } : { ladder };
}

/** What is wrong with a ladder, or undefined: targets above 0 and ascending, shares in (0, 1] summing to at most 1. */
export function ladderProblem(ladder: readonly TakeProfitLeg[]): string | undefined {
  let total = 0;
  for (let i = 0; i < ladder.length; i++) {
    const { atR, share } = ladder[i]!;
    if (!(Number.isFinite(atR) && atR > 0)) return `leg ${i + 1}: the target ${atR}R must be above 0`;
    if (i > 0 && !(atR > ladder[i - 1]!.atR))
      return `leg ${i + 1}: the targets must rise (${ladder[i - 1]!.atR}R then ${atR}R)`;
    if (!(Number.isFinite(share) && share > 0 && share <= 1))
      return `leg ${i + 1}: the share ${share} must be above 0 and at most 1`;
    total += share;
  }
  if (total > 1 + 1e-9) return `the shares add up to ${total}, more than the whole position (1)`;
  return undefined;
}

/** Checks settings built in code (the backtest's sweep, tests); throws a RangeError naming the field. */
export function assertValidExitSettings(s: ExitSettings): void {
  const ladder = ladderProblem(s.takeProfitLadder);
  if (ladder) throw new RangeError(`exit setting takeProfitLadder: ${ladder}`);
  if (s.trailing) {
    const { activationR, distanceR } = s.trailing;
    if (!(Number.isFinite(activationR) && activationR >= 0))
      throw new RangeError(`exit setting trailing.activationR must be a number >= 0, got ${activationR}`);
    if (!(Number.isFinite(distanceR) && distanceR > 0))
      throw new RangeError(`exit setting trailing.distanceR must be a number above 0, got ${distanceR}`);
  }
  if (!(Number.isFinite(s.stopLimitOffset) && s.stopLimitOffset > 0 && s.stopLimitOffset < 1))
    throw new RangeError(
      `exit setting stopLimitOffset must be a fraction above 0 and below 1 (0.05 = 5% under the stop), got ${s.stopLimitOffset}`,
    );
  if (!(Number.isInteger(s.timeLimitCandles) && s.timeLimitCandles >= 0))
    throw new RangeError(
      `exit setting timeLimitCandles must be a whole number >= 0 (0 = off), got ${s.timeLimitCandles}`,
    );
}
