/**
 * The replay's clock: the time the pipeline is at (a minute after the candle that just closed). Every
 * part of a local run that stamps a time reads it (the steps, and the paper venue's orders and fills),
 * so one run's records carry one clock: the replay's, never the wall clock.
 */
export interface ReplayClock {
  /** the replay time now */
  now(): Date;
  /** sets the clock to a cycle's time */
  advanceTo(at: Date): void;
}

export function replayClock(start: Date): ReplayClock {
  let current = new Date(start.getTime());
  return {
    now: () => new Date(current.getTime()),
    advanceTo(at) {
      current = new Date(at.getTime());
    },
  };
}
