import { beforeEach, describe, expect, it } from "vitest";
import { ValidationRequest } from "#domain/schemas.js";
import { queueSender } from "#queues/sender.js";
import { silentLog } from "#runtime/log.js";
import { DEFAULT_BRIDGE_SETTINGS, recommendationIdFor, runBridgeCycle } from "#steps/signal-bridge.js";
import { createDocumentClient, createStores, type Stores } from "#store/dynamo/index.js";
import { signal } from "#test/store/fixtures.js";
import { isolatedCloud } from "#test/support/local-cloud.js";
import { drainQueue } from "#test/support/sqs.js";

const NOW = new Date("2024-06-30T12:00:00.000Z");
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();

describe("signal bridge on the local cloud", () => {
  let stores: Stores;
  let deps: Parameters<typeof runBridgeCycle>[0];
  let queueUrl: string;

  beforeEach(async () => {
    const cloud = await isolatedCloud("bridge");
    queueUrl = cloud.queues.validation.url;
    stores = createStores(createDocumentClient());
    deps = { ...stores, sendToValidation: queueSender(queueUrl, "VALIDATION_QUEUE_URL"), log: silentLog };
  });

  it("turns confident BUY signals of the last hour into one $100 recommendation each; never HOLD, never SELL (the position manager acts on those)", async () => {
    await stores.signals.putSignal(signal({ signalId: "buy", confidence: 0.8, createdAt: minutesAgo(10) }));
    await stores.signals.putSignal(
      signal({
        signalId: "sell",
        signalType: "SELL",
        confidence: 0.65,
        createdAt: minutesAgo(30),
        symbol: "ETH-USD",
      }),
    );
    await stores.signals.putSignal(
      signal({ signalId: "hold", signalType: "HOLD", confidence: 0.95, createdAt: minutesAgo(5) }),
    );
    await stores.signals.putSignal(signal({ signalId: "weak", confidence: 0.6, createdAt: minutesAgo(5) }));
    await stores.signals.putSignal(signal({ signalId: "old", confidence: 0.9, createdAt: minutesAgo(61) }));

    const report = await runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, NOW);
    expect(report.created).toEqual([recommendationIdFor("buy")]);
    expect(await stores.recommendations.get(recommendationIdFor("buy"))).toMatchObject({
      side: "BUY",
      amountUsd: 100,
      status: "QUEUED",
    });
    expect(await stores.recommendations.get(recommendationIdFor("sell"))).toBeUndefined();
    expect(await stores.recommendations.get(recommendationIdFor("hold"))).toBeUndefined();
    expect((await stores.signals.getSignal("buy"))?.processed).toBe(true);

    const again = await runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, NOW);
    expect(again.created).toEqual([]);
  });

  it("two concurrent bridges create one recommendation per signal", async () => {
    for (let i = 0; i < 5; i++) {
      await stores.signals.putSignal(
        signal({ signalId: `c${i}`, confidence: 0.7 + i / 100, createdAt: minutesAgo(i) }),
      );
    }
    const [a, b] = await Promise.all([
      runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, NOW),
      runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, NOW),
    ]);
    expect([...a.created, ...b.created].sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => recommendationIdFor(`c${i}`)).sort(),
    );
    expect(new Set([...a.queued, ...b.queued]).size).toBe(3);
  });

  it("the per-cycle cap holds with 2-4 concurrent bridges, 50 times over", async () => {
    for (let round = 0; round < 50; round++) {
      // each round 4 hours after the last: earlier signals are out of the lookback, their leftovers expire
      const now = new Date(NOW.getTime() + round * 4 * 3_600_000);
      for (let i = 0; i < 5; i++) {
        const createdAt = new Date(now.getTime() - (i + 1) * 60_000).toISOString();
        await stores.signals.putSignal(
          signal({ signalId: `r${round}-${i}`, confidence: 0.7 + i / 100, createdAt }),
        );
      }
      const bridges = 2 + (round % 3);
      const reports = await Promise.all(
        Array.from({ length: bridges }, () => runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, now)),
      );
      const queued = new Set(reports.flatMap((r) => r.queued));
      const ids = [0, 1, 2, 3, 4].map((i) => recommendationIdFor(`r${round}-${i}`));
      const statuses = await Promise.all(
        ids.map(async (id) => (await stores.recommendations.get(id))?.status),
      );
      expect(queued.size, `round ${round}, ${bridges} bridges`).toBe(3);
      expect(statuses.filter((s) => s === "QUEUED").length, `round ${round}`).toBe(3);
    }
  }, 120_000);

  it("queues at most 3 per cycle, highest confidence first, and sends a versioned message for each", async () => {
    const confidences = [0.61, 0.9, 0.75, 0.8, 0.7];
    for (const [i, c] of confidences.entries()) {
      await stores.signals.putSignal(
        signal({ signalId: `q${i}`, confidence: c, createdAt: minutesAgo(5 + i) }),
      );
    }
    const first = await runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, NOW);
    expect(first.queued).toEqual(["q1", "q3", "q2"].map(recommendationIdFor));
    const messages = (await drainQueue(queueUrl)).map((m) => ValidationRequest.parse(m));
    expect(messages.map((m) => m.recommendationId).sort()).toEqual(first.queued.slice().sort());
    expect(messages.every((m) => m.schemaVersion === 1)).toBe(true);

    const second = await runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, new Date(NOW.getTime() + 60_000));
    expect(second.queued).toEqual(["q4", "q0"].map(recommendationIdFor));
  });

  it("expires PENDING recommendations older than the 2-hour window, with the reason", async () => {
    // a signal from 3h ago made a recommendation back then (bridge ran with a 4h lookback)
    await stores.signals.putSignal(
      signal({ signalId: "stale", confidence: 0.9, createdAt: minutesAgo(180) }),
    );
    const threeHoursAgo = new Date(NOW.getTime() - 180 * 60_000);
    await runBridgeCycle(
      deps,
      { ...DEFAULT_BRIDGE_SETTINGS, lookbackMinutes: 240, maxPerCycle: 0 },
      threeHoursAgo,
    );
    expect((await stores.recommendations.get(recommendationIdFor("stale")))?.status).toBe("PENDING");

    const report = await runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, NOW);
    expect(report.expired).toEqual([recommendationIdFor("stale")]);
    const rec = await stores.recommendations.get(recommendationIdFor("stale"));
    expect(rec?.status).toBe("EXPIRED");
    expect(rec?.statusReason).toMatch(/not sent to validation within 120 minutes/);
  });

  it("holds everything back while the kill switch is on", async () => {
    await stores.signals.putSignal(signal({ signalId: "k", confidence: 0.9, createdAt: minutesAgo(1) }));
    await stores.killSwitch.set(true, "ops", "test", NOW);
    const report = await runBridgeCycle(deps, DEFAULT_BRIDGE_SETTINGS, NOW);
    expect(report.queued).toEqual([]);
    expect(report.heldBack).toMatch(/kill switch is on/);
    expect(await drainQueue(queueUrl)).toEqual([]);
    expect((await stores.recommendations.get(recommendationIdFor("k")))?.status).toBe("PENDING");
  });
});
