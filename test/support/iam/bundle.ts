/**
 * Bundles what the check runs the way the deployment ships it: each Lambda handler as the stack's
 * NodejsFunction bundles it (esbuild, ESM, Node 22, the createRequire banner, the AWS SDK inside)
 * and the validator worker as its Dockerfile does. Bundled code also starts in about a second,
 * where transpiling each process's module graph on the fly takes several.
 *
 * The output goes under the repository's .cache/ (git-ignored), so the modules a bundle leaves
 * external (onnxruntime-node, which the Lambda layer provides) resolve from node_modules.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as path from "node:path";
import { build } from "esbuild";
import { ESM_REQUIRE_BANNER } from "#infra/constructs/pipeline-function.js";

const REPO_ROOT = path.resolve(import.meta.dirname, "../../..");

export interface Bundles {
  /** entry name -> bundled .mjs */
  files: Record<string, string>;
  remove(): void;
}

export async function bundle(entries: Record<string, string>): Promise<Bundles> {
  const cache = path.join(REPO_ROOT, ".cache");
  mkdirSync(cache, { recursive: true });
  const outdir = mkdtempSync(path.join(cache, "iam-check-"));
  try {
    await build({
      entryPoints: entries,
      outdir,
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      target: "node22",
      format: "esm",
      mainFields: ["module", "main"],
      banner: { js: ESM_REQUIRE_BANNER },
      // provided by the onnxruntime layer in AWS, by node_modules here
      external: ["onnxruntime-node", "onnxruntime-common"],
      sourcemap: true,
      keepNames: true,
      logLevel: "error",
    });
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
  return {
    files: Object.fromEntries(Object.keys(entries).map((name) => [name, path.join(outdir, `${name}.mjs`)])),
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
}
