/**
 * The repository's import graph, read from the sources: every static import, re-export and dynamic
 * import() of every TypeScript/JavaScript file, resolved the way Node resolves it (relative paths, and
 * the package.json "imports" aliases such as #domain/*), with a .js specifier standing for its .ts
 * source. Package imports (zod, node:fs, ...) are not edges.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, resolve } from "node:path";
import ts from "typescript";

/** Folders scanned, relative to the repository root. */
export const SCANNED_ROOTS = [
  "functions",
  "backtest",
  "bench",
  "local",
  "bin",
  "infra",
  "test",
  "models",
  "layers",
];

const SOURCE = /\.(ts|mts|mjs|js)$/;

export interface ImportEdge {
  /** importing file, repository-relative with forward slashes */
  from: string;
  /** the specifier as written */
  specifier: string;
  /** imported file, repository-relative; undefined when it does not resolve to a file */
  to: string | undefined;
}

export interface ImportGraph {
  files: string[];
  /** edges to repository files only (package imports are left out) */
  edges: ImportEdge[];
}

function sourceFiles(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(abs, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "cdk.out" || entry.name.startsWith(".")) continue;
    const rel = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(root, rel));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

/** package.json "imports": "#x/*" -> "./dir/*" or "#x" -> "./file" */
function aliasResolver(root: string): (specifier: string) => string | undefined {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    imports?: Record<string, string>;
  };
  const entries = Object.entries(pkg.imports ?? {});
  return (specifier) => {
    for (const [key, target] of entries) {
      if (key === specifier) return posix.normalize(target);
      if (key.endsWith("*") && specifier.startsWith(key.slice(0, -1))) {
        return posix.normalize(target.replace("*", specifier.slice(key.length - 1)));
      }
    }
    return undefined;
  };
}

/** The file a repository-relative candidate path names, trying the .ts source of a .js specifier. */
function existingFile(root: string, candidate: string): string | undefined {
  const tries = [candidate];
  if (candidate.endsWith(".js")) tries.push(candidate.replace(/\.js$/, ".ts"));
  if (candidate.endsWith(".mjs")) tries.push(candidate.replace(/\.mjs$/, ".mts"));
  for (const t of tries) {
    if (existsSync(join(root, t)) && SOURCE.test(t)) return t;
    if (t.endsWith(".json") && existsSync(join(root, t))) return t;
  }
  return undefined;
}

export function readImportGraph(root: string): ImportGraph {
  const alias = aliasResolver(root);
  const files = SCANNED_ROOTS.flatMap((dir) => sourceFiles(root, dir));
  const edges: ImportEdge[] = [];
  for (const from of files) {
    const text = readFileSync(join(root, from), "utf8");
    for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
      let target: string | undefined;
      if (specifier.startsWith(".")) target = posix.normalize(posix.join(posix.dirname(from), specifier));
      else if (specifier.startsWith("#")) target = alias(specifier);
      else continue;
      edges.push({
        from,
        specifier,
        to: target === undefined ? undefined : existingFile(root, relative(root, resolve(root, target))),
      });
    }
  }
  return { files, edges };
}

/** Every import cycle (strongly connected component of more than one file, or a self-import). */
export function importCycles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>();
  for (const e of graph.edges) {
    if (e.to === undefined) continue;
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  }
  // Tarjan's algorithm, iterative enough for this repository's depth
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const f of graph.files) if (!indexOf.has(f)) visit(f);
  return cycles;
}

/** Edges whose importing file is under one of `fromDirs` and whose target is under one of `toDirs`. */
export function edgesBetween(
  graph: ImportGraph,
  fromDirs: readonly string[],
  toDirs: readonly string[],
): ImportEdge[] {
  const under = (file: string, dirs: readonly string[]) => dirs.some((d) => file.startsWith(`${d}/`));
  return graph.edges.filter((e) => e.to !== undefined && under(e.from, fromDirs) && under(e.to, toDirs));
}
