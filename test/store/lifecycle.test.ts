import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allowedNext,
  canTransition,
  isTerminal,
  predecessorsOf,
  TERMINAL_STATUSES,
} from "#domain/recommendation-lifecycle.js";
import { RecommendationStatus } from "#domain/schemas.js";

const ALL = RecommendationStatus.options;

describe("recommendation lifecycle", () => {
  it("follows the happy path PENDING → … → EXECUTED", () => {
    const path = ["PENDING", "QUEUED", "VALIDATED", "RISK_APPROVED", "EXECUTING", "EXECUTED"] as const;
    for (let i = 1; i < path.length; i++) expect(canTransition(path[i - 1], path[i])).toBe(true);
  });

  it("terminal states have no way out", () => {
    for (const s of TERMINAL_STATUSES) expect(allowedNext(s)).toEqual([]);
    expect(TERMINAL_STATUSES).toEqual([
      "EXECUTED",
      "REJECTED_BY_LLM",
      "REFUSED_BY_RISK",
      "FAILED",
      "EXPIRED",
      "CANCELLED",
    ]);
  });

  it("never goes back to an earlier state, and every state can reach a terminal one", () => {
    const order = ALL.slice(0, 6);
    fc.assert(
      fc.property(fc.constantFrom(...ALL), fc.constantFrom(...ALL), (from, to) => {
        if (canTransition(from, to) && order.includes(to) && order.includes(from)) {
          expect(order.indexOf(to)).toBeGreaterThan(order.indexOf(from));
        }
      }),
    );
    for (const s of ALL) {
      const seen = new Set([s]);
      const frontier = [s];
      while (frontier.length) {
        for (const n of allowedNext(frontier.pop()!)) {
          if (seen.has(n)) continue;
          seen.add(n);
          frontier.push(n);
        }
      }
      expect([...seen].some(isTerminal)).toBe(true);
    }
  });

  it("knows predecessors (used to explain refusals)", () => {
    expect(predecessorsOf("EXECUTED")).toEqual(["EXECUTING"]);
    expect(predecessorsOf("CANCELLED").sort()).toEqual(["PENDING", "QUEUED", "RISK_APPROVED", "VALIDATED"]);
  });
});
