/**
 * The walk-forward sweep's speed (issue 14's target: a 100-configuration sweep over the whole shared
 * set on cached predictions in under 60 s on this machine's two cores): `npm run backtest -- --sweep`
 * itself in a fresh process, as a user runs it, timed from spawn to exit by this process's clock.
 *
 * The grid: 5 time limits x 4 take-profit ladders x 5 bridge confidences = 100 configurations. The
 * windows cover every candle of the set: tune from its first candle to 2023-07-01, score the top 10
 * from there (plus the purge) to its last candle. The score window reaches into the model card's
 * validation period (--allow-validation-window): nothing is chosen here, only timed.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BenchFigure } from "./figures.js";

const ROOT = resolve(import.meta.dirname, "..");

export const BENCH_GRID = {
  EXIT_TIME_LIMIT_CANDLES: [6, 12, 24, 48, 0],
  EXIT_TAKE_PROFIT_LADDER: ["1:0.5,2:0.5", "1:1", "2:1", "none"],
  BRIDGE_MIN_CONFIDENCE: [0.5, 0.55, 0.6, 0.65, 0.7],
};
const QUICK_GRID = { EXIT_TIME_LIMIT_CANDLES: [12, 24], BRIDGE_MIN_CONFIDENCE: [0.55, 0.6] };

/** The target, seconds of wall time for the 100 configurations. */
export const SWEEP_TARGET_SECONDS = 60;

interface SweepJson {
  configurations: number;
  workers: number;
  timing: {
    workersStartMs: number;
    tuneMs: number;
    scoreMs: number;
    totalMs: number;
    configurationsPerSecond: number;
  };
  market: { symbols: string[]; cacheHits: number; loadMs: number };
  rows: unknown[];
}

/** `npm run backtest -- --sweep ...` in a fresh node process: its JSON and the wall time from spawn to exit. */
async function sweepCli(
  args: readonly string[],
  json: string,
): Promise<{ result: SweepJson; wallMs: number }> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", resolve(ROOT, "bin/backtest.ts"), ...args, "--json", json],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.on("close", done));
  const wallMs = performance.now() - t0;
  if (code !== 0)
    throw new Error(`npm run backtest -- ${args.join(" ")} exited ${code}: ${stderr.slice(-2000)}`);
  return { result: JSON.parse(readFileSync(json, "utf8")) as SweepJson, wallMs };
}

export async function benchSweep(
  options: { quick?: boolean; candlesDir?: string } = {},
): Promise<BenchFigure[]> {
  const shared = resolve(ROOT, "../shared/data/candles");
  const candlesDir =
    options.candlesDir ?? (!options.quick && existsSync(shared) ? shared : resolve(ROOT, "data/replay"));
  const work = mkdtempSync(join(tmpdir(), "sweep-bench-"));
  try {
    const gridPath = join(work, "grid.json");
    writeFileSync(gridPath, JSON.stringify(options.quick ? QUICK_GRID : BENCH_GRID));
    const windows = options.quick
      ? // data/replay: 30 days to 2024-04-14, scorable from its 500th candle
        [
          "--tune-from",
          "2024-04-06",
          "--tune-to",
          "2024-04-11",
          "--score-to",
          "2024-04-15",
          "--allow-validation-window",
        ]
      : [
          "--tune-from",
          "2017-08-17",
          "--tune-to",
          "2023-07-01",
          "--score-to",
          "2024-07-02",
          "--allow-validation-window",
        ];
    // the project's prediction cache, as a user's re-run finds it; a first run fills what is missing
    const args = ["--sweep", gridPath, "--candles", candlesDir, ...windows];
    let run = await sweepCli(args, join(work, "sweep.json"));
    if (run.result.market.cacheHits < run.result.market.symbols.length)
      run = await sweepCli(args, join(work, "sweep.json"));
    const { result, wallMs } = run;
    const n = result.configurations;
    const what = `${n} configurations x ${result.market.symbols.length} symbols`;
    return [
      {
        name: `sweep ${what}, cached predictions, ${result.workers} workers: wall time (fresh process, spawn to exit)`,
        value: wallMs / 1000,
        unit: "s",
        ...(options.quick ? {} : { target: { comparison: "<" as const, value: SWEEP_TARGET_SECONDS } }),
      },
      { name: "  configurations per second, whole command", value: n / (wallMs / 1000), unit: "configs/s" },
      {
        name: "  configurations per second, tune phase (every configuration)",
        value: result.timing.configurationsPerSecond,
        unit: "configs/s",
      },
      { name: "  candles and cached probabilities loaded", value: result.market.loadMs / 1000, unit: "s" },
      { name: "  workers started (code loaded)", value: result.timing.workersStartMs / 1000, unit: "s" },
      { name: "  tune window, every configuration", value: result.timing.tuneMs / 1000, unit: "s" },
      {
        name: `  score window, the top ${result.rows.length}`,
        value: result.timing.scoreMs / 1000,
        unit: "s",
      },
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
