/**
 * Batched inference on a worker thread, so a caller (the backtest) prepares the next rows while the
 * model scores the previous ones. The worker opens its own onnxruntime session on the caller's ONNX
 * file (it refuses the file unless its sha256 is the one the caller names; the caller checks the
 * model itself with loadSignalModel) with the same single-threaded session options: it only adds a
 * second thread for the caller's own work.
 * This is not for Lambda: a handler scores one small batch per cycle on its own thread.
 */
import { Worker } from "node:worker_threads";
import type { InferenceSession } from "onnxruntime-node";
import { INFERENCE_BATCH_ROWS } from "./evaluation.js";
import { CLASS_COUNT, PROBABILITIES_OUTPUT, type SignalModel, signalModelSessionOptions } from "./runtime.js";

/** What inference-worker.mjs is started with. */
export interface InferenceWorkerData {
  modelPath: string;
  /** the sha256 of the model the main thread loaded and checked; any other file is refused */
  sha256: string;
  featureCount: number;
  /** the main thread's signalModelSessionOptions, so both sessions are the same */
  sessionOptions: InferenceSession.SessionOptions;
  /** output name and classes per row (runtime.ts PROBABILITIES_OUTPUT, CLASS_COUNT) */
  outputName: string;
  classCount: number;
  batchRows: number;
}

/** float32 rows as a transferred buffer and the view of them inside it */
export type InferenceRequest = {
  id: number;
  buffer: ArrayBuffer;
  byteOffset: number;
  length: number;
  rowCount: number;
};

/** Asks the worker to finish the requests it has, release its session and end (see close()). */
export type InferenceStop = { stop: true };

export type InferenceReply =
  | { type: "ready" }
  | { type: "failed"; message: string }
  /** `rows`: the request's buffer, transferred back for reuse */
  | { type: "probabilities"; id: number; probabilities: Float32Array; rows: ArrayBuffer; ms: number }
  | { type: "error"; id: number; message: string };

/** What a prediction gives back. */
export interface Scored {
  /** rowCount x 3 class probabilities */
  probabilities: Float32Array;
  /** the buffer the rows were sent in, back from the worker (not copied): the caller may reuse it */
  rows: ArrayBuffer;
}

export interface InferenceThread {
  /**
   * rowCount x featureCount float32 rows in, rowCount x 3 probabilities out. The buffer under
   * `rows` is transferred to the worker, not copied: it (and every view of it) is empty once this
   * returns, so copy out first whatever else it holds that you still need; it comes back whole in
   * Scored.rows.
   */
  predict(rows: Float32Array, rowCount: number): Promise<Scored>;
  /** milliseconds the worker has spent scoring so far */
  readonly busyMs: number;
  /**
   * Stops the worker: pending predictions fail at once, and the worker ends after the native call
   * it is in (opening the session, or a batch), never in the middle of one.
   */
  close(): Promise<void>;
}

export interface InferenceThreadOptions {
  intraOpNumThreads?: number;
  /** rows per session.run, as predictInBatches */
  batchRows?: number;
}

export class InferenceThreadError extends Error {
  override readonly name = "InferenceThreadError";
}

/** how long close() waits for the worker to end by itself before terminating it */
const CLOSE_TIMEOUT_MS = 30_000;

const WORKER_URL = new URL("./inference-worker.mjs", import.meta.url);

export function startInferenceThread(
  model: Pick<SignalModel, "sha256" | "featureCount">,
  modelPath: string,
  options: InferenceThreadOptions = {},
): InferenceThread {
  const workerData: InferenceWorkerData = {
    modelPath,
    sha256: model.sha256,
    featureCount: model.featureCount,
    sessionOptions: signalModelSessionOptions(options.intraOpNumThreads ?? 1),
    outputName: PROBABILITIES_OUTPUT,
    classCount: CLASS_COUNT,
    batchRows: options.batchRows ?? INFERENCE_BATCH_ROWS,
  };
  // no inherited loader hooks (tsx, vitest): the worker is JavaScript and starts faster without them
  const worker = new Worker(WORKER_URL, { workerData, execArgv: [] });
  const pending = new Map<number, { resolve(scored: Scored): void; reject(e: Error): void }>();
  let nextId = 0;
  let broken: InferenceThreadError | undefined;
  let closing = false;
  let busyMs = 0;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));

  const failAll = (error: InferenceThreadError) => {
    broken ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on("message", (reply: InferenceReply) => {
    if (reply.type === "ready") return;
    if (reply.type === "failed") {
      failAll(new InferenceThreadError(`the inference worker could not open the model: ${reply.message}`));
      return;
    }
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (reply.type === "probabilities") {
      busyMs += reply.ms;
      p.resolve({ probabilities: reply.probabilities, rows: reply.rows });
    } else p.reject(new InferenceThreadError(`inference on the worker thread failed: ${reply.message}`));
  });
  worker.on("error", (error) =>
    failAll(new InferenceThreadError(`the inference worker crashed: ${error.message}`)),
  );
  worker.on("exit", (code) => {
    if (!closing)
      failAll(new InferenceThreadError(`the inference worker exited (code ${code}) before answering`));
  });
  // an idle worker must not keep the process alive
  worker.unref();

  return {
    predict(rows, rowCount) {
      if (broken) return Promise.reject(broken);
      const id = nextId++;
      const result = new Promise<Scored>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker.ref();
      const request: InferenceRequest = {
        id,
        buffer: rows.buffer as ArrayBuffer,
        byteOffset: rows.byteOffset,
        length: rows.length,
        rowCount,
      };
      worker.postMessage(request, [request.buffer]);
      return result.finally(() => {
        if (pending.size === 0) worker.unref();
      });
    },
    get busyMs() {
      return busyMs;
    },
    async close() {
      if (closing) return exited;
      closing = true;
      failAll(new InferenceThreadError("the inference thread was closed"));
      // Not worker.terminate(): ending the thread while onnxruntime is still opening the session or
      // running a batch makes the native callback throw into a dead environment, and the process
      // aborts (`terminate called after throwing an instance of 'Napi::Error'`, exit 134). That is
      // what a bad candle file did when its error ended the backtest while the model was loading.
      // The worker finishes its native call, releases the session and ends by itself; the process
      // waits for it (ref), so an exiting caller cannot cut it short either.
      worker.ref();
      const stop: InferenceStop = { stop: true };
      worker.postMessage(stop);
      const slow = setTimeout(() => void worker.terminate(), CLOSE_TIMEOUT_MS);
      try {
        await exited;
      } finally {
        clearTimeout(slow);
      }
    },
  };
}
