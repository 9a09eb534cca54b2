/**
 * The byte-level vocabulary of the store's records: varints, uids as 16 bytes, UTF-8 strings with
 * a length. Hand-rolled rather than Avro because records are encoded and decoded on every fold:
 * these writes and reads touch no schema and allocate only what they return.
 */

const hexDigits = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i += 1) hexDigits['0123456789abcdef'.charCodeAt(i)] = i;

/** Writes the 16 bytes of a uid (32 lowercase hex characters) at `at`. */
export function writeUid(buf: Uint8Array, at: number, uid: string): void {
  for (let i = 0; i < 16; i += 1) buf[at + i] = ((hexDigits[uid.charCodeAt(2 * i)] as number) << 4) | (hexDigits[uid.charCodeAt(2 * i + 1)] as number);
}

/** The byte at `i` of a uid's 16 bytes, read from its hex text. */
export function uidByte(uid: string, i: number): number {
  return ((hexDigits[uid.charCodeAt(2 * i)] as number) << 4) | (hexDigits[uid.charCodeAt(2 * i + 1)] as number);
}

/** A growable buffer written front to back. One writer is reused for many records. */
export class Writer {
  private buf = Buffer.allocUnsafe(4096);
  private pos = 0;

  get length(): number {
    return this.pos;
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  /** The writer's buffer: its first `length` bytes are what was written; valid until the writer is written to again. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** A view of what was written: valid until the writer is written to again. */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of what was written. */
  copy(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A non-negative safe integer, 7 bits a byte. */
  varint(n: number): void {
    this.ensure(8);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  /** A safe integer of either sign (zigzag). */
  signed(n: number): void {
    this.varint(n < 0 ? -2 * n - 1 : 2 * n);
  }

  uid(uid: string): void {
    this.ensure(16);
    writeUid(this.buf, this.pos, uid);
    this.pos += 16;
  }

  /** Bytes from their hex text (an even number of lowercase hex digits), without a length. */
  hex(text: string): void {
    this.ensure(text.length / 2);
    this.pos += this.buf.write(text, this.pos, 'hex');
  }

  /** UTF-8 with its byte length in front. */
  string(s: string): void {
    const n = s.length;
    this.ensure(5 + 3 * n);
    let ascii = true;
    for (let i = 0; i < n; i += 1) {
      if (s.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.varint(n);
      for (let i = 0; i < n; i += 1) this.buf[this.pos++] = s.charCodeAt(i);
      return;
    }
    const length = Buffer.byteLength(s);
    this.varint(length);
    this.pos += this.buf.write(s, this.pos, length, 'utf8');
  }

  /** Bytes with their length in front. */
  bytes(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** Bytes as they are. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  double(x: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(x, this.pos);
  }

  int64(n: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigInt64LE(n, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/** Short strings seen before (types, names), by their bytes: decoded once, shared after. */
const interned: (string | undefined)[] = new Array<string | undefined>(4096);

/** Reads what a {@link Writer} wrote, front to back. */
export class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    return this.buf[this.pos++] as number;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.buf[this.pos++] as number;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
  }

  signed(): number {
    const z = this.varint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  uid(): string {
    this.pos += 16;
    return this.buf.toString('hex', this.pos - 16, this.pos);
  }

  /** `length` bytes as hex text. */
  hex(length: number): string {
    this.pos += length;
    return this.buf.toString('hex', this.pos - length, this.pos);
  }

  string(): string {
    const length = this.varint();
    this.pos += length;
    return this.buf.toString('utf8', this.pos - length, this.pos);
  }

  /** A string that recurs across records (a type, a name): equal ASCII ones share one JS string. */
  name(): string {
    const length = this.varint();
    const start = this.pos;
    this.pos += length;
    if (length > 24) return this.buf.toString('utf8', start, this.pos);
    let h = length;
    for (let i = start; i < this.pos; i += 1) {
      const b = this.buf[i] as number;
      if (b > 0x7f) return this.buf.toString('utf8', start, this.pos);
      h = Math.imul(h ^ b, 0x01000193);
    }
    const slot = (h >>> 20) & (interned.length - 1);
    const known = interned[slot];
    if (known !== undefined && known.length === length) {
      let same = true;
      for (let i = 0; i < length; i += 1) {
        if (known.charCodeAt(i) !== this.buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return known;
    }
    const decoded = this.buf.toString('utf8', start, this.pos);
    interned[slot] = decoded;
    return decoded;
  }

  /** Bytes with their length in front, copied out of the record. */
  bytes(): Buffer {
    const length = this.varint();
    this.pos += length;
    return Buffer.from(this.buf.subarray(this.pos - length, this.pos));
  }

  double(): number {
    this.pos += 8;
    return this.buf.readDoubleLE(this.pos - 8);
  }

  int64(): bigint {
    this.pos += 8;
    return this.buf.readBigInt64LE(this.pos - 8);
  }
}
