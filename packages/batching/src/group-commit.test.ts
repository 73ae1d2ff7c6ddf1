import { describe, expect, it } from 'vitest';
import { GroupCommit, WriteLane } from './group-commit.ts';

/** A sink whose writes stay in flight until the test finishes them (the grouping logic only). */
function controlledSink<T>() {
  const writes: { items: T[]; finish: (error?: Error) => void }[] = [];
  const write = (items: readonly T[]) =>
    new Promise<void>((resolve, reject) => {
      writes.push({ items: [...items], finish: (error) => (error ? reject(error) : resolve()) });
    });
  return { writes, write };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('writes the items of one turn together, and those that arrive during a write in the next', async () => {
    const sink = controlledSink<string>();
    const group = new GroupCommit<string>({ write: sink.write });
    const a = group.submit('a');
    const b = group.submit('b');
    expect(sink.writes).toHaveLength(0); // not before the turn ends
    await tick();
    const c = group.submit('c');
    const d = group.submit('d');
    await tick();
    expect(sink.writes.map((w) => w.items)).toEqual([['a', 'b']]);
    expect(group.waiting).toBe(2);
    let cDone = false;
    void c.then(() => (cDone = true));
    sink.writes[0]?.finish();
    await Promise.all([a, b]);
    await tick();
    expect(sink.writes.map((w) => w.items)).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(cDone).toBe(false);
    sink.writes[1]?.finish();
    await Promise.all([c, d]);
    // Idle again: the next item starts a write of its own.
    const e = group.submit('e');
    await tick();
    expect(sink.writes[2]?.items).toEqual(['e']);
    sink.writes[2]?.finish();
    await expect(e).resolves.toBeUndefined();
  });

  it('rejects every item of a failed write with its error; the items after it still go out', async () => {
    const sink = controlledSink<string>();
    const group = new GroupCommit<string>({ write: sink.write });
    const a = group.submit('a');
    const b = group.submit('b');
    await tick();
    const c = group.submit('c');
    sink.writes[0]?.finish(new Error('sink down'));
    await expect(a).rejects.toThrow('sink down');
    await expect(b).rejects.toThrow('sink down');
    await tick();
    expect(sink.writes[1]?.items).toEqual(['c']);
    sink.writes[1]?.finish();
    await expect(c).resolves.toBeUndefined();
  });

  it('rejects when the write throws instead of returning a rejected promise', async () => {
    const group = new GroupCommit<number>({
      write: () => {
        throw new Error('synchronous failure');
      },
    });
    await expect(group.submit(1)).rejects.toThrow('synchronous failure');
  });

  it('caps a write at maxSize without splitting an item', async () => {
    const sink = controlledSink<number>();
    const group = new GroupCommit<number>({ write: sink.write, sizeOf: (n) => n, maxSize: 10 });
    const all = [4, 5, 6, 15, 2].map((n) => group.submit(n));
    for (let i = 0; i < 4; i++) {
      await tick();
      sink.writes[i]?.finish();
    }
    await Promise.all(all);
    expect(sink.writes.map((w) => w.items)).toEqual([[4, 5], [6], [15], [2]]);
  });

  it('with a shared lane, writes one group at a time across groups, in request order, and the items that arrive while waiting join the write', async () => {
    const sinkA = controlledSink<string>();
    const sinkB = controlledSink<string>();
    const lane = new WriteLane(1);
    const a = new GroupCommit<string>({ write: sinkA.write, lane });
    const b = new GroupCommit<string>({ write: sinkB.write, lane });
    const a1 = a.submit('a1');
    const b1 = b.submit('b1');
    await tick();
    await tick();
    // a holds the lane; b waits without writing.
    expect(sinkA.writes.map((w) => w.items)).toEqual([['a1']]);
    expect(sinkB.writes).toHaveLength(0);
    const b2 = b.submit('b2'); // arrives while b waits for the lane: joins b's write
    const a2 = a.submit('a2'); // a's next write queues behind b's
    sinkA.writes[0]?.finish();
    await a1;
    await tick();
    await tick();
    expect(sinkB.writes.map((w) => w.items)).toEqual([['b1', 'b2']]);
    expect(sinkA.writes).toHaveLength(1);
    sinkB.writes[0]?.finish();
    await Promise.all([b1, b2]);
    await tick();
    await tick();
    expect(sinkA.writes.map((w) => w.items)).toEqual([['a1'], ['a2']]);
    sinkA.writes[1]?.finish();
    await a2;
  });

  it('frees the lane after a failed write', async () => {
    const lane = new WriteLane(1);
    const failing = new GroupCommit<number>({ write: () => Promise.reject(new Error('down')), lane });
    const sink = controlledSink<number>();
    const other = new GroupCommit<number>({ write: sink.write, lane });
    await expect(failing.submit(1)).rejects.toThrow('down');
    const done = other.submit(2);
    await tick();
    await tick();
    expect(sink.writes.map((w) => w.items)).toEqual([[2]]);
    sink.writes[0]?.finish();
    await done;
  });
});

describe('GroupCommit with a linger', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Waits (up to 5 s) until the sink has `n` writes. */
  async function writesReach(writes: unknown[], n: number): Promise<void> {
    for (const deadline = Date.now() + 5_000; writes.length < n; await sleep(2))
      if (Date.now() > deadline) throw new Error(`expected ${n} writes, saw ${writes.length}`);
  }

  it('holds the first item for the linger and writes everything that arrived meanwhile with it', async () => {
    const sink = controlledSink<string>();
    const group = new GroupCommit<string>({ write: sink.write, lingerMs: 1_000 });
    const started = performance.now();
    const a = group.submit('a');
    await tick();
    const b = group.submit('b');
    await sleep(20);
    const c = group.submit('c');
    expect(sink.writes).toHaveLength(0);
    await writesReach(sink.writes, 1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(995);
    expect(sink.writes[0]?.items).toEqual(['a', 'b', 'c']);
    sink.writes[0]?.finish();
    await Promise.all([a, b, c]);
  });

  it('writes at once when the waiting items reach flushSize, and after a write lingers again', async () => {
    const sink = controlledSink<number>();
    const group = new GroupCommit<number>({
      write: sink.write,
      sizeOf: (n) => n,
      lingerMs: 60_000,
      flushSize: 10,
    });
    const small = group.submit(4);
    await tick();
    expect(sink.writes).toHaveLength(0);
    const big = group.submit(6);
    await writesReach(sink.writes, 1);
    expect(sink.writes[0]?.items).toEqual([4, 6]);
    const late = group.submit(3);
    sink.writes[0]?.finish();
    await Promise.all([small, big]);
    await sleep(30);
    expect(sink.writes, 'the item that arrived during the write lingers').toHaveLength(1);
    const more = group.submit(7);
    await writesReach(sink.writes, 2);
    expect(sink.writes[1]?.items).toEqual([3, 7]);
    sink.writes[1]?.finish();
    await Promise.all([late, more]);
  });

  it('flush() ends the current linger; stopLingering() ends it for good', async () => {
    const sink = controlledSink<string>();
    const group = new GroupCommit<string>({ write: sink.write, lingerMs: 60_000 });
    const a = group.submit('a');
    await tick();
    expect(sink.writes).toHaveLength(0);
    group.flush();
    await writesReach(sink.writes, 1);
    const b = group.submit('b');
    sink.writes[0]?.finish();
    await a;
    await sleep(30);
    expect(sink.writes, 'after a flush, new items linger again').toHaveLength(1);
    group.stopLingering();
    await writesReach(sink.writes, 2);
    expect(sink.writes[1]?.items).toEqual(['b']);
    sink.writes[1]?.finish();
    await b;
    const c = group.submit('c');
    await writesReach(sink.writes, 3);
    sink.writes[2]?.finish();
    await c;
  });
});

describe('GroupCommit with retries', () => {
  it('writes a failed group again as it was, with later items waiting for the write after it, until the policy gives up', async () => {
    const sink = controlledSink<string>();
    const lane = new WriteLane(1);
    const attempts: number[] = [];
    let giveUp = false;
    const group = new GroupCommit<string>({
      write: sink.write,
      lane,
      retryDelayMs: (attempt) => {
        attempts.push(attempt);
        return giveUp ? null : 50;
      },
    });
    const a = group.submit('a');
    const b = group.submit('b');
    await tick();
    const c = group.submit('c');
    sink.writes[0]?.finish(new Error('down'));
    // The lane is free during the delay: another group writes meanwhile.
    const other = new GroupCommit<string>({ write: async () => {}, lane });
    await other.submit('x');
    expect(sink.writes, 'not retried yet').toHaveLength(1);
    for (let i = 0; i < 1_000 && sink.writes.length < 2; i++) await new Promise((r) => setTimeout(r, 2));
    expect(sink.writes[1]?.items, 'the same items again; c waits').toEqual(['a', 'b']);
    sink.writes[1]?.finish();
    await Promise.all([a, b]);
    for (let i = 0; i < 1_000 && sink.writes.length < 3; i++) await new Promise((r) => setTimeout(r, 2));
    expect(sink.writes[2]?.items).toEqual(['c']);
    giveUp = true;
    sink.writes[2]?.finish(new Error('still down'));
    await expect(c).rejects.toThrow('still down');
    expect(attempts).toEqual([0, 0]);
  });
});

describe('WriteLane', () => {
  it('grants at most its slots at once, the rest in request order, and a release counts once', async () => {
    const lane = new WriteLane(2);
    const order: string[] = [];
    const r1 = await lane.acquire();
    const r2 = await lane.acquire();
    const third = lane.acquire().then((release) => {
      order.push('third');
      return release;
    });
    const fourth = lane.acquire().then((release) => {
      order.push('fourth');
      return release;
    });
    await tick();
    expect(order).toEqual([]);
    r1();
    r1(); // a second call of the same release frees nothing more
    await tick();
    expect(order).toEqual(['third']);
    r2();
    await tick();
    expect(order).toEqual(['third', 'fourth']);
    (await third)();
    (await fourth)();
    // All free again: two grants at once.
    await Promise.all([lane.acquire(), lane.acquire()]);
  });
});
