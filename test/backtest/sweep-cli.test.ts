import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { sweepMain, wantsSweep } from "#backtest/sweep-cli.js";
import { REPO_ROOT } from "#test/support/paths.js";

const REPLAY = resolve(REPO_ROOT, "data/replay");
const work = mkdtempSync(join(tmpdir(), "sweep-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** data/replay: 30 days to 2024-04-14, scorable from its 500th candle (2024-04-06), all in the validation period */
const WINDOWS = ["--tune-from", "2024-04-06", "--tune-to", "2024-04-11", "--score-to", "2024-04-15"];

async function sweep(args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((line: string) => {
    lines.push(line);
  });
  try {
    await sweepMain(args, {});
  } finally {
    log.mockRestore();
  }
  return lines.join("\n");
}

describe("npm run backtest -- --sweep (on data/replay)", () => {
  it("is what bin/backtest.ts hands over", () => {
    expect(wantsSweep(["--candles", "x", "--sweep", "g.json"])).toBe(true);
    expect(wantsSweep(["--sweep=g.json"])).toBe(true);
    expect(wantsSweep(["--candles", "x"])).toBe(false);
  });

  it("scores missing predictions once into the cache, then sweeps on the cached ones", async () => {
    const grid = join(work, "grid.json");
    writeFileSync(
      grid,
      JSON.stringify({ EXIT_TIME_LIMIT_CANDLES: [6, 12], BRIDGE_MIN_CONFIDENCE: [0.55, 0.6] }),
    );
    const cacheDir = join(work, "cache");
    const json = join(work, "out.json");
    const args = ["--sweep", grid, "--candles", REPLAY, "--cache-dir", cacheDir, ...WINDOWS];
    const first = await sweep([...args, "--allow-validation-window", "--workers", "2", "--top", "3"]);
    expect(first).toContain(
      "grid.json: 4 configurations (EXIT_TIME_LIMIT_CANDLES x2, BRIDGE_MIN_CONFIDENCE x2)",
    );
    expect(first).toMatch(/probabilities scored for 19 file\(s\) and cached/);
    expect(readdirSync(cacheDir)).toHaveLength(19);
    const second = await sweep([...args, "--allow-validation-window", "--top", "3", "--json", json]);
    expect(second).toContain("probabilities all from the cache");
    expect(second).toContain(
      "score window  2024-04-12T00:00Z → 2024-04-15T00:00Z: the top 3 by tune-window Sharpe",
    );
    expect(second).toContain("reaches into the model card's validation period");
    const out = JSON.parse(readFileSync(json, "utf8"));
    expect(out.configurations).toBe(4);
    expect(out.rows).toHaveLength(3);
    expect(out.windows.purgeHours).toBe(24);
    expect(out.market.cacheHits).toBe(19);
    expect(out.rankedBy).toBe("score-window sharpe among the top 3 configurations by tune-window sharpe");
    // the two runs agree: the cache holds what the model said
    const rows = (text: string) => text.split("\n").filter((l) => /^\s+\d+\s+\d+ \|/.test(l));
    expect(rows(first)).toHaveLength(3);
    expect(rows(second)).toEqual(rows(first));
  }, 120_000);

  it("refuses a score window in the validation period without --allow-validation-window", async () => {
    const grid = join(work, "grid1.json");
    writeFileSync(grid, JSON.stringify({ EXIT_TIME_LIMIT_CANDLES: [12] }));
    await expect(
      sweep(["--sweep", grid, "--candles", REPLAY, "--cache-dir", join(work, "c2"), ...WINDOWS]),
    ).rejects.toThrow(/inside the model card's validation period.*--allow-validation-window/);
  });
});
