/** Commands operators send to a function by hand (`aws lambda invoke`, `npm run invoke`). */
import { z } from "zod";

/** trade-executor: settle a recommendation stuck in EXECUTING against the venue (never places an order). */
export const ResolveStuckCommand = z.object({
  action: z.literal("resolve-stuck"),
  recommendationId: z.string().min(1),
  by: z.string().min(1),
});
export type ResolveStuckCommand = z.infer<typeof ResolveStuckCommand>;
