/**
 * When the LLM validator must be warm: a few minutes before each candle closes until a window after
 * it, because every recommendation is made from a freshly closed candle. The two scheduled actions
 * of the validator service are computed here as Application Auto Scaling cron expressions (UTC),
 * CDK-free so the config check and the tests use the same arithmetic as the stack.
 */
import { DEFAULT_GRANULARITY } from "#defaults";
import { GRANULARITY_SECONDS } from "#domain/market.js";

const MINUTES_PER_DAY = 1440;

/**
 * The deployed functions run on DEFAULT_GRANULARITY (the stacks set no CANDLE_GRANULARITY), so its
 * candles close every this many minutes, on the UTC boundaries (Coinbase buckets start at epoch
 * multiples of the granularity).
 */
export const DEPLOYED_CANDLE_MINUTES = GRANULARITY_SECONDS[DEFAULT_GRANULARITY] / 60;

export interface WarmWindow {
  /** minutes between candle closes; must divide a day */
  readonly candleMinutes: number;
  /** the validator is raised this many minutes before each close (covers a cold start) */
  readonly leadMinutes: number;
  /** and released to the idle minimum this many minutes after it */
  readonly afterCloseMinutes: number;
}

export interface WarmSchedule {
  /** cron expressions that raise the service's minimum to 1 */
  readonly warmUp: string[];
  /** cron expressions that lower it back to the idle minimum */
  readonly coolDown: string[];
}

/** Why a warm window cannot be scheduled, or undefined when it can. */
export function warmWindowProblem(w: WarmWindow): string | undefined {
  if (!Number.isInteger(w.candleMinutes) || w.candleMinutes < 1 || MINUTES_PER_DAY % w.candleMinutes !== 0) {
    return `the candle period must be a whole number of minutes dividing a day, got ${w.candleMinutes}`;
  }
  if (w.leadMinutes + w.afterCloseMinutes >= w.candleMinutes) {
    return (
      `the warm window (${w.leadMinutes} minutes before + ${w.afterCloseMinutes} after each close) covers the ` +
      `whole ${w.candleMinutes}-minute candle: shorten it, or use llmWarmMode=always-on`
    );
  }
  return undefined;
}

export function warmAtCloseSchedule(w: WarmWindow): WarmSchedule {
  const problem = warmWindowProblem(w);
  if (problem) throw new RangeError(problem);
  const closes: number[] = [];
  for (let close = 0; close < MINUTES_PER_DAY; close += w.candleMinutes) closes.push(close);
  const at = (offset: number) =>
    closes.map((close) => (((close + offset) % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY);
  return { warmUp: cronExpressions(at(-w.leadMinutes)), coolDown: cronExpressions(at(w.afterCloseMinutes)) };
}

/**
 * The fewest `cron(m h * * ? *)` expressions that fire at exactly these minutes of the day: the
 * minutes of the hour that share the same hours go into one expression, and all 24 hours read `*`.
 */
export function cronExpressions(minutesOfDay: readonly number[]): string[] {
  const hoursByMinute = new Map<number, Set<number>>();
  for (const m of minutesOfDay) {
    const minute = m % 60;
    const hours = hoursByMinute.get(minute) ?? new Set<number>();
    hours.add(Math.floor(m / 60));
    hoursByMinute.set(minute, hours);
  }
  const minutesByHours = new Map<string, number[]>();
  for (const [minute, hours] of [...hoursByMinute].sort(([a], [b]) => a - b)) {
    const sorted = [...hours].sort((a, b) => a - b);
    const field = sorted.length === 24 ? "*" : sorted.join(",");
    minutesByHours.set(field, [...(minutesByHours.get(field) ?? []), minute]);
  }
  return [...minutesByHours].map(([hours, minutes]) => `cron(${minutes.join(",")} ${hours} * * ? *)`);
}
