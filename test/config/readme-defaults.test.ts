/**
 * The README's configuration table shows the defaults the code uses: a default changed in
 * functions/shared/defaults.ts or config.ts without the table fails here, naming the row.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "#config";
import { METRICS_NAMESPACE } from "#defaults";
import { REPO_ROOT } from "#test/support/paths.js";

/** [variable, default as the README writes it] for every variable of a row of the table */
function readmeDefaults(): [string, string][] {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const section = readme.split(/^## Configuration$/m)[1]?.split(/^## /m)[0] ?? "";
  const pairs: [string, string][] = [];
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1]!.startsWith("`")) continue;
    const names = cells[1]!.split(/\s*(?:\/|,)\s*/).map((n) => n.replaceAll("`", ""));
    const defaults = cells[2]!.split(/\s*(?:\/|,)\s*(?=`|$)/).map((d) => d.replaceAll("`", ""));
    for (const [i, name] of names.entries())
      pairs.push([name, defaults.length === names.length ? defaults[i]! : cells[2]!]);
  }
  return pairs;
}

describe("README configuration table", () => {
  it("lists the default of every variable of the schema, as the schema gives it", () => {
    const defaults = ConfigSchema.parse({}) as Record<string, unknown>;
    const shown = (value: unknown) =>
      value === undefined ? "—" : Array.isArray(value) && value.length === 0 ? "empty" : String(value);
    const rows = new Map(readmeDefaults());
    const wrong = Object.keys(ConfigSchema.shape)
      .map((name) => ({ name, readme: rows.get(name), code: shown(defaults[name]) }))
      .filter((r) => r.readme !== r.code);
    expect(wrong).toEqual([]);
  });

  it("names the metrics namespace the functions use", () => {
    expect(new Map(readmeDefaults()).get("POWERTOOLS_METRICS_NAMESPACE")).toBe(METRICS_NAMESPACE);
  });
});
