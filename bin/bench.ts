/**
 * `npm run bench`: feature-engine throughput against the reference libraries, 20-symbol inference
 * latency, the warm 20-symbol signal cycle, cold init, and the backtest figures when that module
 * exists. Prints a table with each figure against its target and writes bench-results/bench.json.
 *
 *   npm run bench -- [--quick] [--only features,inference,cycle,init,backtest,sweep,chain] [--out path.json] [--help] [--debug]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runBacktestHook } from "#bench/backtest-hook.js";
import { benchColdInit } from "#bench/cold-init.js";
import { type BenchFigure, formatTable, judge } from "#bench/figures.js";
import { benchInference, realFeatureBatches } from "#bench/inference.js";
import { type HourlyCandles, loadHourlyCandles, locateCandleDir } from "#bench/real-candles.js";
import { benchSignalCycle } from "#bench/signal-cycle.js";
import { COMMON_HELP, type OptionValues, parseCommandLine, runCommand, UsageError } from "#local/cli.js";
import { loadSignalModel, type SignalModel } from "#model/index.js";

export const BENCH_SECTIONS = [
  "features",
  "inference",
  "cycle",
  "init",
  "backtest",
  "sweep",
  "chain",
] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];

export const FEATURE_THROUGHPUT_TARGET = 2_000_000;

export interface BenchOptions {
  quick: boolean;
  only: readonly BenchSection[];
  /** where the JSON goes; bench-results/bench.json under the project root by default */
  outPath: string;
  projectRoot: string;
}

export interface BenchReport {
  generatedAt: string;
  options: { quick: boolean; only: readonly BenchSection[] };
  machine: {
    node: string;
    cpus: number;
    cpuModel: string;
    /** /proc/loadavg 1/5/15-minute averages before and after the run; the machine is shared */
    loadAverageBefore: number[] | null;
    loadAverageAfter: number[] | null;
    candleDir: string | null;
  };
  figures: BenchFigure[];
  /** sections that produced no figures, and why */
  notes: string[];
}

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function loadAverage(): number[] | null {
  try {
    return readFileSync("/proc/loadavg", "utf8").trim().split(/\s+/).slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

export const BENCH_USAGE = `usage: npm run bench -- [--quick] [--only ${BENCH_SECTIONS.join(",")}] [--out bench-results/bench.json]
Feature-engine throughput against the reference libraries, 20-symbol inference latency, the warm
20-symbol signal cycle, cold init, and the backtest and sweep figures; each against its target.
  --quick        fewer runs of each measurement (seconds, not minutes)
  --only A,B     only these sections
  --out FILE     where the JSON report goes (default bench-results/bench.json)
${COMMON_HELP}
See docs/BENCHMARKS.md.`;

export const BENCH_COMMAND = {
  name: "npm run bench",
  usage: BENCH_USAGE,
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string" },
  },
} as const;

/** The options of a command line; a wrong one is a UsageError. */
export function parseBenchArgs(argv: readonly string[], projectRoot = PROJECT_ROOT): BenchOptions {
  const { values } = parseCommandLine(BENCH_COMMAND, argv);
  return benchOptionsOf(values, projectRoot);
}

function benchOptionsOf(
  values: OptionValues<typeof BENCH_COMMAND.options>,
  projectRoot: string,
): BenchOptions {
  let only: BenchSection[] = [...BENCH_SECTIONS];
  if (values.only !== undefined) {
    const names = values.only
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = names.filter((n) => !(BENCH_SECTIONS as readonly string[]).includes(n));
    if (unknown.length > 0 || names.length === 0) {
      throw new UsageError(
        `--only ${values.only}: unknown section(s) ${unknown.join(", ") || "(none given)"}; choose from ${BENCH_SECTIONS.join(",")}`,
      );
    }
    only = names as BenchSection[];
  }
  const outPath =
    values.out === undefined ? resolve(projectRoot, "bench-results/bench.json") : resolve(values.out);
  return { quick: values.quick, only, outPath, projectRoot };
}

export async function runBench(
  options: BenchOptions,
  progress: (line: string) => void = () => {},
): Promise<BenchReport> {
  const root = options.projectRoot;
  const wants = (s: BenchSection) => options.only.includes(s);
  const figures: BenchFigure[] = [];
  const notes: string[] = [];
  const loadAverageBefore = loadAverage();
  const modelPath = resolve(root, "models/signal-model.onnx");
  const cardPath = resolve(root, "models/signal-model.card.json");
  let candleDir: string | null = null;

  const section = async (name: BenchSection, work: () => Promise<BenchFigure[]>) => {
    if (!wants(name)) return;
    progress(`${name}...`);
    try {
      figures.push(...(await work()).map(judge));
    } catch (error) {
      notes.push(`${name}: failed: ${(error as Error).message}`);
    }
  };

  await section("features", async () => {
    // imported on demand: it loads both reference libraries
    const { benchFeatures } = await import("#bench/features.js");
    return (await benchFeatures()).map((r) =>
      r.name === "features.engine.throughput"
        ? { ...r, target: { comparison: ">=" as const, value: FEATURE_THROUGHPUT_TARGET } }
        : r,
    );
  });

  let candles: HourlyCandles | undefined;
  let model: SignalModel | undefined;
  const warm = async () => {
    if (!candles) {
      candleDir = locateCandleDir(root);
      candles = loadHourlyCandles(candleDir, 2_000);
    }
    model ??= await loadSignalModel(modelPath, cardPath);
    return { candles, model };
  };
  try {
    await section("inference", async () => {
      const { candles, model } = await warm();
      return benchInference(model, realFeatureBatches(candles, 8), {
        runs: options.quick ? 50 : 2_000,
        warmup: options.quick ? 5 : 200,
      });
    });
    await section("cycle", async () => {
      const { candles, model } = await warm();
      return benchSignalCycle(model, candles, {
        runs: options.quick ? 10 : 500,
        warmup: options.quick ? 2 : 50,
      });
    });
  } finally {
    await (model as SignalModel | undefined)?.release();
  }

  await section("init", () =>
    benchColdInit({ projectRoot: root, modelPath, cardPath, runs: options.quick ? 1 : 5 }),
  );

  await section("backtest", async () => {
    const hook = await runBacktestHook(root, options.quick);
    if (!hook.available) {
      notes.push(`backtest: not available in this build (${hook.reason})`);
      return [];
    }
    return hook.figures;
  });

  await section("sweep", async () => {
    const { benchSweep } = await import("#bench/sweep.js");
    return benchSweep({ quick: options.quick });
  });

  await section("chain", async () => {
    const { runChainBench } = await import("#bench/chain.js");
    return runChainBench({ root, quick: options.quick });
  });

  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    options: { quick: options.quick, only: options.only },
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      loadAverageBefore,
      loadAverageAfter: loadAverage(),
      candleDir,
    },
    figures,
    notes,
  };
  mkdirSync(dirname(options.outPath), { recursive: true });
  writeFileSync(options.outPath, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCommand(BENCH_COMMAND, async ({ values }) => {
    const options = benchOptionsOf(values, PROJECT_ROOT);
    const report = await runBench(options, (line) => process.stderr.write(`bench: ${line}\n`));
    const { machine } = report;
    console.log(
      `node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}, load average ${machine.loadAverageBefore?.join(" ") ?? "?"} -> ${machine.loadAverageAfter?.join(" ") ?? "?"}${options.quick ? ", --quick" : ""}`,
    );
    console.log(formatTable(report.figures, report.notes));
    console.log(`wrote ${options.outPath}`);
    if (report.notes.some((n) => n.includes(": failed:"))) process.exitCode = 1;
  });
}
