package barista.engine.sampling;

import java.nio.LongBuffer;

/**
 * The token ids a constrained row may sample this step, as bits by id ({@code word id / 64, bit id % 64}). A mask
 * the constraint could not find cached is still being computed on a mask worker while the step's forward pass runs:
 * writing it out waits for it, so the engine thread only waits for what the forward pass did not hide.
 */
public interface TokenMask {
  /**
   * Puts exactly {@code words} words at the buffer's position (advancing it); tokens past the mask's own width are
   * not allowed. Waits while the mask is being computed.
   */
  void writeWords(LongBuffer dst, int words);

  /** The mask as {@code words} words of bits (tests, and callers without a staging buffer). */
  default long[] toWords(int words) {
    LongBuffer b = LongBuffer.allocate(words);
    writeWords(b, words);
    return b.array();
  }

  /** A mask given as its words. */
  static TokenMask ofWords(long[] words) {
    long[] own = words.clone();
    return (dst, n) -> putWords(dst, own, n);
  }

  /** Puts {@code n} words: the mask's own, then none allowed past its width. */
  static void putWords(LongBuffer dst, long[] words, int n) {
    int copied = Math.min(n, words.length);
    dst.put(words, 0, copied);
    for (int w = copied; w < n; w++) dst.put(0L);
  }
}
