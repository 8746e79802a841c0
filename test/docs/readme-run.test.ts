/**
 * The README's Quick start shows what `npm start` prints: its summary block and the figures of the
 * sentence before it must be what a run prints. This runs `npm start` as the README says (the
 * embedded replay, the defaults, an Ollama answering APPROVE: the fake one) and compares.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BRIDGE_SETTINGS } from "#defaults";
import { DEFAULT_EXITS } from "#exits/exit-settings.js";
import type { RunSummary } from "#local/summary.js";
import { DEFAULT_RISK_LIMITS } from "#risk/index.js";
import { type FakeOllama, startFakeOllama } from "#test/fakes/fake-ollama.js";
import { REPO_ROOT } from "#test/support/paths.js";
import { type RunLocalResult, runLocalChild } from "#test/support/run-local-child.js";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const INTRO = "That run's summary:\n\n```text\n";

/** the summary block the README shows, after "That run's summary:" */
function readmeSummary(): string {
  const start = readme.indexOf(INTRO);
  if (start < 0) throw new Error(`README.md has no "${INTRO.trim()}" block in its Quick start`);
  const body = readme.slice(start + INTRO.length);
  return body.slice(0, body.indexOf("```")).trimEnd();
}

/** the summary npm start printed: from its "Trading" line to its "Kill switch" line */
function printedSummary(stdout: string): string {
  const lines = stdout.split("\n");
  const first = lines.findIndex((l) => l.startsWith("Trading "));
  const last = lines.findIndex((l) => l.startsWith("Kill switch "));
  return lines.slice(first, last + 1).join("\n");
}

const total = (byState: Partial<Record<string, number>>) =>
  Object.values(byState).reduce<number>((sum, n) => sum + (n ?? 0), 0);

describe("README: npm start's figures and summary are a run's", () => {
  const dir = mkdtempSync(join(tmpdir(), "readme-run-"));
  let ollama: FakeOllama;
  let run: RunLocalResult;
  let summary: RunSummary;

  beforeAll(async () => {
    ollama = await startFakeOllama({ defaultBehaviour: "approve" });
    const out = join(dir, "summary.json");
    run = await runLocalChild(["--ollama-host", ollama.host, "--json", out], {});
    if (run.code !== 0) throw new Error(`npm start exited ${run.code}: ${run.stderr}`);
    summary = JSON.parse(readFileSync(out, "utf8"));
  }, 360_000);
  afterAll(async () => {
    await ollama.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the summary block a run prints, line for line", () => {
    expect(readmeSummary().split("\n").length).toBeGreaterThan(20);
    expect(printedSummary(run.stdout)).toBe(readmeSummary());
  });

  it("says the run's figures and reasons in its prose", () => {
    const entries = summary.entriesByState;
    // the reasons the sentence names: only the daily trade limit refused, only the time limit exited
    expect(Object.keys(summary.riskRefusals.byReason)).toEqual(["DAILY_TRADE_LIMIT"]);
    expect(new Set(summary.exits.map((e) => e.reason))).toEqual(new Set(["TIME_LIMIT"]));
    const sentence =
      `${summary.signalsByType.BUY} BUY signals, ${total(entries)} recommendations, and with an Ollama ` +
      `answering APPROVE, ${entries.EXECUTED} paper entries (${entries.REFUSED_BY_RISK} more refused by ` +
      `risk, all by the daily limit of ${DEFAULT_RISK_LIMITS.maxTradesPerDay} trades; ${entries.EXPIRED} ` +
      `expired waiting behind the bridge's ${DEFAULT_BRIDGE_SETTINGS.maxPerCycle} per cycle) and ` +
      `${summary.exits.length} exits at the ${DEFAULT_EXITS.timeLimitCandles}-hour time limit.`;
    expect(readme.replace(/\s+/g, " ")).toContain(sentence);
  });
});
