/**
 * Work per partition, one piece after another: a piece starts when the one queued before it for
 * the same partition has settled (a failed piece does not stop the next; its caller sees the
 * failure).
 */
export class PartitionQueues {
  private readonly tails = new Map<number, Promise<void>>();

  /** Runs `work` after the work queued before it for `partition`; settles as `work` does. */
  run(partition: number, work: () => Promise<void>): Promise<void> {
    const run = (this.tails.get(partition) ?? Promise.resolve()).then(work);
    this.tails.set(
      partition,
      run.catch(() => undefined),
    );
    return run;
  }

  /** Resolves once the work queued so far for these partitions (default: all) has settled; never rejects. */
  async settled(partitions?: readonly number[]): Promise<void> {
    const tails = partitions === undefined ? [...this.tails.values()] : partitions.map((p) => this.tails.get(p) ?? Promise.resolve());
    await Promise.all(tails);
  }
}
