/**
 * Measures the in-memory store ports the way the backtester drives them, one representative cycle
 * per call: create a recommendation, three lifecycle transitions (PENDING → QUEUED → VALIDATED →
 * RISK_APPROVED), putOrderIfAbsent, open a managed position and one optimistic update of it that
 * closes it (a backtest holds a few positions open at a time, never all of them). The stores keep
 * every record of the run, as a backtest does, so later cycles run on full maps.
 * Run: npx tsx bench/memory-stores.ts [cycles]   (default 200,000)
 */
import type { ManagedPosition, Order, Recommendation } from "#domain/schemas.js";
import { createMemoryStores } from "#store/memory/index.js";

const cycles = Number(process.argv[2] ?? 200_000);
if (!Number.isInteger(cycles) || cycles <= 0)
  throw new RangeError(`cycles must be a positive integer, got ${process.argv[2]}`);

const CALLS_PER_CYCLE = 7;
const stores = createMemoryStores();
const start = Date.parse("2024-01-01T00:00:00.000Z");

async function cycle(i: number): Promise<void> {
  const at = new Date(start + i * 60_000);
  const iso = at.toISOString();
  const id = `rec-${i}`;
  const rec: Recommendation = {
    recommendationId: id,
    signalId: `sig-${i}`,
    symbol: "BTC-USD",
    side: "BUY",
    amountUsd: 100,
    confidence: 0.7,
    reasoning: "model BUY at 0.70",
    status: "PENDING",
    statusReason: "created from signal",
    entryPrice: 60_000,
    createdAt: iso,
    updatedAt: iso,
    history: [],
  };
  await stores.recommendations.create(rec);
  await stores.recommendations.transition(id, "PENDING", "QUEUED", "top confidence", at);
  await stores.recommendations.transition(id, "QUEUED", "VALIDATED", "LLM approved", at);
  await stores.recommendations.transition(id, "VALIDATED", "RISK_APPROVED", "within limits", at, {
    approvedAmountUsd: 90,
    stopLoss: 58_800,
  });
  const order: Order = {
    clientOrderId: `co-${i}`,
    orderId: "",
    recommendationId: id,
    venue: "paper",
    symbol: "BTC-USD",
    side: "BUY",
    type: "MARKET",
    quoteSize: "90",
    status: "PENDING",
    filledSize: "0",
    averageFilledPrice: "0",
    filledValue: "0",
    totalFees: "0",
    createdAt: iso,
    updatedAt: iso,
  };
  await stores.orders.putOrderIfAbsent(order);
  const position: ManagedPosition = {
    positionId: id,
    symbol: "BTC-USD",
    status: "OPEN",
    entryPrice: 60_000,
    entryQuantity: "0.0015",
    quantity: "0.0015",
    entryCostUsd: 90.54,
    riskPerUnit: 1200,
    stopLoss: 58_800,
    takeProfits: [
      { price: 61_200, share: 0.5 },
      { price: 62_400, share: 0.5 },
    ],
    targetsHit: 0,
    highWaterMark: 60_000,
    openedAt: iso,
    evaluatedAt: iso,
    exits: [],
    realizedPnlUsd: 0,
    version: 0,
  };
  const { position: opened } = await stores.managedPositions.open(position);
  if (
    !(await stores.managedPositions.update(
      { ...opened, status: "CLOSED", quantity: "0", realizedPnlUsd: 0.15, closedAt: iso },
      opened.version,
    ))
  )
    throw new Error(`managed position ${id}: the optimistic update lost with no other writer`);
}

const warmup = Math.min(10_000, cycles);
for (let i = 0; i < warmup; i++) await cycle(-1 - i);
const started = process.hrtime.bigint();
for (let i = 0; i < cycles; i++) await cycle(i);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const rate = (n: number) => Math.round(n / seconds).toLocaleString("en-US");
console.log(
  `memory stores: ${cycles.toLocaleString("en-US")} cycles in ${seconds.toFixed(2)}s = ${rate(cycles)} cycles/s, ` +
    `${rate(cycles * CALLS_PER_CYCLE)} store calls/s (${CALLS_PER_CYCLE} calls a cycle, ${(cycles + warmup).toLocaleString("en-US")} recommendations kept)`,
);
