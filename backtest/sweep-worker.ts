/**
 * A sweep worker thread (started by sweep-pool.ts): it gets the market once, in shared memory (no
 * copy), and then runs configurations, taking the next job from a shared counter until none is
 * left, so a fast worker takes more. It posts each job's figures; the main thread only merges.
 */
import { parentPort, workerData } from "node:worker_threads";
import { configurationAt } from "./sweep-grid.js";
import { runConfiguration } from "./sweep-job.js";
import type { WorkerData, WorkerReply, WorkerRequest } from "./sweep-pool.js";

const port = parentPort;
if (!port) throw new Error("sweep-worker.ts runs as a worker thread of sweep-pool.ts");
const { market, grid, windows } = workerData as WorkerData;

port.on("message", async (request: WorkerRequest) => {
  const next = new Int32Array(request.next);
  const reply = (message: WorkerReply) => port.postMessage(message);
  try {
    for (;;) {
      const job = Atomics.add(next, 0, 1);
      if (job >= request.configurations.length) break;
      const configuration = request.configurations[job]!;
      const summary = await runConfiguration(
        market,
        configurationAt(grid, configuration),
        windows[request.window],
      );
      reply({ kind: "result", batch: request.batch, job, summary });
    }
    reply({ kind: "idle", batch: request.batch });
  } catch (error) {
    const e = error as Error;
    reply({ kind: "error", batch: request.batch, message: e.message, stack: e.stack ?? "" });
  }
});
port.postMessage({ kind: "ready" } satisfies WorkerReply);
