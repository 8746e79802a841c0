/**
 * The backtest figures come from another module (benchBacktest) that may not exist in this build;
 * the bench reports what it returns or says it is absent, never a number of its own.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import type { BenchFigure } from "./figures.js";

const FigureList = z.array(
  z.object({
    name: z.string(),
    value: z.number(),
    unit: z.string(),
    target: z.object({ comparison: z.enum(["<", ">="]), value: z.number() }).optional(),
  }),
);
const NumberRecord = z.record(z.string(), z.number());

export type BacktestHookResult =
  | { available: true; source: string; figures: BenchFigure[] }
  | { available: false; reason: string };

type BenchBacktest = (options: { quick: boolean }) => unknown;

/** Where benchBacktest may live, in order; bin/backtest.ts only when it names the export, so a CLI is never started by accident. */
function candidates(projectRoot: string): string[] {
  const found: string[] = [];
  if (existsSync(resolve(projectRoot, "bench/backtest.ts"))) found.push("bench/backtest.ts");
  const cli = resolve(projectRoot, "bin/backtest.ts");
  if (
    existsSync(cli) &&
    /export\s+(async\s+)?(function|const)\s+benchBacktest\b/.test(readFileSync(cli, "utf8"))
  ) {
    found.push("bin/backtest.ts");
  }
  return found;
}

function toFigures(value: unknown, source: string): BenchFigure[] {
  const list = FigureList.safeParse(value);
  if (list.success) return list.data;
  const record = NumberRecord.safeParse(value);
  if (record.success) {
    return Object.entries(record.data).map(([name, v]) => ({
      name: name.startsWith("backtest.") ? name : `backtest.${name}`,
      value: v,
      unit: "",
    }));
  }
  throw new Error(
    `benchBacktest in ${source} returned ${JSON.stringify(value)?.slice(0, 200)}; expected [{name, value, unit}] or {name: number}`,
  );
}

export async function runBacktestHook(projectRoot: string, quick: boolean): Promise<BacktestHookResult> {
  const tried: string[] = [];
  for (const rel of candidates(projectRoot)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(resolve(projectRoot, rel)).href)) as Record<string, unknown>;
    } catch (error) {
      tried.push(`${rel} failed to import: ${(error as Error).message.split("\n")[0]}`);
      continue;
    }
    if (typeof mod.benchBacktest !== "function") {
      tried.push(`${rel} has no benchBacktest export`);
      continue;
    }
    const returned = await (mod.benchBacktest as BenchBacktest)({ quick });
    return { available: true, source: rel, figures: toFigures(returned, rel) };
  }
  return {
    available: false,
    reason:
      tried.length > 0 ? tried.join("; ") : "no bench/backtest.ts or bin/backtest.ts exports benchBacktest",
  };
}
