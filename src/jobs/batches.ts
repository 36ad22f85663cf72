/**
 * Runs `step` (one batch, returning how many rows it took) until a batch comes back short, `maxBatches`
 * ran, or `signal` aborts: a tick stays bounded and the runner can stop between batches. The total taken.
 */
export async function drainBatches(
  step: () => Promise<number>,
  limits: { batch: number; maxBatches: number },
  signal: AbortSignal,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < limits.maxBatches && !signal.aborted; i++) {
    const n = await step();
    total += n;
    if (n < limits.batch) break;
  }
  return total;
}
