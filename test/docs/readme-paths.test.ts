/**
 * The README's "Where things live" section must match the repository: every folder and file in its
 * tree, and every path in its table, exists. A path segment written as <name> stands for any entry.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "#test/support/paths.js";

const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");

/** The text of a "## " section, up to the next one. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = markdown.indexOf("\n## ", start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/**
 * The paths of a tree drawn with two spaces of indent per level: `name/   comment`, several names
 * on one line separated by single spaces, the comment after two or more spaces.
 */
function treePaths(tree: string): string[] {
  const paths: string[] = [];
  const parents: string[] = [];
  for (const line of tree.split("\n")) {
    if (line.trim() === "") continue;
    const depth = (line.length - line.trimStart().length) / 2;
    const names = line
      .trim()
      .split(/\s{2,}/)[0]!
      .split(" ");
    parents.length = depth;
    const parent = parents.join("");
    for (const name of names) paths.push(parent + name);
    if (names.length === 1 && names[0]!.endsWith("/")) parents[depth] = names[0]!;
  }
  return paths;
}

/** Backticked repository paths in a Markdown table: they contain a "/" or end in a file extension. */
function tablePaths(markdown: string): string[] {
  const rows = markdown.split("\n").filter((l) => l.startsWith("|"));
  const ticked = rows.flatMap((row) => [...row.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!));
  return ticked.filter((t) => t.includes("/") || /\.(ts|md|json|mjs)$/.test(t));
}

/** Whether a repository path exists; a <placeholder> segment matches any entry of its folder. */
function pathExists(root: string, path: string): boolean {
  const [first, ...rest] = path.replace(/\/$/, "").split("/");
  if (first === undefined) return true;
  if (/^<[^>]+>$/.test(first)) {
    if (!existsSync(root)) return false;
    return readdirSync(root).some((entry) => pathExists(join(root, entry), rest.join("/")));
  }
  const next = join(root, first);
  return rest.length === 0 ? existsSync(next) : pathExists(next, rest.join("/"));
}

const where = section(readme, "Where things live");
const tree = where.match(/```text\n([\s\S]*?)```/)?.[1];

describe("README: where things live", () => {
  it("has a tree and a table to check", () => {
    expect(tree).toBeDefined();
    expect(treePaths(tree!).length).toBeGreaterThan(30);
    expect(tablePaths(where).length).toBeGreaterThan(8);
  });

  it("every folder and file of the tree exists", () => {
    expect(treePaths(tree!).filter((p) => !pathExists(REPO_ROOT, p))).toEqual([]);
  });

  it("every path of the table exists", () => {
    expect(tablePaths(where).filter((p) => !pathExists(REPO_ROOT, p))).toEqual([]);
  });

  it("the readers see a missing path", () => {
    const drawn = "a/\n  b/  comment\n    c.ts  x\n  d/ e/   two\nf/\n";
    expect(treePaths(drawn)).toEqual(["a/", "a/b/", "a/b/c.ts", "a/d/", "a/e/", "f/"]);
    expect(pathExists(REPO_ROOT, "functions/<name>/handler.ts")).toBe(true);
    expect(pathExists(REPO_ROOT, "functions/<name>/no-such-file.ts")).toBe(false);
    expect(pathExists(REPO_ROOT, "functions/shared/chain/")).toBe(false);
  });
});
