/** The books: positions, equity snapshots, and the kill switch that stops new orders. */
import { z } from "zod";
import { DecimalString, FiniteNumber, IsoTime, ProductId } from "./primitives.js";

export const Position = z.object({
  symbol: ProductId,
  quantity: DecimalString,
  averageEntryPrice: DecimalString,
  costBasisUsd: DecimalString,
  realizedPnlUsd: DecimalString,
  markPrice: DecimalString,
  marketValueUsd: DecimalString,
  updatedAt: IsoTime,
});
export type Position = z.infer<typeof Position>;

export const EquitySnapshot = z.object({
  at: IsoTime,
  equityUsd: FiniteNumber,
  cashUsd: FiniteNumber,
  positionsValueUsd: FiniteNumber,
  peakEquityUsd: FiniteNumber,
  drawdownPct: FiniteNumber.min(0).max(100),
  dayStartEquityUsd: FiniteNumber,
  dailyPnlUsd: FiniteNumber,
  dailyPnlPct: FiniteNumber,
  tradesToday: z.number().int().nonnegative(),
  /** held assets that could not be marked to market; they count 0 in equity (absent on old items) */
  unpricedAssets: z.number().int().nonnegative().optional(),
});
export type EquitySnapshot = z.infer<typeof EquitySnapshot>;

export const KillSwitch = z.object({
  active: z.boolean(),
  changedBy: z.string().min(1),
  changedAt: IsoTime,
  reason: z.string().min(1),
  /** an automatic daily-loss pause lifts itself at this time (the next UTC midnight); absent: an operator resumes */
  resumeAt: IsoTime.optional(),
  /** the limit an automatic trip broke (DRAWDOWN also closes every position); absent for an operator's change */
  kind: z.enum(["DAILY_LOSS", "DRAWDOWN"]).optional(),
  /**
   * an operator resumed with resetPeak: the first equity snapshot after this time starts a new peak
   * at the equity it marks (the drawdown limit counts from there); absent: the running peak holds
   */
  peakResetAt: IsoTime.optional(),
});
export type KillSwitch = z.infer<typeof KillSwitch>;
