package graphfold.peer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateRestoreListener;

/** Reports the restore of every store partition from its changelog as {@code restore.*} events. */
final class RestoreEvents implements StateRestoreListener {
  private final Events events;
  private final Map<String, Long> startedAt = new ConcurrentHashMap<>();

  RestoreEvents(Events events) {
    this.events = events;
  }

  @Override
  public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
    startedAt.put(store + '/' + partition, System.nanoTime());
    events.emit("restore.start", "store", store, "topic", partition.topic(), "partition", partition.partition(), "start", start, "end", end);
  }

  @Override
  public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long records) {
    events.emit("restore.batch", "store", store, "topic", partition.topic(), "partition", partition.partition(), "batchEnd", batchEnd, "records", records);
  }

  @Override
  public void onRestoreEnd(TopicPartition partition, String store, long restored) {
    events.emit("restore.end", "store", store, "topic", partition.topic(), "partition", partition.partition(), "records", restored, "durationMs", elapsedMs(store, partition));
  }

  @Override
  public void onRestoreSuspended(TopicPartition partition, String store, long restored) {
    events.emit("restore.suspended", "store", store, "topic", partition.topic(), "partition", partition.partition(), "records", restored, "durationMs", elapsedMs(store, partition));
  }

  private Double elapsedMs(String store, TopicPartition partition) {
    Long start = startedAt.remove(store + '/' + partition);
    return start == null ? null : (System.nanoTime() - start) / 1e6;
  }
}
