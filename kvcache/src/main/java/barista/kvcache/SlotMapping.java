package barista.kvcache;

/**
 * Where each token's K/V goes: the KV cache is one flat row per slot, {@code numBlocks * blockSize} rows, and
 * position {@code p} of a request maps to slot {@code table[p / blockSize] * blockSize + p % blockSize}.
 * Slots are longs because they become int64 index tensors.
 */
public final class SlotMapping {
  private SlotMapping() {
  }

  public static long slot(BlockTable table, int blockSize, int position) {
    int index = position / blockSize;
    if (position < 0 || index >= table.size()) {
      throw new IllegalArgumentException(
          "position " + position + " is outside the block table (" + table.size() + " blocks of " + blockSize + ")");
    }
    return (long) table.get(index) * blockSize + position % blockSize;
  }

  /** Writes the slots of positions {@code [from, to)} into {@code out} starting at {@code offset}. */
  public static void fill(BlockTable table, int blockSize, int from, int to, long[] out, int offset) {
    for (int position = from; position < to; position++) {
      out[offset + position - from] = slot(table, blockSize, position);
    }
  }
}
