import { TerminalError } from '../errors';

/** Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then the Avro body. */
export const magicByte = 0;

export function frame(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.allocUnsafe(5);
  header[0] = magicByte;
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

export function unframe(payload: Buffer): { readonly schemaId: number; readonly body: Buffer } {
  if (payload.length < 5) throw new TerminalError('DECODE_ERROR', `record value is ${payload.length} bytes; a Confluent-framed Avro record has at least 5`);
  if (payload[0] !== magicByte) {
    throw new TerminalError(
      'DECODE_ERROR',
      `record value starts with byte 0x${(payload[0] as number).toString(16).padStart(2, '0')}, not the Confluent magic byte 0x00; send Avro through the schema registry, or JSON with header content-type: application/json`,
    );
  }
  return { schemaId: payload.readUInt32BE(1), body: payload.subarray(5) };
}
