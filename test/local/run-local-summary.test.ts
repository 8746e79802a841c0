/**
 * `npm start`'s summary end to end: bin/run-local.ts as a child process over the replayed April 2024
 * candles, paper venue, the fake Ollama rejecting the first two recommendations and approving the
 * rest, and a daily trade limit of 2 so the risk manager refuses. The summary must say why (LLM
 * counts, refusals by reason), book P&L per position, print money in cents and prices at the
 * product's increment, and carry one clock (the replay's) in --json.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decimal } from "decimal.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledProductRules } from "#coinbase/product-rules.js";
import type { RunSummary } from "#local/summary.js";
import { APRIL_CANDLES } from "#test/e2e/support.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { type RunLocalResult, runLocalChild } from "#test/support/run-local-child.js";

/** the fixture's last candle opens at 2024-04-14T17:00Z; 7 cycles run at 11:01 .. 17:01 */
const FIRST_CYCLE = "2024-04-14T11:01:00.000Z";
const LAST_CYCLE = "2024-04-14T17:01:00.000Z";
const REJECTION = "Momentum is fading into resistance; the reward does not cover the risk.";

const dir = mkdtempSync(join(tmpdir(), "run-local-summary-"));

describe("npm start's summary says why, per position, in cents, on one clock", () => {
  let ollama: FakeOllama;
  let run: RunLocalResult;
  let summary: RunSummary & { trading: { mode: string } };
  /** the summary part of stdout: from the blank line after "Done in" */
  let text: string;

  beforeAll(async () => {
    ollama = await startFakeOllama({ defaultBehaviour: "approve" });
    ollama.script({ kind: "reject", reasoning: REJECTION }, { kind: "reject", reasoning: REJECTION });
    const out = join(dir, "summary.json");
    run = await runLocalChild(
      [
        "--candles",
        APRIL_CANDLES,
        "--hours",
        "7",
        "--ollama-host",
        ollama.host,
        "--ollama-model",
        "phi3:3.8b",
        "--json",
        out,
      ],
      { RISK_MAX_TRADES_PER_DAY: "2" },
    );
    if (run.code !== 0) throw new Error(`npm start exited ${run.code}: ${run.stderr}`);
    summary = JSON.parse(readFileSync(out, "utf8"));
    text = run.stdout.slice(run.stdout.indexOf("\nTrading "));
  }, 120_000);
  afterAll(async () => {
    await ollama.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts the LLM's approvals and rejections as the LLM answered them", () => {
    const asked = ollama.chatRequests().length;
    expect(asked).toBeGreaterThan(2);
    expect(summary.llm).toMatchObject({ approved: asked - 2, rejected: 2, waiting: 0 });
    expect(summary.entriesByState.REJECTED_BY_LLM).toBe(2);
    expect(summary.llm.rejections.map((r) => r.reasoning)).toEqual([REJECTION, REJECTION]);
    expect(text).toMatch(new RegExp(`^LLM {14}approved ${asked - 2} {2}rejected 2$`, "m"));
    expect(text).toContain(`  ${summary.llm.rejections[0]!.symbol.padEnd(10)} ${REJECTION}`);
  });

  it("gives each risk refusal its reason: here every one is the daily trade limit of 2", () => {
    const refused = summary.entriesByState.REFUSED_BY_RISK ?? 0;
    expect(refused).toBeGreaterThan(0);
    expect(summary.riskRefusals.total).toBe(refused);
    expect(summary.riskRefusals.byReason).toEqual({ DAILY_TRADE_LIMIT: refused });
    for (const r of summary.riskRefusals.refused)
      expect(r.reasons).toEqual([
        { reason: "DAILY_TRADE_LIMIT", detail: expect.stringContaining("reach the limit of 2 per day") },
      ]);
    expect(text).toMatch(new RegExp(`^Risk refusals {4}${refused}: DAILY_TRADE_LIMIT ${refused}$`, "m"));
    expect(text).toMatch(
      /^ {2}DAILY_TRADE_LIMIT +\d+ {2}first: \S+-USD at 2024-04-14T\d\d:01Z, \d+ trades today/m,
    );
  });

  it("puts every fill on the replay clock, at its order's time", () => {
    expect(summary.fills.length).toBeGreaterThan(0);
    for (const fill of summary.fills) {
      const order = summary.orders.find((o) => o.clientOrderId === fill.clientOrderId);
      expect(fill.tradeTime).toBe(order?.createdAt);
      expect(fill.tradeTime >= FIRST_CYCLE && fill.tradeTime <= LAST_CYCLE).toBe(true);
    }
  });

  it("books realized and unrealized P&L per position, adding up to equity minus the starting cash", () => {
    const positions = summary.managedPositions;
    expect(positions.length).toBeGreaterThan(0);
    const open = positions.filter((p) => Number(p.quantity) > 0);
    expect(open.length).toBeGreaterThan(0);
    for (const p of open) expect(p.unrealizedPnlUsd).toBeTypeOf("number");
    const booked = positions.reduce(
      (sum, p) => sum.plus(p.realizedPnlUsd).plus(p.unrealizedPnlUsd ?? 0),
      new Decimal(0),
    );
    // the ledger's cash and marks and the positions' own books are kept apart: they must agree
    expect(
      booked
        .minus(summary.equity!.equityUsd - 10_000)
        .abs()
        .toNumber(),
    ).toBeLessThan(0.01);
    const header = text.match(
      /^P&L per position realized (\S+) {2}unrealized (\S+) {2}total (\S+) {2}\((\d+) closed, (\d+) open\)$/m,
    );
    const dollars = (printed: string | undefined) => Number(printed?.replace("$", ""));
    expect(dollars(header?.[3])).toBe(booked.toDecimalPlaces(2).toNumber());
    expect(Number(header?.[4]) + Number(header?.[5])).toBe(positions.length);
    for (const p of open) {
      expect(text).toMatch(
        new RegExp(
          `^ {2}${p.symbol} +${p.openedAt.slice(0, 16)}Z .*OPEN ${p.quantity} @ .* unrealized -?\\$\\d+\\.\\d\\d$`,
          "m",
        ),
      );
    }
  });

  it("prints money in cents and prices at the product's price increment", () => {
    const amounts = [...text.matchAll(/-?\$[\d.]+/g)].map((m) => m[0]);
    expect(amounts.length).toBeGreaterThan(10);
    for (const amount of amounts) expect(amount).toMatch(/^-?\$\d+\.\d\d$/);
    const orderLines = [
      ...text.matchAll(/^ {2}\S+Z {2}(BUY|SELL) +(\S+) +FILLED +\S+ @ (\S+) = \S+ {2}fees (\S+)$/gm),
    ];
    expect(orderLines.length).toBe(summary.orders.length);
    for (const [, , symbol, price] of orderLines) {
      const decimals = new Decimal(bundledProductRules(symbol!).priceIncrement).decimalPlaces();
      expect(price!.split(".")[1]?.length ?? 0).toBe(decimals);
    }
    // the raw fee strings (e.g. 0.596421458208) stay in --json only
    expect(summary.orders.some((o) => o.totalFees.split(".")[1]!.length > 2)).toBe(true);
  });
});
