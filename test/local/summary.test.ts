import { describe, expect, it } from "vitest";
import { summarizeRun } from "#local/summary.js";
import { formatSummary } from "#local/summary-format.js";
import { exitChain } from "#test/e2e/exits-support.js";

describe("npm start's summary: exits and P&L per position", () => {
  it("lists each exit with its reason and booked P&L, and realized and unrealized P&L per position", async () => {
    const chain = await exitChain("summary-exits", { trailing: undefined });
    const opened = await chain.enter("s-tp", "SOL-USD", 500, 150);
    await chain.enter("s-open", "ETH-USD", 500, 3000);
    chain.advance(3_600_000);
    await chain.price("SOL-USD", opened.entryPrice + 2.5 * opened.riskPerUnit);
    await chain.price("ETH-USD", 3000);
    await chain.cycle();

    const summary = await summarizeRun(chain.stores, new Date("2024-06-30T11:00:00Z"), chain.now());
    expect(summary.exits.map((e) => [e.positionId, e.reason, e.outcome])).toEqual([
      ["s-tp", "TAKE_PROFIT_1", "FILLED"],
      ["s-tp", "TAKE_PROFIT_2", "FILLED"],
    ]);
    const closed = summary.managedPositions.find((p) => p.positionId === "s-tp");
    expect(closed).toMatchObject({ status: "CLOSED", exits: ["TAKE_PROFIT_1", "TAKE_PROFIT_2"] });
    expect(closed?.realizedPnlUsd).toBeGreaterThan(0);
    expect(summary.managedPositions.find((p) => p.positionId === "s-open")?.status).toBe("OPEN");
    // --json writes the summary as it is: the exits survive a round trip
    expect(JSON.parse(JSON.stringify(summary)).exits).toHaveLength(2);

    const text = formatSummary(summary);
    expect(text).toMatch(/^Exits\s+TAKE_PROFIT_1 1 {2}TAKE_PROFIT_2 1$/m);
    expect(text).toMatch(/TAKE_PROFIT_1\s+SOL-USD\s+sold \S+ @ \S+ {2}P&L \$\d+\.\d\d/);
    expect(text).toMatch(
      /^ {2}SOL-USD +\S+Z {2}entry \S+ +CLOSED \S+Z by TAKE_PROFIT_1, TAKE_PROFIT_2 +realized \$\d+\.\d\d$/m,
    );

    // the open position: unrealized P&L at the ledger's last mark, net of what the entry cost (fees included)
    const open = summary.managedPositions.find((p) => p.positionId === "s-open")!;
    const mark = summary.positions.find((p) => p.symbol === "ETH-USD")!.markPrice;
    expect(open.markPrice).toBe(Number(mark));
    expect(open.unrealizedPnlUsd).toBeCloseTo(Number(open.quantity) * Number(mark) - open.entryCostUsd, 9);
    // priced where it was bought: the entry's fees and spread are the loss so far
    expect(open.unrealizedPnlUsd).toBeLessThan(0);
    expect(closed?.unrealizedPnlUsd).toBeUndefined();
    expect(text).toMatch(
      /^ {2}ETH-USD +\S+Z {2}entry \S+ +OPEN \S+ @ \S+ +realized \$0\.00 {2}unrealized -\$\d+\.\d\d$/m,
    );
    const realized = closed!.realizedPnlUsd.toFixed(2).replace(".", "\\.");
    expect(text).toMatch(
      new RegExp(
        `^P&L per position realized \\$${realized} {2}unrealized -\\$\\d+\\.\\d\\d {2}total \\S+ {2}\\(1 closed, 1 open\\)$`,
        "m",
      ),
    );
  });
});
