/**
 * What an automatic kill-switch trip means, as a trader expects it:
 * - a **daily-loss** trip pauses new entries until the next UTC day starts (the daily loss is
 *   measured from the day start, so the new day starts from a clean slate); with
 *   `KILL_SWITCH_DAILY_LOSS_RESUMES_NEXT_DAY=false` it waits for an operator instead;
 * - a **drawdown** trip (also when both limits break at once) halts entries until an operator
 *   resumes, and closes every position: the drawdown limit is a hard stop, and it holds only if
 *   nothing stays exposed once it is reached (a drawdown beyond it is then at most what one bar
 *   moved before the trip);
 * - no trip ever blocks an exit; with `KILL_SWITCH_FLATTEN=true` every trip (daily loss, an
 *   operator's pause) also sells every position.
 *
 * Pure: the portfolio step (live) and the backtest (every replayed hour) both call it.
 */
export interface KillSwitchLimits {
  maxDailyLoss: number;
  maxDrawdown: number;
}

export interface KillSwitchFigures {
  /** fall from the peak, as a fraction of it */
  drawdown: number;
  /** loss since the UTC day start, as a fraction of day-start equity */
  dailyLoss: number;
  peakEquityUsd: number;
}

export interface KillSwitchTrip {
  kind: "DAILY_LOSS" | "DRAWDOWN";
  /** every breached limit, with numbers */
  reason: string;
  /** when the switch lifts itself (Unix ms); undefined: an operator must resume */
  resumeAtMs: number | undefined;
}

const DAY_MS = 86_400_000;

/** The next UTC midnight after `nowMs`. */
export function nextUtcDayStartMs(nowMs: number): number {
  return (Math.floor(nowMs / DAY_MS) + 1) * DAY_MS;
}

/** Why the kill switch must trip (every breached limit), or undefined. */
export function killSwitchBreach(figures: KillSwitchFigures, limits: KillSwitchLimits): string | undefined {
  const dailyLossBreached = figures.dailyLoss >= limits.maxDailyLoss;
  const drawdownBreached = figures.drawdown >= limits.maxDrawdown;
  // the common answer allocates nothing: the backtest asks once per replayed hour
  if (!dailyLossBreached && !drawdownBreached) return undefined;
  const breaches: string[] = [];
  if (dailyLossBreached) {
    breaches.push(
      `daily loss ${(figures.dailyLoss * 100).toFixed(2)}% reached the ${(limits.maxDailyLoss * 100).toFixed(1)}% limit`,
    );
  }
  if (drawdownBreached) {
    breaches.push(
      `drawdown ${(figures.drawdown * 100).toFixed(2)}% from peak ${figures.peakEquityUsd.toFixed(2)} reached the ${(limits.maxDrawdown * 100).toFixed(1)}% limit`,
    );
  }
  return breaches.join("; ");
}

/** The trip these figures call for at `nowMs`, or undefined when no limit is breached. */
export function killSwitchTrip(
  figures: KillSwitchFigures,
  limits: KillSwitchLimits,
  nowMs: number,
  dailyLossResumesNextDay: boolean,
): KillSwitchTrip | undefined {
  const reason = killSwitchBreach(figures, limits);
  if (reason === undefined) return undefined;
  const drawdown = figures.drawdown >= limits.maxDrawdown;
  return {
    kind: drawdown ? "DRAWDOWN" : "DAILY_LOSS",
    reason,
    resumeAtMs: !drawdown && dailyLossResumesNextDay ? nextUtcDayStartMs(nowMs) : undefined,
  };
}

export type KillSwitchKind = KillSwitchTrip["kind"];

/**
 * Whether the switch in this state closes every position (the exit policy's KILL_SWITCH exit): a
 * drawdown halt always does, any other pause when KILL_SWITCH_FLATTEN is on.
 */
export function killSwitchFlattens(
  killSwitch: { active: boolean; kind?: KillSwitchKind | undefined },
  flattenOnKillSwitch: boolean,
): boolean {
  return killSwitch.active && (flattenOnKillSwitch || killSwitch.kind === "DRAWDOWN");
}
