package graphfold.peer;

import graphfold.peer.store.GraphStores;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * transactions (source: input topic, String keys, raw values) -> fold (FoldProcessor with the four
 * graph stores) -> diffs (sink: output topic). One task per input partition, each with its own
 * RocksDB instances and changelog partitions.
 */
final class FoldTopology {
  private FoldTopology() {}

  static Topology build(PeerConfig config, Events events) {
    Topology topology = new Topology();
    topology.addSource("transactions", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), config.inputTopic());
    topology.addProcessor("fold", new Supplier(config, events), "transactions");
    topology.addSink("diffs", config.outputTopic(), Serdes.String().serializer(), Serdes.ByteArray().serializer(), "fold");
    return topology;
  }

  /** A FoldProcessor per task, connected to the stores it declares. */
  private record Supplier(PeerConfig config, Events events) implements ProcessorSupplier<String, byte[], String, byte[]> {
    @Override
    public Processor<String, byte[], String, byte[]> get() {
      return new FoldProcessor(config, events);
    }

    @Override
    public Set<StoreBuilder<?>> stores() {
      return GraphStores.builders(config.cacheBytes() > 0);
    }
  }
}
