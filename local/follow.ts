/**
 * `npm start -- --follow`: paper trading that keeps going, one pipeline cycle per closed candle,
 * until stopped. The clock is the wall clock (candles from Coinbase's public endpoint) or a scaled
 * one (`--speed 60`: one hour per minute) over replayed history. A stop request (Ctrl-C, SIGTERM)
 * never cuts a cycle in half: a cycle that is running completes (its queues drained, its snapshot
 * written) and no new one starts; a stop while waiting for the next candle ends the wait at once.
 */
import type { CycleReport, LocalPipeline } from "./pipeline.js";

export interface FollowClock {
  /** the clock's time, ms */
  now(): number;
  /** resolves when the clock reaches `atMs`, or at once when `signal` aborts */
  sleepUntil(atMs: number, signal: AbortSignal): Promise<void>;
}

/**
 * A clock that starts at `startMs` and runs `speed` times faster than the wall clock: speed 1 from
 * now is the wall clock itself; speed 60 replays an hour a minute.
 */
export function scaledClock(startMs: number, speed: number, wallNow: () => number = Date.now): FollowClock {
  if (!(speed > 0 && Number.isFinite(speed)))
    throw new Error(`speed must be a positive number, got ${speed}`);
  const wallStart = wallNow();
  const now = () => startMs + (wallNow() - wallStart) * speed;
  return {
    now,
    async sleepUntil(atMs, signal) {
      // a long wait is cut into steps so timer drift cannot make the clock overshoot much
      while (!signal.aborted && now() < atMs) {
        const wallMs = Math.min((atMs - now()) / speed, 60_000);
        await abortableDelay(Math.max(1, Math.ceil(wallMs)), signal);
      }
    },
  };
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

export interface FollowOptions {
  pipeline: Pick<LocalPipeline, "runCycle">;
  clock: FollowClock;
  intervalSeconds: number;
  /** each cycle runs this long after its candle closed (Coinbase needs a moment to publish it) */
  delaySeconds: number;
  /** the last candle close to trade (the end of a replay); default: none */
  lastCloseMs?: number;
  /** stop after this many cycles; default: none */
  maxCycles?: number;
  /** stop after this many failed cycles in a row; default 3 */
  maxConsecutiveFailures?: number;
  /** aborting it stops the run after the current cycle */
  signal: AbortSignal;
  onCycle(report: CycleReport, cycle: number): void;
  onCycleFailed(at: Date, error: unknown): void;
}

export type FollowStop = "signal" | "end-of-data" | "cycles" | "failures";

export interface FollowResult {
  cycles: number;
  failedCycles: number;
  stoppedBy: FollowStop;
  /** time of the first and last cycle that ran, ISO */
  firstAt?: string;
  lastAt?: string;
}

/**
 * Runs a cycle for every candle close from the last close before the clock's start onward, in
 * order: a run that falls behind (a slow cycle at a high speed) catches up candle by candle, it
 * never skips one. A failed cycle is reported and the next candle tried; its messages stay queued
 * for the next cycle's drain.
 */
export async function follow(options: FollowOptions): Promise<FollowResult> {
  const step = options.intervalSeconds * 1000;
  const maxFailures = options.maxConsecutiveFailures ?? 3;
  let close = Math.floor(options.clock.now() / step) * step;
  const result: FollowResult = { cycles: 0, failedCycles: 0, stoppedBy: "signal" };
  let failuresInARow = 0;
  while (!options.signal.aborted) {
    if (options.lastCloseMs !== undefined && close > options.lastCloseMs) {
      result.stoppedBy = "end-of-data";
      break;
    }
    const atMs = close + options.delaySeconds * 1000;
    await options.clock.sleepUntil(atMs, options.signal);
    if (options.signal.aborted) break;
    const at = new Date(atMs);
    try {
      const report = await options.pipeline.runCycle(at);
      result.cycles++;
      failuresInARow = 0;
      result.firstAt ??= report.at;
      result.lastAt = report.at;
      options.onCycle(report, result.cycles);
    } catch (error) {
      result.failedCycles++;
      failuresInARow++;
      options.onCycleFailed(at, error);
      if (failuresInARow >= maxFailures) {
        result.stoppedBy = "failures";
        break;
      }
    }
    if (options.maxCycles !== undefined && result.cycles >= options.maxCycles) {
      result.stoppedBy = "cycles";
      break;
    }
    close += step;
  }
  return result;
}

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** One line per cycle: when, what came in, what the chain did, where equity stands. */
export function formatCycleStatus(report: CycleReport, cycle: number): string {
  const at = report.at.slice(0, 16).replace("T", " ");
  const parts = [
    `#${cycle}`,
    `${at} UTC`,
    `candles +${report.ingested}`,
    `signals ${report.signals}`,
    `recs +${report.created}`,
    `validated ${report.validated}`,
    `risk ${report.risk}`,
    `orders ${report.executed}`,
    `equity ${usd.format(report.equityUsd)}`,
  ];
  if (report.exits.length > 0) parts.push(`exits ${report.exits.join(", ")}`);
  return parts.join("  ");
}
