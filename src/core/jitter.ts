/** `ms` give or take 20 %, so that many clients recovering from one outage do not retry in step. */
export function withJitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (1 + (random() * 2 - 1) * 0.2));
}
