/**
 * The kill switch, for operators (the kill-switch function; `aws lambda invoke` or
 * `npm run invoke -- kill-switch --event events/kill-switch.<action>.json`):
 * {"action":"pause","by":"alice","reason":"..."}, {"action":"resume",...,"resetPeak":true|false}
 * or {"action":"status"}. Pausing stops new orders at once: the bridge stops queueing, the risk
 * manager refuses, the executor cancels what is approved but not yet placed. Exits go on.
 *
 * **Resuming after a drawdown halt.** The portfolio step measures the drawdown from the running
 * peak of equity. A drawdown trip closes every position, so equity stays where the trip left it,
 * under the limit: a plain resume is tripped again by the next portfolio run (a minute later), and
 * the risk manager's drawdown budget refuses every BUY meanwhile. So a resume while the latest
 * snapshot is at or past RISK_MAX_DRAWDOWN must say what it wants:
 * - `"resetPeak": true` starts a new peak at the current equity: the switch records `peakResetAt`,
 *   and the first portfolio snapshot after it takes its own equity as the peak (the drawdown limit
 *   then counts from there; the daily-loss limit is unchanged);
 * - `"resetPeak": false` resumes anyway (the switch trips again unless equity recovered);
 * - without it, the resume is refused with the figures and both choices, and nothing changes.
 * Either choice is in the switch's audit trail (who, when, why, and the peak reset).
 */
import { z } from "zod";
import type { EquitySnapshot, KillSwitch } from "#domain/schemas.js";
import { type KillSwitchLimits, killSwitchTrip } from "#risk/kill-switch-rules.js";
import type { Log } from "#runtime/log.js";
import type { KillSwitchStore, PortfolioStore } from "#store/ports.js";

const Operator = z.string().min(1);
const Why = z.string().min(1);

export const KillSwitchCommand = z.discriminatedUnion("action", [
  z.object({ action: z.literal("pause"), by: Operator, reason: Why }),
  z.object({
    action: z.literal("resume"),
    by: Operator,
    reason: Why,
    /** start a new equity peak at the current equity (see above); required while the drawdown is past its limit */
    resetPeak: z.boolean().optional(),
  }),
  z.object({ action: z.literal("status"), auditLimit: z.number().int().positive().max(100).default(10) }),
  z.object({ action: z.literal("health") }),
]);
export type KillSwitchCommand = z.infer<typeof KillSwitchCommand>;

export interface KillSwitchCommandDeps {
  killSwitch: KillSwitchStore;
  portfolio: Pick<PortfolioStore, "latestEquitySnapshot">;
  log: Log;
}

export interface KillSwitchCommandSettings extends KillSwitchLimits {
  dailyLossResumesNextDay: boolean;
}

export type KillSwitchAnswer =
  | { current: KillSwitch; audit: KillSwitch[] }
  | {
      current: KillSwitch;
      /** the resume started a new peak: the one it replaces and the equity it starts from (latest snapshot) */
      peakReset?: { previousPeakUsd: number; fromEquityUsd: number; takesEffect: string };
      /** what the next portfolio run will do about it, when it trips the switch again */
      warning?: string;
    }
  | { outcome: "refused"; current: KillSwitch; error: string };

export async function runKillSwitchCommand(
  deps: KillSwitchCommandDeps,
  settings: KillSwitchCommandSettings,
  command: Exclude<KillSwitchCommand, { action: "health" }>,
  now: Date,
): Promise<KillSwitchAnswer> {
  if (command.action === "status")
    return {
      current: await deps.killSwitch.get(),
      audit: await deps.killSwitch.auditTrail(command.auditLimit),
    };
  const before = await deps.killSwitch.get();
  if (command.action === "pause") {
    // a peak reset not yet taken by a snapshot survives a pause in between
    const options = before.peakResetAt ? { peakResetAt: new Date(before.peakResetAt) } : {};
    const current = await deps.killSwitch.set(true, command.by, command.reason, now, undefined, options);
    deps.log.warn("kill switch PAUSED trading", { state: current });
    return { current };
  }

  const latest = await deps.portfolio.latestEquitySnapshot();
  const drawdown = latest ? latest.drawdownPct / 100 : 0;
  if (command.resetPeak === undefined && latest && drawdown >= settings.maxDrawdown) {
    const error =
      `equity ${usd(latest.equityUsd)} is ${pct(drawdown)} under its peak ${usd(latest.peakEquityUsd)} ` +
      `(snapshot ${latest.at}), at or past RISK_MAX_DRAWDOWN ${pct(settings.maxDrawdown)}: a plain resume is ` +
      "tripped again by the next portfolio run, and the drawdown budget refuses every BUY meanwhile. Nothing " +
      'was changed. Send the resume again with "resetPeak": true to start a new peak at the current equity ' +
      '(the drawdown limit then counts from there), or "resetPeak": false to resume as is.';
    deps.log.warn("resume refused: the drawdown is still past its limit and resetPeak was not given", {
      by: command.by,
      drawdownPct: latest.drawdownPct,
    });
    return { outcome: "refused", current: before, error };
  }

  const resetPeak = command.resetPeak === true;
  const reason = resetPeak
    ? `${command.reason} [resetPeak: a new equity peak starts at the next portfolio snapshot` +
      `${latest ? ` (peak was ${usd(latest.peakEquityUsd)}, equity ${usd(latest.equityUsd)})` : ""}]`
    : command.reason;
  const current = await deps.killSwitch.set(
    false,
    command.by,
    reason,
    now,
    undefined,
    resetPeak ? { peakResetAt: now } : {},
  );
  const warning = nextRunWarning(latest, resetPeak, settings, now);
  deps.log.warn(`kill switch RESUMED trading${resetPeak ? " with a new equity peak" : ""}`, {
    state: current,
    ...(latest ? { drawdownPct: latest.drawdownPct, peakEquityUsd: latest.peakEquityUsd } : {}),
    ...(warning ? { warning } : {}),
  });
  return {
    current,
    ...(resetPeak && latest
      ? {
          peakReset: {
            previousPeakUsd: latest.peakEquityUsd,
            fromEquityUsd: latest.equityUsd,
            takesEffect: "at the next portfolio snapshot, from the equity it marks",
          },
        }
      : {}),
    ...(warning ? { warning } : {}),
  };
}

/** What the next portfolio run decides from the latest figures (after the reset, if any), when it trips. */
function nextRunWarning(
  latest: EquitySnapshot | undefined,
  resetPeak: boolean,
  settings: KillSwitchCommandSettings,
  now: Date,
): string | undefined {
  if (!latest) return undefined;
  const figures = {
    drawdown: resetPeak ? 0 : latest.drawdownPct / 100,
    dailyLoss: Math.max(0, -latest.dailyPnlPct / 100),
    peakEquityUsd: resetPeak ? latest.equityUsd : latest.peakEquityUsd,
  };
  const trip = killSwitchTrip(figures, settings, now.getTime(), settings.dailyLossResumesNextDay);
  if (!trip) return undefined;
  const until =
    trip.resumeAtMs === undefined
      ? "until an operator resumes"
      : `until ${new Date(trip.resumeAtMs).toISOString()}`;
  return `at the latest figures the next portfolio run trips the switch again (${trip.reason}), ${until}`;
}

const usd = (n: number) => n.toFixed(2);
const pct = (f: number) => `${(f * 100).toFixed(2)}%`;
