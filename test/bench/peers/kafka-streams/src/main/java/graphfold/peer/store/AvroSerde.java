package graphfold.peer.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * A serde of plain Avro binary (no registry framing) for a generated record class: what a store
 * needs, since only this application reads its stores and their changelogs. One instance serves
 * every task and stream thread, so the reusable encoder and decoder are kept per thread.
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T> {
  private final SpecificDatumWriter<T> writer;
  private final SpecificDatumReader<T> reader;
  private final ThreadLocal<Buffers> buffers = ThreadLocal.withInitial(Buffers::new);

  private static final class Buffers {
    final ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    BinaryEncoder encoder;
    BinaryDecoder decoder;
  }

  public AvroSerde(Class<T> type) {
    this.writer = new SpecificDatumWriter<>(type);
    this.reader = new SpecificDatumReader<>(type);
  }

  private byte[] serialize(T record) {
    if (record == null) return null;
    Buffers b = buffers.get();
    b.out.reset();
    b.encoder = EncoderFactory.get().binaryEncoder(b.out, b.encoder);
    try {
      writer.write(record, b.encoder);
      b.encoder.flush();
    } catch (IOException e) {
      throw new SerializationException("cannot encode " + record.getSchema().getFullName(), e);
    }
    return b.out.toByteArray();
  }

  private T deserialize(byte[] bytes) {
    if (bytes == null) return null;
    Buffers b = buffers.get();
    b.decoder = DecoderFactory.get().binaryDecoder(bytes, b.decoder);
    try {
      return reader.read(null, b.decoder);
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("cannot decode a stored " + reader.getSchema().getFullName(), e);
    }
  }

  @Override
  public Serializer<T> serializer() {
    return (topic, record) -> serialize(record);
  }

  @Override
  public Deserializer<T> deserializer() {
    return (topic, bytes) -> deserialize(bytes);
  }
}
