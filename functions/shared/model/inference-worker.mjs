// @ts-check
/**
 * Worker-thread entry that scores batches with its own onnxruntime session (see inference-thread.ts,
 * which also defines the messages). It is plain JavaScript, type-checked through JSDoc, because a
 * worker starts from scratch: without a TypeScript loader (tsx, or Node's type stripping, which
 * costs ~45 ms of start-up per thread here) the model scores its first rows sooner. So it imports
 * no project module.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import { InferenceSession, Tensor } from "onnxruntime-node";

/** @typedef {import("./inference-thread.js").InferenceWorkerData} InferenceWorkerData */
/** @typedef {import("./inference-thread.js").InferenceRequest} InferenceRequest */
/** @typedef {import("./inference-thread.js").InferenceReply} InferenceReply */
/** @typedef {import("./inference-thread.js").InferenceStop} InferenceStop */

/**
 * @param {InferenceWorkerData} data
 * @returns {Promise<InferenceSession>}
 */
async function openSession(data) {
  const bytes = await readFile(data.modelPath);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== data.sha256) {
    throw new Error(
      `${data.modelPath} changed on disk after it was loaded (sha256 ${sha256.slice(0, 12)}… instead of ${data.sha256.slice(0, 12)}…); run again so one model scores every row.`,
    );
  }
  return InferenceSession.create(bytes, data.sessionOptions);
}

/**
 * @param {InferenceSession} session
 * @param {InferenceWorkerData} data
 * @param {Float32Array} rows
 * @param {number} rowCount
 * @returns {Promise<Float32Array>}
 */
async function score(session, data, rows, rowCount) {
  const k = data.featureCount;
  if (rows.length !== rowCount * k) {
    throw new RangeError(`got ${rows.length} values for ${rowCount} rows of ${k} features`);
  }
  const input = session.inputNames[0];
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

/** @param {import("node:worker_threads").MessagePort} port @param {InferenceReply} reply @param {ArrayBuffer[]} [transfer] */
function send(port, reply, transfer = []) {
  port.postMessage(reply, transfer);
}

async function serve() {
  const port = parentPort;
  if (!port) throw new Error("inference-worker.mjs runs only as a worker thread (see inference-thread.ts)");
  /** @type {InferenceWorkerData} */
  const data = workerData;
  /** @type {InferenceSession} */
  let session;
  try {
    session = await openSession(data);
  } catch (error) {
    send(port, { type: "failed", message: /** @type {Error} */ (error).message });
    return;
  }
  send(port, { type: "ready" });
  // one request at a time, in arrival order: session.run yields between batches
  let queue = Promise.resolve();
  port.on("message", (/** @type {InferenceRequest | InferenceStop} */ message) => {
    if ("stop" in message) {
      // after the work already asked for: no native call may be in flight when the thread ends
      queue = queue.then(async () => {
        await session.release();
        port.close();
      });
      return;
    }
    const request = message;
    queue = queue.then(async () => {
      try {
        const t0 = performance.now();
        const rows = new Float32Array(request.buffer, request.byteOffset, request.length);
        const probabilities = await score(session, data, rows, request.rowCount);
        const ms = performance.now() - t0;
        const reply = { type: /** @type {const} */ ("probabilities"), id: request.id, probabilities, ms };
        send(port, { ...reply, rows: request.buffer }, [
          /** @type {ArrayBuffer} */ (probabilities.buffer),
          request.buffer,
        ]);
      } catch (error) {
        send(port, { type: "error", id: request.id, message: /** @type {Error} */ (error).message });
      }
    });
  });
}

await serve();
