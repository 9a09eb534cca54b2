package graphfold.peer;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;

/**
 * The peer's options, parsed and validated once from the command line ({@code --name value} or
 * {@code --name=value}), then turned into Kafka Streams properties.
 *
 * @param threads          num.stream.threads
 * @param commitIntervalMs commit.interval.ms: how often a task commits its transaction
 * @param cacheBytes       statestore.cache.max.bytes, shared by all stores of the instance; 0 builds
 *                         the stores without Kafka Streams' record cache
 * @param streamsOverrides further Kafka Streams properties (from {@code --properties <file>} and
 *                         {@code --property name=value}), applied last
 */
record PeerConfig(
    String bootstrapServers,
    String applicationId,
    String inputTopic,
    String outputTopic,
    Path stateDir,
    int diffSchemaId,
    int threads,
    long commitIntervalMs,
    long cacheBytes,
    int maxInstructions,
    int maxRecordBytes,
    Duration closeTimeout,
    Map<String, String> streamsOverrides) {

  static final String USAGE = """
      usage: java -jar graphfold-kafka-streams-peer.jar --bootstrap-servers <host:port,...> --application-id <id>
               --input-topic <topic> --output-topic <topic> --state-dir <dir> --diff-schema-id <id>
               [--threads 1] [--commit-interval-ms 100] [--cache-bytes 0]
               [--max-instructions 10000] [--max-record-bytes 1048576] [--close-timeout-ms 30000]
               [--properties <file>] [--property <name>=<value>]...""";

  /** @throws IllegalArgumentException naming the bad or missing option */
  static PeerConfig parse(String[] args) {
    Map<String, String> options = new LinkedHashMap<>();
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + arg + "'");
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg.substring(2) : arg.substring(2, eq);
      String value;
      if (eq >= 0) value = arg.substring(eq + 1);
      else if (i + 1 < args.length) value = args[++i];
      else throw new IllegalArgumentException("--" + name + " needs a value");
      switch (name) {
        case "properties" -> overrides.putAll(load(Path.of(value)));
        case "property" -> {
          int at = value.indexOf('=');
          if (at <= 0) throw new IllegalArgumentException("--property takes <name>=<value>, got '" + value + "'");
          overrides.put(value.substring(0, at), value.substring(at + 1));
        }
        default -> options.put(name, value);
      }
    }
    Options o = new Options(options);
    PeerConfig config = new PeerConfig(
        o.required("bootstrap-servers"),
        o.required("application-id"),
        o.required("input-topic"),
        o.required("output-topic"),
        Path.of(o.required("state-dir")),
        (int) o.number("diff-schema-id", null, 0, Integer.MAX_VALUE),
        (int) o.number("threads", 1L, 1, 64),
        o.number("commit-interval-ms", 100L, 1, Long.MAX_VALUE),
        o.number("cache-bytes", 0L, 0, Long.MAX_VALUE),
        (int) o.number("max-instructions", 10_000L, 1, Integer.MAX_VALUE),
        (int) o.number("max-record-bytes", 1L << 20, 1, Integer.MAX_VALUE),
        Duration.ofMillis(o.number("close-timeout-ms", 30_000L, 0, Long.MAX_VALUE)),
        Map.copyOf(overrides));
    o.rejectUnknown();
    return config;
  }

  Properties streamsProperties() {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
    p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheBytes);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.putAll(streamsOverrides);
    return p;
  }

  private static Map<String, String> load(Path file) {
    Properties properties = new Properties();
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(reader);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read --properties " + file + ": " + e.getMessage(), e);
    }
    Map<String, String> map = new LinkedHashMap<>();
    properties.stringPropertyNames().forEach(name -> map.put(name, properties.getProperty(name)));
    return map;
  }

  /** The named options, consumed as they are read, so that what is left over is unknown. */
  private record Options(Map<String, String> values) {
    String required(String name) {
      String value = values.remove(name);
      if (value == null || value.isBlank()) throw new IllegalArgumentException("--" + name + " is required");
      return value;
    }

    long number(String name, Long fallback, long min, long max) {
      String text = values.remove(name);
      if (text == null) {
        if (fallback == null) throw new IllegalArgumentException("--" + name + " is required");
        return fallback;
      }
      try {
        long value = Long.parseLong(text.trim());
        if (value < min || value > max) throw new IllegalArgumentException("--" + name + " must be between " + min + " and " + max + ", got " + value);
        return value;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--" + name + " must be a whole number, got '" + text + "'", e);
      }
    }

    void rejectUnknown() {
      if (!values.isEmpty()) throw new IllegalArgumentException("unknown option --" + values.keySet().iterator().next());
    }
  }
}
