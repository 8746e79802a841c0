/**
 * Cold init, measured in fresh node processes from spawn to "model ready": the model runtime via
 * tsx (what `npm start` pays), the same init path bundled by esbuild and run by plain node, and the
 * whole signal-generator handler bundled as Lambda bundles it (onnxruntime-node external).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import type { BenchFigure } from "./figures.js";
import { median } from "./stats.js";

export const COLD_INIT_TARGET_MS = 500;

const READY_MARKER = "@@bench-init-ready ";

/** The runner each child runs: import the init module, then report how long the process took. */
const RUNNER = `const mod = await import(process.argv[2]);
const readyMs = performance.now();
process.stdout.write("\\n${READY_MARKER}" + JSON.stringify({ readyMs, importedMs: mod.coldInit?.importedMs ?? null }) + "\\n");
process.exit(0);
`;

/** Matches infra/constructs/pipeline-function.ts so the bundle behaves like the deployed one. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __pipelineCreateRequire } from 'node:module'; const require = __pipelineCreateRequire(import.meta.url);";

export interface ColdInitOptions {
  projectRoot: string;
  modelPath: string;
  cardPath: string;
  runs: number;
  /** node binary for the children; defaults to the one running the bench */
  nodePath?: string;
}

interface ChildTiming {
  /** parent clock: spawn() to the ready line */
  wallMs: number;
  /** child clock: process time origin to ready */
  readyMs: number;
  /** child clock: imports done (model entries only) */
  importedMs: number | null;
}

interface Variant {
  key: string;
  label: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  targeted: boolean;
}

function runChild(node: string, variant: Variant, cwd: string): Promise<ChildTiming> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(node, variant.args, { cwd, env: variant.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let wallMs: number | undefined;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      if (wallMs === undefined && out.includes(READY_MARKER)) wallMs = performance.now() - t0;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith(READY_MARKER));
      if (code !== 0 || !line || wallMs === undefined) {
        reject(
          new Error(
            `cold init (${variant.label}) exited with ${code} before the model was ready: ${err.trim().slice(-800) || out.trim().slice(-800)}`,
          ),
        );
        return;
      }
      const reported = JSON.parse(line.slice(READY_MARKER.length)) as Omit<ChildTiming, "wallMs">;
      resolvePromise({ wallMs, ...reported });
    });
  });
}

async function bundle(entry: string, outfile: string, external: string[]): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    mainFields: ["module", "main"],
    banner: { js: ESM_REQUIRE_BANNER },
    minify: true,
    keepNames: true,
    external,
    logLevel: "silent",
  });
}

export async function benchColdInit(options: ColdInitOptions): Promise<BenchFigure[]> {
  const node = options.nodePath ?? process.execPath;
  const root = options.projectRoot;
  const work = mkdtempSync(join(tmpdir(), "bench-cold-init-"));
  try {
    // externals (onnxruntime-node) resolve from the project's node_modules, as from a Lambda layer
    symlinkSync(resolve(root, "node_modules"), join(work, "node_modules"), "dir");
    const runner = join(work, "runner.mjs");
    writeFileSync(runner, RUNNER);
    const entry = resolve(root, "bench/cold-init-entry.ts");
    const modelBundle = join(work, "model-init.mjs");
    const handlerBundle = join(work, "signal-generator.mjs");
    await bundle(entry, modelBundle, ["onnxruntime-node"]);
    await bundle(resolve(root, "functions/signal-generator/handler.ts"), handlerBundle, [
      "onnxruntime-node",
      "onnxruntime-common",
    ]);

    const modelEnv = {
      ...process.env,
      BENCH_MODEL_PATH: options.modelPath,
      BENCH_CARD_PATH: options.cardPath,
    };
    const handlerEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_REGION: "us-east-1",
      LAMBDA_TASK_ROOT: root,
      TRADING_MODE: "paper",
      MODEL_PATH: options.modelPath,
      MODEL_CARD_PATH: options.cardPath,
      LOG_LEVEL: "WARN",
      POWERTOOLS_LOG_LEVEL: "WARN",
    };
    const variants: Variant[] = [
      {
        key: "init.tsx.model",
        label: "import + model load via tsx",
        args: ["--import", "tsx", runner, pathToFileURL(entry).href],
        env: modelEnv,
        targeted: false,
      },
      {
        key: "init.bundle.model",
        label: "import + model load, esbuild ESM bundle on plain node",
        args: [runner, pathToFileURL(modelBundle).href],
        env: modelEnv,
        targeted: true,
      },
      {
        key: "init.bundle.handler",
        label: "whole signal-generator handler module, esbuild ESM bundle on plain node",
        args: [runner, pathToFileURL(handlerBundle).href],
        env: handlerEnv,
        targeted: true,
      },
    ];

    const timings = new Map<string, ChildTiming[]>(variants.map((v) => [v.key, []]));
    // interleaved so a burst of load on the shared machine hits every variant alike
    for (let r = 0; r < options.runs; r++) {
      for (const v of variants) timings.get(v.key)!.push(await runChild(node, v, root));
    }

    const figures: BenchFigure[] = [];
    for (const v of variants) {
      const t = timings.get(v.key)!;
      figures.push({
        name: `${v.key}.ready`,
        value: median(t.map((x) => x.wallMs)),
        unit: `ms spawn -> model ready, median of ${t.length} (${v.label})`,
        ...(v.targeted ? { target: { comparison: "<" as const, value: COLD_INIT_TARGET_MS } } : {}),
      });
      const imported = t.map((x) => x.importedMs).filter((x): x is number => x !== null);
      if (imported.length === t.length) {
        figures.push({
          name: `${v.key}.imports_done`,
          value: median(imported),
          unit: "ms process start -> imports done (child clock), median",
        });
      }
    }
    return figures;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
