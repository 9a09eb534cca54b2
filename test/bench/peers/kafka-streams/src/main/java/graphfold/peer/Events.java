package graphfold.peer;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * The peer's machine-readable output: one JSON object per line on stdout, {@code {"event": name,
 * "time": epoch millis, ...fields}}. Logs go to stderr, so stdout holds nothing else. Safe to call from any thread.
 *
 * <p>Events: {@code started}, {@code state} (from, to), {@code running}, {@code restore.start}
 * (store, topic, partition, start, end), {@code restore.batch} (store, topic, partition, batchEnd,
 * records), {@code restore.end} (store, topic, partition, records: the total, durationMs),
 * {@code restore.suspended}, {@code refused} (graph, txId, code, message, topic, partition,
 * offset), {@code error} (message), {@code stopped} (clean).
 */
final class Events {
  private final PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);

  /** Prints {@code event} with {@code fields}, given as name, value, name, value, ... (null values are left out). */
  synchronized void emit(String event, Object... fields) {
    StringBuilder line = new StringBuilder(64).append("{\"event\":");
    quote(line, event);
    line.append(",\"time\":").append(System.currentTimeMillis());
    for (int i = 0; i + 1 < fields.length; i += 2) {
      Object value = fields[i + 1];
      if (value == null) continue;
      line.append(',');
      quote(line, String.valueOf(fields[i]));
      line.append(':');
      if (value instanceof Number || value instanceof Boolean) line.append(value);
      else quote(line, value.toString());
    }
    out.println(line.append('}'));
  }

  private static void quote(StringBuilder into, String s) {
    into.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> into.append("\\\"");
        case '\\' -> into.append("\\\\");
        case '\n' -> into.append("\\n");
        case '\r' -> into.append("\\r");
        case '\t' -> into.append("\\t");
        default -> {
          if (c < 0x20) into.append(String.format("\\u%04x", (int) c));
          else into.append(c);
        }
      }
    }
    into.append('"');
  }
}
