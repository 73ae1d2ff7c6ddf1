import { describe, expect, it } from 'vitest';
import { DeferredCommits, type TopicPartitionOffset } from './deferred-commits.ts';

/** A promise the test settles. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Commits recorded; each stays in flight until the test finishes it (or answers at once). */
function recordingCommits(immediate = true) {
  const commits: { offsets: TopicPartitionOffset[]; finish: (error?: Error) => void }[] = [];
  const commit = (offsets: TopicPartitionOffset[]) =>
    new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => (error ? reject(error) : resolve());
      commits.push({ offsets, finish });
      if (immediate) finish();
    });
  const committed = () =>
    commits.map((c) => c.offsets.map((o) => `${o.topic}/${o.partition}@${o.offset}`).join(','));
  return { commits, commit, committed };
}

describe('DeferredCommits', () => {
  it("commits a partition's offset only up to its oldest batch not yet stored", async () => {
    const sink = recordingCommits();
    const commits = new DeferredCommits({ commit: sink.commit });
    const a = deferred();
    const b = deferred();
    const c = deferred();
    commits.track('t', 0, '10', 10, a.promise);
    commits.track('t', 0, '20', 5, b.promise);
    commits.track('t', 1, '7', 7, c.promise);
    expect(commits.pendingRows).toBe(22);
    b.resolve();
    await tick();
    expect(sink.committed(), 'batch b is stored but a, before it, is not').toEqual([]);
    expect(commits.pendingRows).toBe(17);
    a.resolve();
    await tick();
    expect(sink.committed()).toEqual(['t/0@20']);
    c.resolve();
    await tick();
    expect(sink.committed()).toEqual(['t/0@20', 't/1@7']);
    expect(commits.pendingRows).toBe(0);
    await expect(commits.drain(1_000)).resolves.toBe(true);
  });

  it('sends the offsets that become due during a commit together in the next, newest per partition', async () => {
    const sink = recordingCommits(false);
    const commits = new DeferredCommits({ commit: sink.commit });
    const stored = Promise.resolve();
    commits.track('t', 0, '5', 1, stored);
    await tick();
    commits.track('t', 0, '9', 1, stored);
    commits.track('t', 0, '12', 1, stored);
    commits.track('u', 3, '4', 1, stored);
    await tick();
    expect(sink.committed()).toEqual(['t/0@5']);
    sink.commits[0]?.finish();
    await tick();
    expect(sink.committed()).toEqual(['t/0@5', 't/0@12,u/3@4']);
    sink.commits[1]?.finish();
    await expect(commits.drain(1_000)).resolves.toBe(true);
  });

  it('retries a failed commit, and a batch whose storage failed blocks its partition until a reset', async () => {
    const sink = recordingCommits(false);
    const errors: unknown[] = [];
    const commits = new DeferredCommits({
      commit: sink.commit,
      onCommitError: (e) => errors.push(e),
      retryMs: 20,
    });
    commits.track('t', 0, '5', 1, Promise.resolve());
    await tick();
    sink.commits[0]?.finish(new Error('coordinator moved'));
    for (let i = 0; i < 1_000 && sink.commits.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(errors).toHaveLength(1);
    expect(sink.committed()).toEqual(['t/0@5', 't/0@5']);
    sink.commits[1]?.finish();

    const failed = deferred();
    commits.track('t', 0, '8', 3, failed.promise);
    commits.track('t', 0, '9', 1, Promise.resolve());
    failed.reject(new Error('stopping'));
    await tick();
    expect(commits.pendingRows).toBe(0);
    expect(sink.commits).toHaveLength(2);
    await expect(commits.drain(50), 'a failed batch cannot be committed past').resolves.toBe(false);
    commits.reset();
    await expect(commits.drain(50)).resolves.toBe(true);
    // Batches of the previous assignment that are stored after the reset commit nothing.
    const late = deferred();
    commits.track('t', 1, '3', 1, late.promise);
    commits.reset();
    late.resolve();
    await tick();
    expect(sink.commits).toHaveLength(2);
    // The new assignment's batches commit as before, from the partition's committed offset again.
    commits.track('t', 0, '6', 1, Promise.resolve());
    await tick();
    expect(sink.committed().at(-1)).toBe('t/0@6');
    sink.commits.at(-1)?.finish();
    await expect(commits.drain(1_000)).resolves.toBe(true);
  });

  it('counts the join epoch, so a batch that spans a rejoin can tell', () => {
    const commits = new DeferredCommits({ commit: async () => {} });
    const before = commits.epoch;
    commits.reset();
    expect(commits.epoch).not.toBe(before);
  });

  it('whenRowsAtMost waits for storage to catch up, or for its timeout', async () => {
    const commits = new DeferredCommits({ commit: async () => {} });
    const a = deferred();
    commits.track('t', 0, '100', 100, a.promise);
    const started = performance.now();
    await commits.whenRowsAtMost(50, 30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(commits.pendingRows).toBe(100);
    const waiting = commits.whenRowsAtMost(50, 60_000);
    setTimeout(() => a.resolve(), 10);
    await waiting;
    expect(commits.pendingRows).toBe(0);
    await expect(commits.drain(1_000)).resolves.toBe(true);
  });

  it('drain gives up after its timeout while a batch is still being stored', async () => {
    const commits = new DeferredCommits({ commit: async () => {} });
    commits.track('t', 0, '1', 1, new Promise(() => {}));
    await expect(commits.drain(30)).resolves.toBe(false);
  });
});
