/**
 * The risk manager fails closed on stale books: no equity snapshot, or one older than the bound,
 * refuses new entries (PORTFOLIO_STALE) and says why; exits are never blocked; the backtester,
 * which builds its state with portfolioStateFrom, is not affected.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "#config";
import { assessRisk } from "#risk/index.js";
import { portfolioStateFrom, snapshotStaleness } from "#steps/portfolio-state.js";
import { NOW, riskInput } from "#test/risk/fixtures.js";

const minutesBefore = (minutes: number) => ({ at: new Date(NOW.getTime() - minutes * 60_000).toISOString() });

describe("snapshotStaleness", () => {
  it("no snapshot: says none was written and what to check", () => {
    expect(snapshotStaleness(undefined, NOW, 15)).toMatch(
      /^no equity snapshot yet: the portfolio function has not completed a run.*check that its schedule is enabled and its runs succeed.*Sells are not blocked$/,
    );
  });

  it("fresh up to the bound, stale beyond it, with the snapshot's time, its age and the bound", () => {
    expect(snapshotStaleness(minutesBefore(0), NOW, 15)).toBeUndefined();
    expect(snapshotStaleness(minutesBefore(15), NOW, 15)).toBeUndefined();
    expect(snapshotStaleness(minutesBefore(15.5), NOW, 15)).toBe(
      "the latest equity snapshot is from 2026-03-02T11:44:30.000Z, 15.5 minutes old, beyond the 15-minute bound (RISK_MAX_SNAPSHOT_AGE_MINUTES): the portfolio function has not completed a run since; check its errors, throttles and schedule. New entries resume with its next snapshot; sells are not blocked",
    );
  });

  it("a snapshot stamped far in the future (a run with a wrong time) is not current either", () => {
    expect(snapshotStaleness(minutesBefore(-5), NOW, 15)).toBeUndefined();
    expect(snapshotStaleness({ at: "2099-01-01T00:00:00.000Z" }, NOW, 15)).toMatch(
      /stamped 2099-01-01T00:00:00.000Z, .* minutes ahead of 2026-03-02T12:00:00.000Z.*delete that snapshot \(portfolio table, pk EQUITY, sk 2099-01-01T00:00:00.000Z\)/,
    );
  });
});

describe("assessRisk with stale portfolio figures", () => {
  const stale = "no equity snapshot yet: ...";

  it("refuses a BUY with PORTFOLIO_STALE, beside any other broken limit", () => {
    const decision = assessRisk(
      riskInput({ portfolio: { staleSnapshot: stale, killSwitchActive: true } }),
      NOW,
    );
    expect(decision.decision).toBe("REFUSE");
    expect(decision.adjustedAmountUsd).toBe(0);
    expect(decision.refusals.map((r) => r.reason)).toEqual(["KILL_SWITCH_ACTIVE", "PORTFOLIO_STALE"]);
    expect(decision.refusals[1].detail).toBe(stale);
  });

  it("never refuses a SELL of a held position for it", () => {
    const decision = assessRisk(
      riskInput({
        recommendation: { side: "SELL" },
        portfolio: { staleSnapshot: stale, positions: { "BTC-USD": { quantity: 0.01, markPrice: 50_000 } } },
      }),
      NOW,
    );
    expect(decision.decision).toBe("APPROVE");
    expect(decision.adjustedAmountUsd).toBe(100);
  });

  it("the backtester's state (portfolioStateFrom) never carries it, with or without a snapshot", () => {
    const none = portfolioStateFrom(undefined, [], [], 0, false, 10_000, NOW);
    expect(none.staleSnapshot).toBeUndefined();
    expect(assessRisk(riskInput({ portfolio: none }), NOW).decision).toBe("APPROVE");
  });
});

describe("RISK_MAX_SNAPSHOT_AGE_MINUTES", () => {
  it("defaults to 15 minutes (the portfolio runs every minute) and refuses a bound that is not a whole positive number", () => {
    expect(loadConfig({}).RISK_MAX_SNAPSHOT_AGE_MINUTES).toBe(15);
    expect(loadConfig({ RISK_MAX_SNAPSHOT_AGE_MINUTES: "30" }).RISK_MAX_SNAPSHOT_AGE_MINUTES).toBe(30);
    for (const bad of ["0", "-5", "2.5", "soon"]) {
      expect(() => loadConfig({ RISK_MAX_SNAPSHOT_AGE_MINUTES: bad })).toThrow(
        `RISK_MAX_SNAPSHOT_AGE_MINUTES="${bad}"`,
      );
    }
  });
});
