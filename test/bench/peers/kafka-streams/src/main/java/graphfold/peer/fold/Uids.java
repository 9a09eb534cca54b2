package graphfold.peer.fold;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Uids: 32 lowercase hex characters (128 bits), kept in store keys as their 16 bytes, and derived
 * for atoms created without one exactly as graphfold derives them (processors/engine/uid.ts):
 * the first 128 bits of {@code sha256("graphfold/uid/v1\0" + graph + "\0" + txId + "\0" + local)}.
 */
public final class Uids {
  public static final int BYTES = 16;

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private final MessageDigest sha256;

  /** Not thread-safe: one per processor. */
  public Uids() {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  /** The uid of the atom named {@code local} ({@code ref:<name>}, {@code index:<i>}, {@code index:<i>/attribute}, ...). */
  public String derive(String graph, String txId, String local) {
    String text = "graphfold/uid/v1\0" + graph + '\0' + txId + '\0' + local;
    byte[] digest = sha256.digest(text.getBytes(StandardCharsets.UTF_8));
    return toHex(digest, 0);
  }

  public static boolean isUid(String candidate) {
    if (candidate.length() != 32) return false;
    for (int i = 0; i < 32; i++) {
      char c = candidate.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  }

  /** Writes the 16 bytes of a valid uid at {@code offset}. */
  public static void write(String uid, byte[] into, int offset) {
    for (int i = 0; i < BYTES; i++) {
      into[offset + i] = (byte) ((nibble(uid.charAt(2 * i)) << 4) | nibble(uid.charAt(2 * i + 1)));
    }
  }

  /** The uid whose 16 bytes start at {@code offset}. */
  public static String toHex(byte[] bytes, int offset) {
    char[] hex = new char[2 * BYTES];
    for (int i = 0; i < BYTES; i++) {
      int b = bytes[offset + i] & 0xff;
      hex[2 * i] = HEX[b >>> 4];
      hex[2 * i + 1] = HEX[b & 0xf];
    }
    return new String(hex);
  }

  private static int nibble(char c) {
    return c <= '9' ? c - '0' : c - 'a' + 10;
  }
}
