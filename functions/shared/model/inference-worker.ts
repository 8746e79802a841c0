/**
 * Worker-thread entry that scores batches with its own onnxruntime session (see inference-thread.ts).
 * Node runs this file with its built-in type stripping, without the project's TypeScript loader, so
 * it imports no project module and uses only erasable TypeScript syntax.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import { InferenceSession, Tensor } from "onnxruntime-node";

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

export type InferenceReply =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "probabilities"; id: number; probabilities: Float32Array; ms: number }
  | { type: "error"; id: number; message: string };

async function openSession(data: InferenceWorkerData): Promise<InferenceSession> {
  const bytes = await readFile(data.modelPath);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== data.sha256) {
    throw new Error(
      `${data.modelPath} changed on disk after it was loaded (sha256 ${sha256.slice(0, 12)}… instead of ${data.sha256.slice(0, 12)}…); run again so one model scores every row.`,
    );
  }
  return InferenceSession.create(bytes, data.sessionOptions);
}

async function score(
  session: InferenceSession,
  data: InferenceWorkerData,
  rows: Float32Array,
  rowCount: number,
): Promise<Float32Array> {
  const k = data.featureCount;
  if (rows.length !== rowCount * k) {
    throw new RangeError(`got ${rows.length} values for ${rowCount} rows of ${k} features`);
  }
  const input = session.inputNames[0] as string;
  const out = new Float32Array(rowCount * data.classCount);
  for (let r = 0; r < rowCount; r += data.batchRows) {
    const n = Math.min(data.batchRows, rowCount - r);
    const tensor = new Tensor("float32", rows.subarray(r * k, (r + n) * k), [n, k]);
    const result = await session.run({ [input]: tensor }, [data.outputName]);
    const probabilities = result[data.outputName]?.data;
    if (!(probabilities instanceof Float32Array) || probabilities.length !== n * data.classCount) {
      throw new Error(`the model returned ${probabilities?.length} probabilities for ${n} rows`);
    }
    out.set(probabilities, r * data.classCount);
  }
  return out;
}

async function serve(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("inference-worker.ts runs only as a worker thread (see inference-thread.ts)");
  const data = workerData as InferenceWorkerData;
  let session: InferenceSession;
  try {
    session = await openSession(data);
  } catch (error) {
    port.postMessage({ type: "failed", message: (error as Error).message } satisfies InferenceReply);
    return;
  }
  port.postMessage({ type: "ready" } satisfies InferenceReply);
  // one request at a time, in arrival order: session.run yields between batches
  let queue: Promise<void> = Promise.resolve();
  port.on("message", (request: InferenceRequest) => {
    queue = queue.then(async () => {
      try {
        const t0 = performance.now();
        const rows = new Float32Array(request.buffer, request.byteOffset, request.length);
        const probabilities = await score(session, data, rows, request.rowCount);
        const ms = performance.now() - t0;
        const reply: InferenceReply = { type: "probabilities", id: request.id, probabilities, ms };
        port.postMessage(reply, [probabilities.buffer as ArrayBuffer]);
      } catch (error) {
        port.postMessage({
          type: "error",
          id: request.id,
          message: (error as Error).message,
        } satisfies InferenceReply);
      }
    });
  });
}

await serve();
