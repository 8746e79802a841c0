/**
 * What the CDK CLI does before it runs the app, for runs without it: cdk.json's context, then
 * `-c key=value` / `--context key=value` overrides, and cdk.out/ as the output directory; and the
 * command line of those runs (`npm run synth`, `npm run asset-sizes`).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { AppProps } from "aws-cdk-lib";
import { COMMON_HELP, UsageError } from "#local/cli.js";
import { DEPLOYMENT_CONTEXT_KEYS } from "./config.js";

/** the repository (as constructs/pipeline-function.ts's REPO_ROOT, without loading the CDK for --help) */
const REPO_ROOT = path.resolve(import.meta.dirname, "..");

export function cdkJsonContext(file = path.join(REPO_ROOT, "cdk.json")): Record<string, unknown> {
  const json = JSON.parse(readFileSync(file, "utf8")) as { context?: Record<string, unknown> };
  return { ...(json.context ?? {}) };
}

/** the options of a command that synthesizes the app offline */
export const CONTEXT_OPTIONS = {
  context: { type: "string", short: "c", multiple: true, default: [] as string[] },
} as const;

export const CONTEXT_HELP = `  -c, --context key=value   override a context value of cdk.json (repeatable), such as -c logLevel=DEBUG;
                            the app's keys: ${DEPLOYMENT_CONTEXT_KEYS.join(", ")}
${COMMON_HELP}`;

/** cdk.json's context with the `key=value` overrides of -c/--context. */
export function cliContext(pairs: readonly string[], outdir = path.join(REPO_ROOT, "cdk.out")): AppProps {
  const context = cdkJsonContext();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0)
      throw new UsageError(`-c ${JSON.stringify(pair)}: expected key=value, such as -c logLevel=DEBUG`);
    const key = pair.slice(0, eq);
    if (!(key in context) && !(DEPLOYMENT_CONTEXT_KEYS as readonly string[]).includes(key))
      throw new UsageError(
        `-c ${key}=...: ${key} is not a context key of this app (nor of cdk.json); use one of ${DEPLOYMENT_CONTEXT_KEYS.join(", ")}`,
      );
    context[key] = pair.slice(eq + 1);
  }
  return { context, outdir };
}
