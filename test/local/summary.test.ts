import { describe, expect, it } from "vitest";
import { formatSummary, summarizeRun } from "#local/summary.js";
import { exitChain } from "#test/e2e/exits-support.js";

describe("npm start's summary: exits and closed positions", () => {
  it("lists each exit with its reason and booked P&L, and realized P&L per closed position", async () => {
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
      new RegExp(
        `^Closed positions 1 {2}\\(realized P&L \\$${closed!.realizedPnlUsd.toFixed(2)}; 1 still open\\)$`,
        "m",
      ),
    );
    expect(text).toMatch(/SOL-USD.*by TAKE_PROFIT_1, TAKE_PROFIT_2 {2}P&L \$\d+\.\d\d/);
  });
});
