/**
 * The portfolio as the risk manager must see it at decision time: the last marked equity snapshot,
 * the positions, PLUS every exposure already approved but not yet in the books (reservations), and
 * the trades approved today. Without the reservations, three approvals inside one minute would each
 * see the same free cash and together break the exposure limits.
 */
import type { EquitySnapshot, Position } from "../domain/schemas.js";
import type { PortfolioState } from "../risk/index.js";
import type { KillSwitchStore, PortfolioStore, Reservation } from "../store/ports.js";

export function utcDay(at: Date | string): string {
  return (typeof at === "string" ? at : at.toISOString()).slice(0, 10);
}

export function portfolioStateFrom(
  snapshot: EquitySnapshot | undefined,
  positions: readonly Position[],
  reservations: readonly Reservation[],
  approvalsToday: number,
  killSwitchActive: boolean,
  startingCashUsd: number,
  now: Date,
): PortfolioState {
  const marks: PortfolioState["positions"] = {};
  for (const p of positions) {
    const quantity = Number(p.quantity);
    if (quantity > 0) marks[p.symbol] = { quantity, markPrice: Number(p.markPrice) };
  }
  let cash = snapshot ? snapshot.cashUsd : startingCashUsd;
  for (const r of reservations) {
    const mark = marks[r.symbol];
    if (r.side === "BUY") {
      const price = mark?.markPrice ?? 1;
      marks[r.symbol] = { quantity: (mark?.quantity ?? 0) + r.amountUsd / price, markPrice: price };
      cash -= r.amountUsd;
    } else if (mark) {
      mark.quantity = Math.max(0, mark.quantity - r.amountUsd / mark.markPrice);
      cash += r.amountUsd;
    }
  }
  const equity = snapshot ? snapshot.equityUsd : startingCashUsd;
  const sameDay = snapshot && utcDay(snapshot.at) === utcDay(now);
  return {
    equityUsd: equity,
    cashUsd: cash,
    peakEquityUsd: Math.max(snapshot?.peakEquityUsd ?? equity, equity),
    dayStartEquityUsd: sameDay ? snapshot.dayStartEquityUsd : equity,
    tradesToday: approvalsToday,
    positions: marks,
    killSwitchActive,
  };
}

export async function loadPortfolioState(
  portfolio: PortfolioStore,
  killSwitch: KillSwitchStore,
  startingCashUsd: number,
  now: Date,
): Promise<PortfolioState> {
  const [snapshot, positions, reservations, approvals, kill] = await Promise.all([
    portfolio.latestEquitySnapshot(),
    portfolio.getPositions(),
    portfolio.reservations(),
    portfolio.approvalsOn(utcDay(now)),
    killSwitch.get(),
  ]);
  return portfolioStateFrom(snapshot, positions, reservations, approvals, kill.active, startingCashUsd, now);
}
