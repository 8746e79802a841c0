/**
 * The deployed position-manager handler (paper venue) on the local cloud takes the schedule and,
 * beside it, the operators' commands (list, exit, exit-all, retry-exits): each goes to its own step,
 * and a malformed command is refused with what was wrong, not run as a schedule.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type FakeCoinbase, startFakeCoinbase } from "#test/fakes/fake-coinbase.js";
import { isolatedCloud } from "#test/support/local-cloud.js";

describe("position-manager handler: schedule and operator commands", () => {
  let fake: FakeCoinbase;

  beforeAll(async () => {
    await isolatedCloud("position-manager-handler");
    fake = await startFakeCoinbase();
    vi.stubEnv("COINBASE_API_BASE_URL", fake.baseUrl);
    vi.stubEnv("TRADING_MODE", "paper");
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
    vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "true");
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await fake.close();
  });

  const invoke = async (event: unknown) => {
    const { handler } = await import("#functions/position-manager/handler.js");
    return handler(event, {} as never);
  };

  it("routes each command to its step and the schedule to the run", async () => {
    expect(await invoke({ action: "list" })).toEqual({ positions: [] });
    expect(await invoke({ action: "exit", positionId: "nope", by: "alice", reason: "test" })).toMatchObject({
      outcome: "refused",
      error: expect.stringMatching(/no managed position "nope"/),
    });
    expect(await invoke({ action: "exit-all", by: "alice", reason: "test" })).toEqual({ results: [] });
    expect(await invoke({ action: "run" })).toMatchObject({ evaluated: 0, issued: [], awaitingOperator: [] });
  });

  it("refuses a command without who and why, saying so", async () => {
    await expect(invoke({ action: "exit", positionId: "p" })).rejects.toThrow(
      /position-manager got an event it does not understand: .*\n?.*by.*operator commands/s,
    );
    await expect(invoke({ action: "sell-everything" })).rejects.toThrow(/does not understand/);
  });
});
