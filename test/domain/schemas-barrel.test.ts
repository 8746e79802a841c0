import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import * as books from "#domain/books.js";
import * as chainLatency from "#domain/chain-latency.js";
import * as decisions from "#domain/decisions.js";
import * as events from "#domain/events.js";
import * as managedPosition from "#domain/managed-position.js";
import * as market from "#domain/market.js";
import * as messages from "#domain/messages.js";
import * as orders from "#domain/orders.js";
import * as primitives from "#domain/primitives.js";
import * as recommendation from "#domain/recommendation.js";
import * as barrel from "#domain/schemas.js";
import * as signal from "#domain/signal.js";

const DOMAIN_DIR = path.resolve(import.meta.dirname, "../../functions/shared/domain");
const CONCEPTS: Record<string, Record<string, unknown>> = {
  books,
  "chain-latency": chainLatency,
  decisions,
  events,
  "managed-position": managedPosition,
  market,
  messages,
  orders,
  primitives,
  recommendation,
  signal,
};
/** domain files that are not concept files of the barrel */
const NOT_CONCEPTS = ["schemas.ts", "recommendation-lifecycle.ts"];

describe("domain/schemas.ts, the barrel of the concept files", () => {
  it("exports exactly the union of the concept files, the same objects", () => {
    const union = Object.entries(CONCEPTS).flatMap(([, module]) => Object.keys(module));
    expect(Object.keys(barrel).sort()).toEqual([...new Set(union)].sort());
    for (const module of Object.values(CONCEPTS))
      for (const [name, value] of Object.entries(module))
        expect((barrel as Record<string, unknown>)[name], name).toBe(value);
  });

  it("has no name defined in two concept files", () => {
    const owners = new Map<string, string[]>();
    for (const [concept, module] of Object.entries(CONCEPTS))
      for (const name of Object.keys(module)) owners.set(name, [...(owners.get(name) ?? []), concept]);
    const twice = [...owners].filter(([, files]) => files.length > 1);
    expect(twice).toEqual([]);
  });

  it("defines nothing itself and gathers every concept file of the folder", () => {
    const source = readFileSync(path.join(DOMAIN_DIR, "schemas.ts"), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("//"));
    const reExported = source.map((line) => /^export \* from "\.\/([a-z-]+)\.js";$/.exec(line)?.[1] ?? line);
    const conceptFiles = readdirSync(DOMAIN_DIR)
      .filter((f) => f.endsWith(".ts") && !NOT_CONCEPTS.includes(f))
      .map((f) => f.replace(/\.ts$/, ""));
    expect(reExported.sort()).toEqual(conceptFiles.sort());
    expect(Object.keys(CONCEPTS).sort()).toEqual(conceptFiles.sort());
  });
});
