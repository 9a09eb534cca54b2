package graphfold.peer.fold;

import graphfold.BytesValue;
import graphfold.EnumValue;
import graphfold.QuantityValue;
import graphfold.TimeValue;
import graphfold.Value;
import java.time.Instant;
import java.util.HexFormat;

/** Attribute values as graphfold's engine sees them (processors/engine/value.ts). */
final class Values {
  private Values() {}

  /** The value type a value belongs to, e.g. {@code Int} or {@code Enum:Color}. */
  static String typeOf(Value value) {
    Object v = value.getValue();
    if (v instanceof String) return "String";
    if (v instanceof Long) return "Int";
    if (v instanceof Double) return "Float";
    if (v instanceof Boolean) return "Bool";
    if (v instanceof TimeValue) return "Time";
    if (v instanceof BytesValue) return "Bytes";
    if (v instanceof EnumValue e) return "Enum:" + e.getEnum$();
    if (v instanceof QuantityValue q) return "Quantity:" + q.getUnit();
    throw new IllegalArgumentException("not a Value branch: " + v);
  }

  /** Why a value is not well-formed, or null. (Int and Time are 64-bit by construction here.) */
  static String problem(Value value) {
    Object v = value.getValue();
    if (v instanceof EnumValue e) {
      if (!Names.isParameter(e.getEnum$())) return "enum name '" + e.getEnum$() + "' is not a valid name";
      return e.getSymbol().isEmpty() ? "Enum:" + e.getEnum$() + " value is an empty symbol" : null;
    }
    if (v instanceof QuantityValue q) {
      return Names.isParameter(q.getUnit()) ? null : "quantity unit '" + q.getUnit() + "' is not a valid unit";
    }
    return null;
  }

  /**
   * Value identity: equal when their encodings are equal. Avro's record comparison does that,
   * floats included (Double.compare: NaN equals NaN, 0.0 differs from -0.0).
   */
  static boolean same(Value a, Value b) {
    return a.equals(b);
  }

  /** A short human rendering for refusal messages. */
  static String show(Value value) {
    Object v = value.getValue();
    if (v instanceof String s) return '"' + s + '"';
    if (v instanceof BytesValue b) {
      byte[] bytes = new byte[b.getBytes().remaining()];
      b.getBytes().duplicate().get(bytes);
      return "0x" + HexFormat.of().formatHex(bytes);
    }
    if (v instanceof TimeValue t) return t.getMicros().toString();
    if (v instanceof EnumValue e) return e.getSymbol() + " (" + e.getEnum$() + ")";
    if (v instanceof QuantityValue q) return q.getAmount() + " " + q.getUnit();
    return String.valueOf(v);
  }

  /**
   * Microseconds since the epoch of a {@code timestamp-micros} field, which the Avro compiler
   * generates as an Instant. Exact: the schema's longs are whole microseconds.
   */
  static long micros(Instant instant) {
    return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000L);
  }

  /** The Instant of a {@code timestamp-micros} value. */
  static Instant instant(long micros) {
    return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
  }
}
