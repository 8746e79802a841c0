/**
 * The sweep's worker threads. The market (candles and cached probabilities) is copied once into
 * shared memory and handed to every worker without a copy; each worker then pulls configurations
 * from a shared counter and posts back their figures, which land here by job number, so the answer
 * is the same whatever the number of workers or the order they finish in.
 *
 * Workers run the TypeScript sources through tsx's loader (the project runs everything under tsx).
 */
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { BacktestSymbol } from "./engine.js";
import type { SweepGrid } from "./sweep-grid.js";
import type { RunSummary, SweepMarket } from "./sweep-job.js";
import type { Window } from "./sweep-windows.js";

export type WindowName = "tune" | "score";

export interface WorkerData {
  market: SweepMarket;
  grid: SweepGrid;
  windows: Record<WindowName, Window>;
}

export interface WorkerRequest {
  batch: number;
  window: WindowName;
  /** configuration indexes of the grid, one job each */
  configurations: number[];
  /** Int32 counter of the next job, shared by every worker of the batch */
  next: SharedArrayBuffer;
}

export type WorkerReply =
  | { kind: "ready" }
  | { kind: "result"; batch: number; job: number; summary: RunSummary }
  | { kind: "idle"; batch: number }
  | { kind: "error"; batch: number; message: string; stack: string };

const SERIES = ["start", "open", "high", "low", "close", "volume"] as const;

/**
 * The symbols with every array in one SharedArrayBuffer per symbol (a worker sees the same memory);
 * symbols already shared are kept as they are.
 */
export function shareSymbols(symbols: readonly BacktestSymbol[]): BacktestSymbol[] {
  return symbols.map((s) => {
    if (s.close.buffer instanceof SharedArrayBuffer) return s;
    const n = s.length;
    const buffer = new SharedArrayBuffer(n * 8 * SERIES.length + n * 3 * 4);
    const shared = { productId: s.productId, length: n } as BacktestSymbol;
    SERIES.forEach((name, k) => {
      const view = new Float64Array(buffer, k * n * 8, n);
      view.set(s[name].subarray(0, n));
      shared[name] = view;
    });
    shared.probabilities = new Float32Array(buffer, SERIES.length * n * 8, n * 3);
    shared.probabilities.set(s.probabilities.subarray(0, n * 3));
    return shared;
  });
}

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
}

export interface PoolTiming {
  /** from the first worker's start to the last one's ready */
  startMs: number;
}

export class SweepPool {
  private batches = 0;

  private constructor(
    private readonly workers: Worker[],
    readonly timing: PoolTiming,
  ) {}

  /** Starts `count` workers on the shared market and waits until each has loaded its code. */
  static async start(data: WorkerData, count: number): Promise<SweepPool> {
    if (!(Number.isInteger(count) && count >= 1))
      throw new RangeError(`workers must be 1 or more, got ${count}`);
    const t0 = performance.now();
    const shared: WorkerData = {
      ...data,
      market: { ...data.market, symbols: shareSymbols(data.market.symbols) },
    };
    const execArgv = ["--import", tsxLoader()];
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < count; i++)
        workers.push(
          new Worker(new URL("./sweep-worker.ts", import.meta.url), { workerData: shared, execArgv }),
        );
      await Promise.all(workers.map((w) => readyOf(w)));
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
    return new SweepPool(workers, { startMs: performance.now() - t0 });
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Runs every configuration on one window; the figures come back in the order of
   * `configurations`. `onResult` sees each as it arrives (progress).
   */
  run(
    window: WindowName,
    configurations: readonly number[],
    onResult?: (done: number, total: number) => void,
  ): Promise<RunSummary[]> {
    const batch = ++this.batches;
    const results: RunSummary[] = new Array(configurations.length);
    const next = new SharedArrayBuffer(4);
    let done = 0;
    let idle = 0;
    return new Promise<RunSummary[]>((resolve, reject) => {
      const cleanups: (() => void)[] = [];
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        for (const c of cleanups) c();
        if (error) reject(error);
        else resolve(results);
      };
      for (const worker of this.workers) {
        const onMessage = (reply: WorkerReply) => {
          if (reply.kind === "ready" || reply.batch !== batch) return;
          if (reply.kind === "result") {
            results[reply.job] = reply.summary;
            onResult?.(++done, configurations.length);
          } else if (reply.kind === "error") {
            const error = new Error(`a sweep worker failed: ${reply.message}`);
            error.stack = reply.stack;
            finish(error);
          } else if (++idle === this.workers.length) finish();
        };
        const onError = (error: Error) => finish(new Error(`a sweep worker failed: ${error.message}`));
        const onExit = (code: number) => finish(new Error(`a sweep worker exited (code ${code}) mid-sweep`));
        worker.on("message", onMessage);
        worker.on("error", onError);
        worker.on("exit", onExit);
        cleanups.push(() => {
          worker.off("message", onMessage);
          worker.off("error", onError);
          worker.off("exit", onExit);
        });
      }
      const request: WorkerRequest = { batch, window, configurations: [...configurations], next };
      for (const worker of this.workers) worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function readyOf(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: WorkerReply) => {
      if (reply.kind !== "ready") return;
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      cleanup();
      reject(new Error(`a sweep worker failed to start: ${error.message}`));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`a sweep worker exited (code ${code}) before it was ready`));
    };
    const cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}
