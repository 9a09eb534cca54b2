package graphfold.peer.store;

import graphfold.peer.fold.Uids;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The fold's state: four persistent RocksDB key-value stores, each backed by its changelog topic,
 * so that {@code exactly_once_v2} commits their writes together with the diffs and the input
 * offsets.
 *
 * <pre>
 * atoms   graph 0x00 uid(16)                                -> AtomState (Avro), live or terminated
 * edges   graph 0x00 end(16) dir('o'|'i') type 0x00 rel(16) -> other end (16): live relations only
 * heads   graph                                             -> latest slice
 * txids   graph 0x00 txId                                   -> slice it made (0: no changes)
 * </pre>
 *
 * Edge keys sort by end, direction, type, then relation uid, so one prefix scan lists an atom's
 * live relations in graphfold's order (by type, then uid), or only those of one type.
 *
 * <p>Not thread-safe: one per processor, pointed at a graph with {@link #use}.
 */
public final class GraphStores {
  public static final String ATOMS = "atoms";
  public static final String EDGES = "edges";
  public static final String HEADS = "heads";
  public static final String TXIDS = "txids";

  private static final Serializer<Bytes> PREFIX = Serdes.Bytes().serializer();

  private final KeyValueStore<Bytes, AtomState> atoms;
  private final KeyValueStore<Bytes, byte[]> edges;
  private final KeyValueStore<String, Long> heads;
  private final KeyValueStore<String, Long> txIds;

  private String graph;
  private byte[] graphPrefix;

  public GraphStores(ProcessorContext<?, ?> context) {
    this.atoms = context.getStateStore(ATOMS);
    this.edges = context.getStateStore(EDGES);
    this.heads = context.getStateStore(HEADS);
    this.txIds = context.getStateStore(TXIDS);
  }

  /**
   * The builders of the four stores: persistent and changelogged; behind Kafka Streams' record
   * cache only when {@code cached}. Uncached is the Processor API's default, and measured cheaper
   * for this fold: the cache's sorted maps cost more per read and write than its dedupe of
   * repeated keys within a commit interval saves in changelog records.
   */
  public static Set<StoreBuilder<?>> builders(boolean cached) {
    return Set.of(
        cache(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(ATOMS), Serdes.Bytes(), new AvroSerde<>(AtomState.class)), cached),
        cache(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(EDGES), Serdes.Bytes(), Serdes.ByteArray()), cached),
        cache(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(HEADS), Serdes.String(), Serdes.Long()), cached),
        cache(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(TXIDS), Serdes.String(), Serdes.Long()), cached));
  }

  private static <S extends StateStore> StoreBuilder<S> cache(StoreBuilder<S> builder, boolean cached) {
    return cached ? builder.withCachingEnabled() : builder.withCachingDisabled();
  }

  /** Points every later call at {@code graph} (which holds no NUL). */
  public void use(String graph) {
    if (graph.equals(this.graph)) return;
    this.graph = graph;
    this.graphPrefix = (graph + '\0').getBytes(StandardCharsets.UTF_8);
  }

  /** The graph's latest slice; 0 when it has none. */
  public long head() {
    Long head = heads.get(graph);
    return head == null ? 0 : head;
  }

  /** True when this txId was applied to the graph before. */
  public boolean seen(String txId) {
    return txIds.get(txKey(txId)) != null;
  }

  /** The atom with this (valid) uid, live or terminated; null when it was never created. */
  public AtomState atom(String uid) {
    return atoms.get(atomKey(uid));
  }

  /** The live relations out of (or into) an atom, of one type or (type null) of all, by type then uid. */
  public List<Edge> edges(String uid, Direction direction, String type) {
    byte[] typeBytes = type == null ? null : type.getBytes(StandardCharsets.UTF_8);
    int length = graphPrefix.length + Uids.BYTES + 1 + (typeBytes == null ? 0 : typeBytes.length + 1);
    byte[] prefix = new byte[length];
    int at = endPrefix(prefix, uid, direction);
    if (typeBytes != null) System.arraycopy(typeBytes, 0, prefix, at, typeBytes.length);
    List<Edge> found = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> scan = edges.prefixScan(Bytes.wrap(prefix), PREFIX)) {
      while (scan.hasNext()) {
        KeyValue<Bytes, byte[]> entry = scan.next();
        byte[] key = entry.key.get();
        int typeStart = graphPrefix.length + Uids.BYTES + 1;
        int typeEnd = key.length - Uids.BYTES - 1;
        String edgeType = type != null ? type : new String(key, typeStart, typeEnd - typeStart, StandardCharsets.UTF_8);
        found.add(new Edge(Uids.toHex(key, typeEnd + 1), edgeType, Uids.toHex(entry.value, 0)));
      }
    }
    return found;
  }

  public void putAtom(String uid, AtomState atom) {
    atoms.put(atomKey(uid), atom);
  }

  /** Records a live relation at one of its ends. */
  public void putEdge(String end, Direction direction, String type, String relation, String other) {
    byte[] value = new byte[Uids.BYTES];
    Uids.write(other, value, 0);
    edges.put(edgeKey(end, direction, type, relation), value);
  }

  /** Forgets a relation at one of its ends (it was terminated). */
  public void deleteEdge(String end, Direction direction, String type, String relation) {
    edges.delete(edgeKey(end, direction, type, relation));
  }

  public void putHead(long slice) {
    heads.put(graph, slice);
  }

  public void putTx(String txId, long slice) {
    txIds.put(txKey(txId), slice);
  }

  private String txKey(String txId) {
    return graph + '\0' + txId;
  }

  private Bytes atomKey(String uid) {
    byte[] key = new byte[graphPrefix.length + Uids.BYTES];
    System.arraycopy(graphPrefix, 0, key, 0, graphPrefix.length);
    Uids.write(uid, key, graphPrefix.length);
    return Bytes.wrap(key);
  }

  private Bytes edgeKey(String end, Direction direction, String type, String relation) {
    byte[] typeBytes = type.getBytes(StandardCharsets.UTF_8);
    byte[] key = new byte[graphPrefix.length + Uids.BYTES + 1 + typeBytes.length + 1 + Uids.BYTES];
    int at = endPrefix(key, end, direction);
    System.arraycopy(typeBytes, 0, key, at, typeBytes.length);
    Uids.write(relation, key, at + typeBytes.length + 1);
    return Bytes.wrap(key);
  }

  /** Writes graph, 0x00, end uid and direction at the start of {@code key}; returns where the type goes. */
  private int endPrefix(byte[] key, String end, Direction direction) {
    System.arraycopy(graphPrefix, 0, key, 0, graphPrefix.length);
    Uids.write(end, key, graphPrefix.length);
    key[graphPrefix.length + Uids.BYTES] = direction.tag;
    return graphPrefix.length + Uids.BYTES + 1;
  }
}
