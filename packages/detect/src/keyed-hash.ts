/**
 * HMAC-SHA256 (RFC 2104) from two one-shot `crypto.hash` calls over precomputed key pads. Same
 * output as `createHmac('sha256', key)`, about 7x faster per phone number on Node 24 (measured on
 * the idle 2-core VM: 2.7–3.3 µs against 22–26 µs): `createHmac` builds a native object and re-derives the pads on every
 * call, and ingest hashes every recipient. Not for secrets comparison (no constant-time concerns
 * here: the output is a pseudonym, not a MAC someone verifies).
 */
import { hash } from 'node:crypto';

const BLOCK = 64;

export class HmacSha256 {
  readonly #inner: Buffer;
  readonly #outer: Buffer;
  #scratch: Buffer;

  constructor(key: string | Buffer) {
    let k = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (k.length > BLOCK) k = hash('sha256', k, 'buffer');
    const block = Buffer.alloc(BLOCK);
    k.copy(block);
    this.#inner = Buffer.from(block.map((b) => b ^ 0x36));
    this.#outer = Buffer.alloc(BLOCK + 32);
    for (let i = 0; i < BLOCK; i++) this.#outer[i] = (block[i] as number) ^ 0x5c;
    this.#scratch = Buffer.alloc(BLOCK + 256);
    this.#inner.copy(this.#scratch);
  }

  /** Hex digest of `message` (UTF-8). Not re-entrant across awaits: it reuses its buffers. */
  hex(message: string): string {
    const needed = BLOCK + Buffer.byteLength(message, 'utf8');
    if (needed > this.#scratch.length) {
      this.#scratch = Buffer.alloc(needed * 2);
      this.#inner.copy(this.#scratch);
    }
    const written = this.#scratch.write(message, BLOCK, 'utf8');
    const inner = hash('sha256', this.#scratch.subarray(0, BLOCK + written), 'buffer');
    inner.copy(this.#outer, BLOCK);
    return hash('sha256', this.#outer, 'hex');
  }
}
