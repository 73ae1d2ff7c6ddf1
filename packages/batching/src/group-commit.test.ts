import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.ts';

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
});
