/**
 * The inside of one "Lambda execution environment" for the IAM check: a Node process of its own,
 * started with exactly the function's deployed environment, that imports the handler module once
 * (init) and then runs the invocations its parent sends over IPC, one at a time, like Lambda.
 *
 * argv: <handler module> <function name> <timeout seconds>
 */
import { pathToFileURL } from "node:url";
import { lambdaContext } from "#local/invoke.js";

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

export type RuntimeMessage =
  | { type: "ready" }
  | { type: "init-error"; error: SerializedError }
  | { type: "result"; id: number; ok: true; result: unknown }
  | { type: "result"; id: number; ok: false; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

const serialize = (error: unknown): SerializedError =>
  error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : { name: "Error", message: String(error) };

const send = (message: RuntimeMessage) => process.send?.(message);

const [handlerModule, functionName, timeoutSeconds] = process.argv.slice(2);
let handler: Handler;
try {
  const mod = (await import(pathToFileURL(handlerModule).href)) as { handler?: Handler };
  if (typeof mod.handler !== "function") throw new Error(`${handlerModule} exports no handler`);
  handler = mod.handler;
  send({ type: "ready" });
} catch (error) {
  send({ type: "init-error", error: serialize(error) });
  process.exitCode = 1;
  process.disconnect?.();
}

let queue = Promise.resolve();
process.on("message", (message: { id: number; event: unknown }) => {
  queue = queue.then(async () => {
    try {
      const result = await handler(message.event, lambdaContext(functionName, Number(timeoutSeconds)));
      send({ type: "result", id: message.id, ok: true, result: JSON.parse(JSON.stringify(result ?? null)) });
    } catch (error) {
      send({ type: "result", id: message.id, ok: false, error: serialize(error) });
    }
  });
});
