/**
 * Holds the fast replay (engine.ts) to the step-driven one (step-replay.ts, the live pipeline's own
 * steps on the paper venue): the same orders, each with its id, exit label, symbol, side, time,
 * quote size, base size, price and fee, and the same equity after every cycle, to 1e-9 relative.
 * `npm run backtest -- --check-steps` prints the verdict; the parity tests assert it.
 */
import type { BacktestRun } from "./engine.js";
import type { StepReplayRun } from "./step-replay.js";

/** Relative tolerance of a price, size, fee or equity: float error, never a cent. */
export const STEP_TOLERANCE = 1e-9;

export interface StepCheck {
  /** orders both replays placed, compared one by one */
  orders: number;
  /** cycles whose equity was compared */
  cycles: number;
  /** what differs first, in words; undefined when the replays agree */
  firstDifference?: string;
  /** the step replay's wall time */
  stepMs: number;
}

/** Two prices, sizes, fees or equities equal to STEP_TOLERANCE relative (absolute under 1). */
export const withinTolerance = (a: number, b: number) =>
  Math.abs(a - b) <= STEP_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
const near = withinTolerance;

/** What two replays' orders are compared on (a BacktestTrade, a StepOrder, a live order read back). */
export interface ComparableOrder {
  recommendationId: string;
  exit?: string;
  symbol: string;
  side: string;
  time: string;
  quoteSize?: string;
  baseSize: number;
  price: number;
  fee: number;
}

const byTimeThenId = (a: ComparableOrder, b: ComparableOrder) =>
  a.time.localeCompare(b.time) || a.recommendationId.localeCompare(b.recommendationId);

function describe(o: ComparableOrder | undefined): string {
  if (!o) return "nothing";
  const label = o.exit ? ` ${o.exit}` : "";
  return `${o.side}${label} ${o.symbol} ${o.recommendationId} at ${o.time} (base ${o.baseSize}, price ${o.price}, fee ${o.fee}${o.quoteSize ? `, quote size ${o.quoteSize}` : ""})`;
}

/** The first difference between two order lists (the fast replay's first), or undefined. */
export function firstOrderDifference(
  fast: readonly ComparableOrder[],
  steps: readonly ComparableOrder[],
): string | undefined {
  const a = [...fast].sort(byTimeThenId);
  const b = [...steps].sort(byTimeThenId);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    const same =
      x !== undefined &&
      y !== undefined &&
      x.recommendationId === y.recommendationId &&
      x.exit === y.exit &&
      x.symbol === y.symbol &&
      x.side === y.side &&
      x.time === y.time &&
      x.quoteSize === y.quoteSize &&
      near(x.baseSize, y.baseSize) &&
      near(x.price, y.price) &&
      near(x.fee, y.fee);
    if (!same) return `order ${i + 1}: the fast replay has ${describe(x)}, the live steps ${describe(y)}`;
  }
  return undefined;
}

/** Compares the two replays of one window and settings. */
export function checkAgainstSteps(
  fast: Pick<BacktestRun, "trades" | "equity" | "cycleTimes">,
  steps: StepReplayRun,
): StepCheck {
  const orders = Math.min(fast.trades.length, steps.orders.length);
  let firstDifference = firstOrderDifference(fast.trades, steps.orders);
  if (!firstDifference && steps.deadLetters.length > 0)
    firstDifference = `the live steps dead-lettered ${steps.deadLetters.length} message(s), first on the ${steps.deadLetters[0].queue} queue: ${steps.deadLetters[0].body}`;
  if (!firstDifference && fast.equity.length !== steps.equity.length)
    firstDifference = `the fast replay ran ${fast.equity.length} cycles, the live steps ${steps.equity.length}`;
  if (!firstDifference) {
    for (let c = 0; c < fast.equity.length; c++) {
      if (!near(fast.equity[c], steps.equity[c])) {
        const at = new Date(fast.cycleTimes[c] * 1000).toISOString();
        firstDifference = `equity after the cycle at ${at}: ${fast.equity[c]} in the fast replay, ${steps.equity[c]} in the live steps`;
        break;
      }
    }
  }
  return {
    orders,
    cycles: Math.min(fast.equity.length, steps.equity.length),
    ...(firstDifference ? { firstDifference } : {}),
    stepMs: steps.elapsedMs,
  };
}
