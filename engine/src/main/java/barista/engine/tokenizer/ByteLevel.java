package barista.engine.tokenizer;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * GPT-2's byte-to-unicode table, used by byte-level BPE vocabularies: every byte is written as one printable
 * character, so token strings in tokenizer.json are plain text. Printable Latin-1 bytes map to themselves; the
 * other 68 bytes map to U+0100 upwards in byte order (space becomes 'Ġ', newline 'Ċ').
 */
public final class ByteLevel {

  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[324];

  static {
    Arrays.fill(CHAR_TO_BYTE, -1);
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char c = (char) (printable ? b : next++);
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
  }

  private ByteLevel() {}

  /** The token string of these bytes: one table character per byte. */
  public static String encode(byte[] bytes) {
    StringBuilder out = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      out.append(BYTE_TO_CHAR[b & 0xFF]);
    }
    return out.toString();
  }

  /** The bytes a byte-level token string stands for, or null if a character is outside the table. */
  static byte[] decode(String token) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[c] < 0) {
        return null;
      }
      out.write(CHAR_TO_BYTE[c]);
    }
    return out.toByteArray();
  }
}
