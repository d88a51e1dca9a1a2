/**
 * Time as the core reads it. Scheduling, retention and health ask this instead of `new Date()`, so
 * tests can drive months of schedule (DST days included) without sleeping.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
