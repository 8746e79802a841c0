import { beforeAll, describe, expect, it } from "vitest";
import type { Stores } from "#store/ports.js";
import { managedPosition } from "./fixtures.js";
import { STORE_IMPLEMENTATIONS } from "./implementations.js";

describe.each(STORE_IMPLEMENTATIONS)("managed positions ($name)", (implementation) => {
  let stores: Stores;
  beforeAll(async () => {
    stores = await implementation.fresh("managed-positions");
  });

  it("opens once: a repeat returns the stored position and changes nothing", async () => {
    const first = managedPosition({ positionId: "mp-once" });
    expect(await stores.managedPositions.open(first)).toEqual({ created: true, position: first });
    const again = await stores.managedPositions.open({ ...first, entryPrice: 1, quantity: "9" });
    expect(again).toEqual({ created: false, position: first });
    expect(await stores.managedPositions.get("mp-once")).toEqual(first);
    expect(await stores.managedPositions.get("mp-missing")).toBeUndefined();
  });

  it("update is conditional on the version: of two writers on the same version, one wins", async () => {
    const p = managedPosition({ positionId: "mp-race" });
    await stores.managedPositions.open(p);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stores.managedPositions.update({ ...p, highWaterMark: 60_000 + i }, 0),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await stores.managedPositions.get("mp-race");
    expect(stored?.version).toBe(1);
    expect(await stores.managedPositions.update({ ...p, highWaterMark: 1 }, 0)).toBe(false);
    expect(await stores.managedPositions.update({ ...stored!, highWaterMark: 70_000 }, 1)).toBe(true);
    expect(await stores.managedPositions.get("mp-race")).toMatchObject({ version: 2, highWaterMark: 70_000 });
  });

  it("update of a position never opened writes nothing", async () => {
    const ghost = managedPosition({ positionId: "mp-ghost" });
    expect(await stores.managedPositions.update(ghost, 0)).toBe(false);
    expect(await stores.managedPositions.get("mp-ghost")).toBeUndefined();
  });

  it("lists OPEN and CLOSING positions only; a closed one leaves the list, and every one stays in the history", async () => {
    const open = managedPosition({ positionId: "mp-list-open" });
    const closing = managedPosition({ positionId: "mp-list-closing" });
    const closed = managedPosition({ positionId: "mp-list-closed" });
    for (const p of [open, closing, closed]) await stores.managedPositions.open(p);
    await stores.managedPositions.update({ ...closing, status: "CLOSING" }, 0);
    await stores.managedPositions.update(
      { ...closed, status: "CLOSED", quantity: "0", closedAt: "2024-06-30T13:00:00.000Z" },
      0,
    );
    const ids = (await stores.managedPositions.openPositions()).map((p) => p.positionId);
    expect(ids).toContain("mp-list-open");
    expect(ids).toContain("mp-list-closing");
    expect(ids).not.toContain("mp-list-closed");
    const all = (await stores.managedPositions.allPositions()).map((p) => p.positionId);
    expect(all).toEqual(expect.arrayContaining(["mp-list-open", "mp-list-closing", "mp-list-closed"]));
    // a repeated open of a closed position does not bring it back
    await stores.managedPositions.open(closed);
    expect((await stores.managedPositions.openPositions()).map((p) => p.positionId)).not.toContain(
      "mp-list-closed",
    );
  });

  it("refuses an invalid position before writing it", async () => {
    await expect(
      stores.managedPositions.open(managedPosition({ positionId: "mp-bad", quantity: "-x" })),
    ).rejects.toThrow(/decimal string/);
    expect(await stores.managedPositions.get("mp-bad")).toBeUndefined();
  });
});
