package graphfold.peer.fold;

/** The name rules of graphfold's engine (processors/engine/fold.ts and value.ts), without regexes. */
final class Names {
  private Names() {}

  /** Entity and relation types: {@code [A-Za-z_][A-Za-z0-9_.-]*}. */
  static boolean isName(String name) {
    return matches(name, false);
  }

  /** Enum names and quantity units: {@code [A-Za-z_][A-Za-z0-9_./-]*}. */
  static boolean isParameter(String parameter) {
    return matches(parameter, true);
  }

  /** {@code String}, {@code Int}, ..., {@code Enum:<Name>}, {@code Quantity:<unit>}. */
  static boolean isValueType(String valueType) {
    switch (valueType) {
      case "String", "Int", "Float", "Bool", "Time", "Bytes":
        return true;
      default:
        break;
    }
    int colon = valueType.indexOf(':');
    if (colon < 0) return false;
    String family = valueType.substring(0, colon);
    return (family.equals("Enum") || family.equals("Quantity")) && isParameter(valueType.substring(colon + 1));
  }

  private static boolean matches(String s, boolean slash) {
    if (s.isEmpty() || !isStart(s.charAt(0))) return false;
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(isStart(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || (slash && c == '/'))) return false;
    }
    return true;
  }

  private static boolean isStart(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
  }
}
