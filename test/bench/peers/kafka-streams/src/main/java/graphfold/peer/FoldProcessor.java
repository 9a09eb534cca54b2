package graphfold.peer;

import graphfold.GraphTransaction;
import graphfold.SourcePosition;
import graphfold.peer.fold.Fold;
import graphfold.peer.fold.Refusal;
import graphfold.peer.store.GraphStores;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * Per input record: decode the transaction, fold it against the graph's stores, write the new
 * state and forward one framed GraphDiff keyed by graph id. A duplicate txId forwards nothing; a
 * refused transaction forwards nothing, writes nothing and is reported as a {@code refused} event.
 * Kafka Streams commits the store writes, the diffs and the input offsets together (exactly_once_v2).
 */
final class FoldProcessor implements Processor<String, byte[], String, byte[]> {
  private final PeerConfig config;
  private final Events events;
  private final WireFormat wire;
  private ProcessorContext<String, byte[]> context;
  private Fold fold;
  private GraphTransaction reuse;

  FoldProcessor(PeerConfig config, Events events) {
    this.config = config;
    this.events = events;
    this.wire = new WireFormat(config.diffSchemaId());
  }

  @Override
  public void init(ProcessorContext<String, byte[]> context) {
    this.context = context;
    this.fold = new Fold(new GraphStores(context), config.maxInstructions());
  }

  @Override
  public void process(Record<String, byte[]> record) {
    RecordMetadata origin = context.recordMetadata().orElseThrow();
    SourcePosition source = new SourcePosition(origin.topic(), origin.partition(), origin.offset());
    if (record.value() != null && record.value().length > config.maxRecordBytes()) {
      refused(record.key(), null, source, new Refusal("TOO_LARGE", "record value is " + record.value().length + " bytes; the limit is " + config.maxRecordBytes() + ": split the transaction"));
      return;
    }
    GraphTransaction tx;
    try {
      tx = wire.decode(record.value(), reuse);
      reuse = tx;
    } catch (Refusal refusal) {
      refused(record.key(), null, source, refusal);
      return;
    }
    switch (fold.run(record.key(), tx, source, record.timestamp() * 1000)) {
      case APPLIED -> {
        fold.persist();
        context.forward(record.withValue(wire.encode(fold.diff())));
      }
      case UNCHANGED -> fold.persist();
      case DUPLICATE -> {}
      case REFUSED -> refused(tx.getGraph(), tx.getTxId(), source, fold.refusal());
    }
  }

  private void refused(String graph, String txId, SourcePosition source, Refusal refusal) {
    events.emit("refused", "graph", graph, "txId", txId, "code", refusal.code(), "message", refusal.getMessage(),
        "topic", source.getTopic(), "partition", source.getPartition(), "offset", source.getOffset());
  }
}
