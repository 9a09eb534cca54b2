package graphfold.peer;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.avro.util.ClassSecurityValidator;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;

/**
 * Runs the fold until SIGTERM (or SIGINT): then closes Kafka Streams within the close timeout,
 * which commits what was processed and leaves the consumer group, and exits. Exits 2 on bad options and 1 when a stream thread
 * dies of an error (reported as an {@code error} event).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    // Avro loads generated classes by schema name only when their package is trusted.
    ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.DEFAULT,
        type -> type.getPackageName().equals("graphfold") || type.getPackageName().equals("graphfold.peer.store")));
    Events events = new Events();
    PeerConfig config;
    try {
      config = PeerConfig.parse(args);
    } catch (IllegalArgumentException e) {
      events.emit("error", "message", e.getMessage());
      System.err.println(e.getMessage());
      System.err.println(PeerConfig.USAGE);
      System.exit(2);
      return;
    }

    KafkaStreams streams = new KafkaStreams(FoldTopology.build(config, events), config.streamsProperties());
    CountDownLatch finished = new CountDownLatch(1);
    streams.setStateListener((to, from) -> {
      events.emit("state", "from", from, "to", to);
      if (to == KafkaStreams.State.RUNNING) events.emit("running");
      if (to == KafkaStreams.State.ERROR || to == KafkaStreams.State.NOT_RUNNING) finished.countDown();
    });
    streams.setGlobalStateRestoreListener(new RestoreEvents(events));
    streams.setUncaughtExceptionHandler(error -> {
      events.emit("error", "message", String.valueOf(error));
      return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // Leave the group: a stopped peer is gone, and its successor should not wait out its session.
      boolean clean = streams.close(CloseOptions.groupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP).withTimeout(config.closeTimeout()));
      try {
        // close() can return before the state listener has reported NOT_RUNNING; stopped comes last.
        finished.await(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      events.emit("stopped", "clean", clean);
    }, "graphfold-peer-shutdown"));

    streams.start();
    events.emit("started", "applicationId", config.applicationId(), "input", config.inputTopic(), "output", config.outputTopic(),
        "threads", config.threads(), "commitIntervalMs", config.commitIntervalMs(), "cacheBytes", config.cacheBytes());
    finished.await();
    if (streams.state() == KafkaStreams.State.ERROR) System.exit(1);
  }
}
