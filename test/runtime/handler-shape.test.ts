/**
 * Deployed handlers are only wiring (issue 13): each functions/<name>/handler.ts is a middy chain
 * from runtime/handler-context.ts around one use-case call, at most 40 lines, and no run of 6 lines
 * is copied from one handler into another (shared wiring belongs in runtime/).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const functionsDir = join(import.meta.dirname, "../../functions");
const handlers = readdirSync(functionsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && readdirSync(join(functionsDir, d.name)).includes("handler.ts"))
  .map((d) => {
    const source = readFileSync(join(functionsDir, d.name, "handler.ts"), "utf8");
    return { name: d.name, source, lines: source.replace(/\n$/, "").split("\n") };
  });

/** Every run of `size` consecutive non-blank lines (trimmed), as one string each. */
function runs(lines: string[], size: number): Set<string> {
  const code = lines.map((l) => l.trim()).filter((l) => l !== "");
  const out = new Set<string>();
  for (let i = 0; i + size <= code.length; i++) out.add(code.slice(i, i + size).join("\n"));
  return out;
}

describe("deployed handlers", () => {
  it("finds the handlers", () => {
    expect(handlers.map((h) => h.name)).toEqual(
      expect.arrayContaining(["kill-switch", "market-data", "portfolio", "risk-manager", "trade-executor"]),
    );
  });

  it.each(handlers.map((h) => [h.name, h] as const))("%s is at most 40 lines", (_, h) => {
    expect(h.lines.length, `functions/${h.name}/handler.ts`).toBeLessThanOrEqual(40);
  });

  it.each(handlers.map((h) => [h.name, h] as const))(
    "%s builds its handler with the shared middy chain",
    (_, h) => {
      expect(h.source).toMatch(/runtime\/handler-context(\.js)?"/);
      expect(h.source, "wire middy through runtime/middleware.ts, not by hand").not.toMatch(/@middy\/core/);
    },
  );

  it("no run of 6 lines is copied between two handlers", () => {
    const shared: string[] = [];
    for (const [i, a] of handlers.entries()) {
      const mine = runs(a.lines, 6);
      for (const b of handlers.slice(i + 1)) {
        for (const run of runs(b.lines, 6)) if (mine.has(run)) shared.push(`${a.name} & ${b.name}:\n${run}`);
      }
    }
    expect(shared).toEqual([]);
  });
});
