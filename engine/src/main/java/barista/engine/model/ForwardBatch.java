package barista.engine.model;

/**
 * One step's flattened batch, on the host: the new tokens of every scheduled sequence laid end to end (prefill
 * chunks and single decode tokens mixed), where each one's K/V goes, and where each sequence reads its context.
 *
 * <p>Sequence {@code s} owns rows {@code [queryStart[s], queryStart[s] + queryLen[s])} of the flattened tokens. Its
 * context after this step is {@code contextLen[s]} tokens (those already cached plus the new ones), stored in
 * the KV blocks {@code blockTables[s]} (token {@code p} lives in {@link #slot}; the new tokens' slots are
 * {@code slotMapping}). Logits are produced for the last row of every sequence with {@code sample[s]} set (a prefill
 * chunk that does not end the prompt samples nothing).
 */
public record ForwardBatch(
    int[] tokenIds,
    int[] positions,
    long[] slotMapping,
    int[] queryStart,
    int[] queryLen,
    int[] contextLen,
    int[][] blockTables,
    boolean[] sample) {

  /**
   * Where position {@code position} of a sequence keeps its K/V: the cache is one flat row per slot, block
   * {@code b} holding slots {@code [b * blockSize, (b + 1) * blockSize)} (vLLM's slot_mapping). Slots are longs
   * because they become int64 index tensors.
   */
  public static long slot(int[] blockTable, int blockSize, int position) {
    int index = position / blockSize;
    if (position < 0 || index >= blockTable.length) {
      throw new IllegalArgumentException("position " + position + " is outside the block table ("
          + blockTable.length + " blocks of " + blockSize + ")");
    }
    return (long) blockTable[index] * blockSize + position % blockSize;
  }

  public int numTokens() {
    return tokenIds.length;
  }

  public int numSequences() {
    return queryLen.length;
  }

  /** One new token per sequence, every one sampled: every row's logits are wanted, in row order. */
  public boolean isPureDecode() {
    if (numTokens() != numSequences()) return false;
    for (boolean b : sample) if (!b) return false;
    return true;
  }

  /** Flattened row index of each sampled sequence's last token, in sequence order. */
  public long[] logitRows() {
    int n = 0;
    for (boolean b : sample) if (b) n++;
    long[] rows = new long[n];
    for (int s = 0, i = 0; s < sample.length; s++) {
      if (sample[s]) rows[i++] = queryStart[s] + queryLen[s] - 1;
    }
    return rows;
  }
}
