/** Time as the service reads it; tests inject a controllable one. Epoch ms. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
