/**
 * Builds the onnxruntime-node Lambda layer for ONE target: the npm package ships native binaries
 * for every platform (~290 MB); the layer keeps only bin/napi-v<N>/linux/<arch> (~26 MB for arm64)
 * plus the JavaScript of onnxruntime-node and onnxruntime-common. Lambda's Node runtimes resolve
 * both `require` and ESM `import` from /opt/nodejs/node_modules, where the layer lands.
 *
 * Used by the CDK asset's local bundling at synth time, and runnable by hand:
 *   npx tsx layers/build-onnxruntime-layer.ts [outDir] [--arch arm64|x64]
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export type LayerArch = "arm64" | "x64";

export const LAYER_PACKAGES = ["onnxruntime-node", "onnxruntime-common"] as const;

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface LayerBuildResult {
  readonly outputDir: string;
  readonly onnxRuntimeVersion: string;
  readonly nativeDirs: string[];
  readonly bytes: number;
}

export function onnxRuntimeVersion(nodeModules = path.join(REPO_ROOT, "node_modules")): string {
  const pkg = JSON.parse(readFileSync(path.join(nodeModules, "onnxruntime-node", "package.json"), "utf8"));
  return pkg.version as string;
}

/** Copies the pruned packages to `<outputDir>/nodejs/node_modules/`; replaces whatever was there. */
export function buildOnnxRuntimeLayer(
  outputDir: string,
  arch: LayerArch = "arm64",
  nodeModules = path.join(REPO_ROOT, "node_modules"),
): LayerBuildResult {
  const source = path.join(nodeModules, "onnxruntime-node");
  if (!existsSync(source)) {
    throw new Error(
      `onnxruntime-node is not installed under ${nodeModules}: run \`npm ci\` in the repository first.`,
    );
  }
  const target = path.join(outputDir, "nodejs", "node_modules");
  rmSync(path.join(outputDir, "nodejs"), { recursive: true, force: true });
  mkdirSync(target, { recursive: true });

  const nativeDirs: string[] = [];
  for (const name of LAYER_PACKAGES) {
    const from = path.join(nodeModules, name);
    const to = path.join(target, name);
    cpSync(from, to, {
      recursive: true,
      filter: (src) => keep(path.relative(from, src), arch, (dir) => nativeDirs.push(`${name}/${dir}`)),
    });
  }
  if (!nativeDirs.some((d) => d.includes(`/linux/${arch}`))) {
    throw new Error(
      `onnxruntime-node ${onnxRuntimeVersion(nodeModules)} has no linux/${arch} binary under ${path.join(source, "bin")}; ` +
        "check the package's bin/napi-v*/ layout and LayerArch.",
    );
  }
  return {
    outputDir,
    onnxRuntimeVersion: onnxRuntimeVersion(nodeModules),
    nativeDirs,
    bytes: directoryBytes(outputDir),
  };
}

/** Which files of a package go into the layer; `rel` is relative to the package root. */
function keep(rel: string, arch: LayerArch, onNative: (dir: string) => void): boolean {
  if (rel === "") return true;
  const parts = rel.split(path.sep);
  const top = parts[0];
  if (top === "bin") {
    // bin / napi-vN / <platform> / <arch> / files
    if (parts.length >= 3 && parts[2] !== "linux") return false;
    if (parts.length >= 4 && parts[3] !== arch) return false;
    if (parts.length === 4) onNative(parts.slice(0, 4).join("/"));
    return true;
  }
  if (top === "script" || top === "lib" || top === "node_modules") return false; // install scripts, TS sources
  if (rel.endsWith(".map") || rel.endsWith(".d.ts") || rel.endsWith(".ts")) return false;
  return true;
}

export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const archIndex = args.indexOf("--arch");
  const arch = (archIndex >= 0 ? args.splice(archIndex, 2)[1] : "arm64") as LayerArch;
  if (arch !== "arm64" && arch !== "x64") throw new Error(`--arch must be arm64 or x64, got ${arch}`);
  const out = path.resolve(args[0] ?? path.join(REPO_ROOT, "layers", "onnxruntime", "build"));
  const result = buildOnnxRuntimeLayer(out, arch);
  console.log(
    `onnxruntime-node ${result.onnxRuntimeVersion} layer for linux/${arch} in ${out}: ` +
      `${(result.bytes / 1024 / 1024).toFixed(1)} MB unzipped (${result.nativeDirs.join(", ")})`,
  );
}
