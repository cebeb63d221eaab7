package barista.engine.constraint;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a range of code points into the UTF-8 byte-range sequences that encode exactly it, the construction of
 * Russ Cox's RE2 and Rust's utf8-ranges (our own writing of it). Surrogates (U+D800..U+DFFF) are left out.
 */
final class Utf8Ranges {
  private static final int[] MAX_OF_LENGTH = {0x7f, 0x7ff, 0xffff, 0x10ffff};

  private Utf8Ranges() {}

  /** Each sequence is (lo1, hi1, lo2, hi2, ...): byte i lies in [lo_i, hi_i]. */
  static List<int[]> split(int lo, int hi) {
    List<int[]> out = new ArrayList<>();
    add(lo, hi, out);
    return out;
  }

  private static void add(int lo, int hi, List<int[]> out) {
    if (lo > hi) return;
    if (lo <= 0xdfff && hi >= 0xd800) { // surrogates cannot be encoded
      add(lo, 0xd7ff, out);
      add(0xe000, hi, out);
      return;
    }
    for (int max : MAX_OF_LENGTH) { // one encoded length per piece
      if (lo <= max && hi > max) {
        add(lo, max, out);
        add(max + 1, hi, out);
        return;
      }
    }
    if (hi <= 0x7f) {
      out.add(new int[] {lo, hi});
      return;
    }
    int n = length(lo);
    for (int i = 1; i < n; i++) {
      int m = (1 << (6 * i)) - 1; // the low i continuation bytes
      if ((lo & ~m) != (hi & ~m)) {
        if ((lo & m) != 0) {
          add(lo, lo | m, out);
          add((lo | m) + 1, hi, out);
          return;
        }
        if ((hi & m) != m) {
          add(lo, (hi & ~m) - 1, out);
          add(hi & ~m, hi, out);
          return;
        }
      }
    }
    byte[] a = encode(lo), b = encode(hi);
    int[] seq = new int[2 * n];
    for (int i = 0; i < n; i++) {
      seq[2 * i] = a[i] & 0xff;
      seq[2 * i + 1] = b[i] & 0xff;
    }
    out.add(seq);
  }

  private static int length(int cp) {
    return cp <= 0x7f ? 1 : cp <= 0x7ff ? 2 : cp <= 0xffff ? 3 : 4;
  }

  private static byte[] encode(int cp) {
    return new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }
}
