package graphfold.peer;

import graphfold.GraphDiff;
import graphfold.GraphTransaction;
import graphfold.peer.fold.Refusal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * The Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro binary body) of
 * GraphTransaction in and GraphDiff out. There is one writer schema of each, so the input's schema
 * id is not looked up, and the diffs carry the id the GraphDiff schema was registered under.
 *
 * <p>Reuses its decoder, encoder and buffer: one per processor, not thread-safe.
 */
final class WireFormat {
  private final SpecificDatumReader<GraphTransaction> transactions = new SpecificDatumReader<>(GraphTransaction.class);
  private final SpecificDatumWriter<GraphDiff> diffs = new SpecificDatumWriter<>(GraphDiff.class);
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(1024);
  private final byte[] header;
  private BinaryDecoder decoder;
  private BinaryEncoder encoder;

  WireFormat(int diffSchemaId) {
    header = new byte[] {0, (byte) (diffSchemaId >>> 24), (byte) (diffSchemaId >>> 16), (byte) (diffSchemaId >>> 8), (byte) diffSchemaId};
  }

  /**
   * Decodes a framed transaction into {@code reuse} (which may be null), as Avro readers do.
   *
   * @throws Refusal DECODE_ERROR when the record is not a framed GraphTransaction
   */
  GraphTransaction decode(byte[] value, GraphTransaction reuse) {
    if (value == null || value.length == 0) throw new Refusal("DECODE_ERROR", "record has no value (a tombstone?); a transaction was expected");
    if (value.length < 5 || value[0] != 0) throw new Refusal("DECODE_ERROR", "record value is not in the Confluent wire format (magic byte 0, 4-byte schema id, Avro body)");
    decoder = DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, decoder);
    try {
      return transactions.read(reuse, decoder);
    } catch (IOException | RuntimeException e) {
      throw new Refusal("DECODE_ERROR", "Avro body does not decode as a GraphTransaction: " + e);
    }
  }

  /** A diff, framed with the GraphDiff schema id. */
  byte[] encode(GraphDiff diff) {
    buffer.reset();
    buffer.writeBytes(header);
    encoder = EncoderFactory.get().binaryEncoder(buffer, encoder);
    try {
      diffs.write(diff, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode the diff of " + diff.getGraph() + " slice " + diff.getSlice(), e);
    }
    return buffer.toByteArray();
  }
}
