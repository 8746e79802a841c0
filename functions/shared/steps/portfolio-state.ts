/**
 * The portfolio as the risk manager must see it at decision time: the last marked equity snapshot,
 * the positions, PLUS every exposure already approved but not yet in the books (reservations), and
 * the trades approved today. Without the reservations, three approvals inside one minute would each
 * see the same free cash and together break the exposure limits.
 *
 * Fail closed: with no equity snapshot, or one older than the bound (RISK_MAX_SNAPSHOT_AGE_MINUTES),
 * equity, cash and drawdown are unknown, so new entries (BUYs) are refused with PORTFOLIO_STALE
 * until the portfolio function writes a current one. Sells still go: an exit must never wait.
 */
import type { EquitySnapshot, Position } from "#domain/schemas.js";
import type { PortfolioState } from "#risk/index.js";
import type { KillSwitchStore, PortfolioStore, Reservation } from "#store/ports.js";

export function utcDay(at: Date | string): string {
  return (typeof at === "string" ? at : at.toISOString()).slice(0, 10);
}

/**
 * Why the latest equity snapshot cannot size a new entry at `now`, or undefined when it can: there
 * is none yet, or it is more than `maxAgeMinutes` old, or stamped more than that ahead of `now` (a
 * run with a wrong time, which would otherwise stay "latest" forever). Says what to do about it.
 */
export function snapshotStaleness(
  snapshot: Pick<EquitySnapshot, "at"> | undefined,
  now: Date,
  maxAgeMinutes: number,
): string | undefined {
  const bound = `the ${maxAgeMinutes}-minute bound (RISK_MAX_SNAPSHOT_AGE_MINUTES)`;
  if (!snapshot) {
    return (
      "no equity snapshot yet: the portfolio function has not completed a run, so equity, cash and " +
      "drawdown are unknown; new entries wait for its first snapshot (check that its schedule is " +
      "enabled and its runs succeed). Sells are not blocked"
    );
  }
  const ageMinutes = (now.getTime() - Date.parse(snapshot.at)) / 60_000;
  if (ageMinutes > maxAgeMinutes) {
    return (
      `the latest equity snapshot is from ${snapshot.at}, ${ageMinutes.toFixed(1)} minutes old, ` +
      `beyond ${bound}: the portfolio function has not completed a run since; check its errors, ` +
      "throttles and schedule. New entries resume with its next snapshot; sells are not blocked"
    );
  }
  if (-ageMinutes > maxAgeMinutes) {
    return (
      `the latest equity snapshot is stamped ${snapshot.at}, ${(-ageMinutes).toFixed(1)} minutes ahead ` +
      `of ${now.toISOString()}, beyond ${bound}: a portfolio run used a wrong time; check the events ` +
      `invoking it, then delete that snapshot (portfolio table, pk EQUITY, sk ${snapshot.at}). ` +
      "Sells are not blocked"
    );
  }
  return undefined;
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
  return portfolioStateFromMarks(
    snapshot,
    marks,
    reservations,
    approvalsToday,
    killSwitchActive,
    startingCashUsd,
    now,
  );
}

/**
 * portfolioStateFrom on marks already in numbers (quantity > 0 only), which it takes over and
 * changes (the reservations move them): the backtest builds them fresh for each risk check.
 */
export function portfolioStateFromMarks(
  snapshot: EquitySnapshot | undefined,
  marks: PortfolioState["positions"],
  reservations: readonly Reservation[],
  approvalsToday: number,
  killSwitchActive: boolean,
  startingCashUsd: number,
  now: Date,
): PortfolioState {
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
  maxSnapshotAgeMinutes: number,
): Promise<PortfolioState> {
  const [snapshot, positions, reservations, approvals, kill] = await Promise.all([
    portfolio.latestEquitySnapshot(),
    portfolio.getPositions(),
    portfolio.reservations(),
    portfolio.approvalsOn(utcDay(now)),
    killSwitch.get(),
  ]);
  const state = portfolioStateFrom(
    snapshot,
    positions,
    reservations,
    approvals,
    kill.active,
    startingCashUsd,
    now,
  );
  const stale = snapshotStaleness(snapshot, now, maxSnapshotAgeMinutes);
  if (stale !== undefined) state.staleSnapshot = stale;
  return state;
}
