/**
 * Backtest benchmark on the shared 1h set, with `npm run backtest` itself in fresh processes (what a
 * user runs, JIT cold): a cold run (empty prediction cache: candles, features, inference, replay)
 * against pure batched inference over the same rows (also in a fresh process each time:
 * pure-inference-entry.ts), and cached re-runs with two risk settings (the median of five each).
 * The cold run scores on a worker thread while the main thread reads files and computes features;
 * both it and the pure-inference baseline use one onnxruntime thread. The one-thread cold run and
 * the cold run's CPU time are printed beside it so the overlap is visible, not hidden. Pure
 * inference runs before the first cold run and after each, and each cold run is compared with the
 * pure runs either side of it, so a machine that drifts (this one: 10-20% within a minute) moves both.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BacktestTiming } from "#backtest/run.js";
import type { BenchFigure } from "./figures.js";
import { median } from "./stats.js";

export type { BenchFigure };

const ROOT = resolve(import.meta.dirname, "..");
/** Cold runs whose ratios to pure inference give the verdict (their median). */
const COLD_ROUNDS = 5;
/** Cached re-runs of each setting whose replay rates give the verdict (their median). */
const CACHED_ROUNDS = 5;

/** Pure batched inference over the folder's scorable rows in a fresh process (pure-inference-entry.ts). */
async function pureInference(
  candlesDir: string,
  modelPath: string,
  besideBusyThread = false,
): Promise<{ ms: number; rows: number }> {
  const entry = resolve(import.meta.dirname, "pure-inference-entry.ts");
  const args = [entry, candlesDir, modelPath, ...(besideBusyThread ? ["--beside-busy-thread"] : [])];
  const stdout = await runTsx(args, `pure inference over ${candlesDir}`);
  return JSON.parse(stdout.trim().split("\n").at(-1) as string) as { ms: number; rows: number };
}

/** A TypeScript entry under tsx in a fresh node process; its standard output. */
async function runTsx(args: readonly string[], what: string): Promise<string> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((done) => child.on("close", done));
  if (code !== 0) throw new Error(`${what} exited ${code}: ${stderr.slice(-2000)}`);
  return stdout;
}

interface CliRun {
  timing: BacktestTiming;
  counts: { candleSteps: number };
  tradesSha256: string;
}

/** `npm run backtest -- <args> --json <file>` in a fresh node process; its JSON result. */
async function backtestCli(args: readonly string[], work: string): Promise<CliRun> {
  const json = join(work, `run-${Math.random().toString(36).slice(2)}.json`);
  await runTsx(
    [resolve(ROOT, "bin/backtest.ts"), ...args, "--json", json],
    `npm run backtest -- ${args.join(" ")}`,
  );
  return JSON.parse(readFileSync(json, "utf8")) as CliRun;
}

export async function benchBacktest(
  options: { candlesDir?: string; quick?: boolean } = {},
): Promise<BenchFigure[]> {
  // quick (the bench's smoke mode): the small embedded sample instead of the whole shared set
  const shared = resolve(ROOT, "../shared/data/candles");
  const candlesDir =
    options.candlesDir ?? (!options.quick && existsSync(shared) ? shared : resolve(ROOT, "data/replay"));
  const modelPath = resolve(ROOT, "models/signal-model.onnx");
  const work = mkdtempSync(join(tmpdir(), "backtest-bench-"));
  const cacheDir = join(work, "predictions");
  // the whole span, as before the default window started at the model's first unseen candle: the
  // replay figures measure every candle-step of the set (the run is marked IN-SAMPLE, which is fine here)
  const base = ["--candles", candlesDir, "--from", "2000-01-01"];
  try {
    // pure inference before the first cold run and after each: each cold run is compared with the
    // mean of the pure runs either side of it, so a machine drifting steadily (this one: 10-20%
    // within a minute) moves the baseline with it
    let before = await pureInference(candlesDir, modelPath);
    const rows = before.rows;
    const rounds: { cold: CliRun; inferenceMs: number }[] = [];
    for (let round = 0; round < (options.quick ? 1 : COLD_ROUNDS); round++) {
      const cold = await backtestCli([...base, "--no-cache"], work);
      const after = await pureInference(candlesDir, modelPath);
      rounds.push({ cold, inferenceMs: (before.ms + after.ms) / 2 });
      before = after;
    }
    const besideBusyMs = (await pureInference(candlesDir, modelPath, true)).ms;
    const oneThread = await backtestCli([...base, "--no-cache", "--single-thread"], work);
    // fill the cache, then re-run with two risk settings, alternating, CACHED_ROUNDS times each: a
    // replay of a few hundred milliseconds in a fresh process moves by a third from run to run here
    await backtestCli([...base, "--cache-dir", cacheDir], work);
    const cachedRuns: CliRun[] = [];
    const resumeRuns: CliRun[] = [];
    for (let round = 0; round < (options.quick ? 1 : CACHED_ROUNDS); round++) {
      cachedRuns.push(await backtestCli([...base, "--cache-dir", cacheDir], work));
      resumeRuns.push(
        await backtestCli([...base, "--cache-dir", cacheDir, "--resume-kill-switch-after", "24"], work),
      );
    }
    const fingerprints = new Set(
      rounds
        .map((r) => r.cold.tradesSha256)
        .concat(oneThread.tradesSha256, ...cachedRuns.map((run) => run.tradesSha256)),
    );
    if (fingerprints.size !== 1) {
      throw new Error(`the same backtest gave different trade lists: ${[...fingerprints].join(", ")}`);
    }
    const middle = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick));
    const inferenceMs = middle((r) => r.inferenceMs);
    const ratios = rounds.map((r) => r.cold.timing.totalMs / r.inferenceMs);
    const loopRate = (run: CliRun) => run.counts.candleSteps / (run.timing.replayMs / 1000);
    const loopRates = (runs: CliRun[]) => runs.map(loopRate);
    const millions = (rates: number[]) => rates.map((r) => (r / 1e6).toFixed(2)).join(", ");
    const peakRssMb = Math.max(
      process.resourceUsage().maxRSS / 1024,
      ...rounds.map((r) => r.cold.timing.peakRssMb),
      oneThread.timing.peakRssMb,
      ...cachedRuns.map((run) => run.timing.peakRssMb),
      ...resumeRuns.map((run) => run.timing.peakRssMb),
    );
    return [
      {
        name: `backtest cold (${rows} rows; fresh process; inference on a worker thread), median of ${rounds.length}`,
        value: middle((r) => r.cold.timing.totalMs) / 1000,
        unit: "s",
      },
      {
        name: "  of which model load",
        value: middle((r) => r.cold.timing.modelMs) / 1000,
        unit: "s",
      },
      {
        name: "  inference (worker thread, busy time)",
        value: middle((r) => r.cold.timing.inferenceMs) / 1000,
        unit: "s",
      },
      {
        name: "  CPU time, both threads (user + system)",
        value: middle((r) => r.cold.timing.cpuMs) / 1000,
        unit: "s",
      },
      {
        name: `pure batched inference, same rows (one thread), median of ${rounds.length} (mean of the runs before and after each cold run)`,
        value: inferenceMs / 1000,
        unit: "s",
      },
      {
        name: `cold backtest / pure inference, median of rounds (${ratios.map((r) => r.toFixed(3)).join(", ")})`,
        value: median(ratios),
        unit: "x",
        target: { comparison: "<", value: 1.25 },
      },
      {
        name: "median cold backtest / median pure inference (the same runs, paired by median instead of by round)",
        value: middle((r) => r.cold.timing.totalMs) / inferenceMs,
        unit: "x",
      },
      {
        name: "pure inference, same rows, beside a thread spinning an integer loop",
        value: besideBusyMs / 1000,
        unit: "s",
      },
      {
        name: "backtest cold, one thread (--single-thread)",
        value: oneThread.timing.totalMs / 1000,
        unit: "s",
      },
      {
        name: "one-thread cold backtest / pure inference",
        value: oneThread.timing.totalMs / inferenceMs,
        unit: "x",
      },
      {
        name: `cached re-run, replay loop (fresh process), median of ${cachedRuns.length} (${millions(loopRates(cachedRuns))}M)`,
        value: median(loopRates(cachedRuns)),
        unit: "candle-steps/s",
        target: { comparison: ">=", value: 5_000_000 },
      },
      {
        name: `cached re-run --resume-kill-switch-after 24, replay loop, median of ${resumeRuns.length} (${millions(loopRates(resumeRuns))}M)`,
        value: median(loopRates(resumeRuns)),
        unit: "candle-steps/s",
        target: { comparison: ">=", value: 5_000_000 },
      },
      {
        name: `cached re-run, end to end (candles, hashes, cache, replay, metrics), median of ${cachedRuns.length}`,
        value: median(cachedRuns.map((run) => run.counts.candleSteps / (run.timing.totalMs / 1000))),
        unit: "candle-steps/s",
      },
      {
        name: "peak RSS (largest process)",
        value: peakRssMb,
        unit: "MB",
        target: { comparison: "<", value: 2048 },
      },
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
