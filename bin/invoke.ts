/**
 * `npm run invoke -- <function> --event events/<file>.json`: runs a Lambda handler locally
 * against the local cloud and prints its result (see local/invoke.ts).
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  FUNCTION_TIMEOUT_SECONDS,
  handlerModuleFor,
  invokeLocally,
  parseInvokeArgs,
  readEventFile,
  restampScheduledEvent,
} from "#local/invoke.js";
import { prepareInvokeCloud, READS_CANDLES } from "#local/invoke-cloud.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

try {
  const args = parseInvokeArgs(process.argv.slice(2));
  const read = readEventFile(args.eventFile);
  const { event, note } = args.keepEventTime ? { event: read } : restampScheduledEvent(read, new Date());
  if (note) console.error(`${args.eventFile}: ${note}`);
  const cloud = await prepareInvokeCloud({
    repoRoot,
    candlesDir: path.join(repoRoot, "data", "replay"),
    liveCandles: args.liveCandles ?? false,
    env: process.env,
    seedCandles: READS_CANDLES.has(args.functionName),
  });
  const { result, durationMs } = await invokeLocally({
    functionName: args.functionName,
    event,
    handlerModule: handlerModuleFor(args.functionName, repoRoot),
    timeoutSeconds: FUNCTION_TIMEOUT_SECONDS[args.functionName],
  }).finally(() => cloud.stop());
  console.log(JSON.stringify(result ?? null, null, 2));
  const failures = (result as { batchItemFailures?: unknown[] } | undefined)?.batchItemFailures;
  console.error(`${args.functionName} returned in ${durationMs} ms on ${cloud.description}.`);
  if (Array.isArray(failures) && failures.length > 0) {
    console.error(`${failures.length} record(s) failed and would be retried by SQS.`);
    process.exitCode = 1;
  }
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
}
