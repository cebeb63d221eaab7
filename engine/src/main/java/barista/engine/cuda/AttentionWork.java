package barista.engine.cuda;

import barista.engine.model.ForwardBatch;
import java.util.Arrays;

/**
 * The tensor-core attention kernel's work list for one step (native/src/attention/attention.h): the host knows
 * every query and context length, so it decides the blocks. Each sequence's new tokens become packed rows (token x
 * query head of a KV head, FlashInfer's GQA packing) cut into tiles of {@value #TILE_ROWS}; when the tiles alone
 * would leave the GPU idle (fewer than half of {@code target}: a few decodes over long contexts), each tile's keys
 * are split into chunks (flash-decoding), enough to give about {@code target} blocks, merged by the last chunk of
 * each split to finish.
 *
 * <p>A CUDA graph launches a fixed number of blocks, so {@link #capacity} bounds the items of any step of a given
 * row count; the split depends on the batch only, so a step computes the same whether replayed or eager.
 */
final class AttentionWork {
  static final int TILE_ROWS = 128;
  static final int TILE_KEYS = 64;
  static final int HEADER = 4;
  static final int ITEM_INTS = 12;
  /** A split tile's chunks are merged by one block; more than this many would make that block the slowest. */
  static final int MAX_CHUNKS = 32;
  /** Shorter chunks cost more in merging than they gain in parallelism. */
  static final int MIN_CHUNK_KEYS = 128;
  /**
   * A tile of more than {@value #DECODE_ROWS} rows (a prompt chunk's) splits only into chunks this long: each chunk
   * writes and its merge reads the partials of all its rows, which shorter chunks of such tiles do not repay.
   */
  static final int ROWS_MIN_CHUNK_KEYS = 2048;
  /** The rows a decode's tile has at most (its query heads): the kernel splits its keys among the warps. */
  static final int DECODE_ROWS = 16;

  private final int group;
  private final int kvHeads;
  private final int target;
  private final int maxSeqs;
  // per tile, reused between steps
  private int[] tileSeq = new int[64], tileRow = new int[64];
  private long[] order = new long[64]; // per tile: its keys above, its index (inverted) below: sorted unboxed
  private static final long INDEX_MASK = 0xFFFF_FFFFL;
  private int scratchSlots;

  /**
   * @param target the blocks worth launching (a few per SM); also bounds the chunks' scratch slots at
   *     {@link #maxScratchSlots}
   */
  AttentionWork(int heads, int kvHeads, int target, int maxSeqs) {
    this.group = heads / kvHeads;
    this.kvHeads = kvHeads;
    this.target = target;
    this.maxSeqs = maxSeqs;
  }

  /** The blocks a step is split up to. */
  int target() {
    return target;
  }

  /**
   * The most items a step of {@code rows} rows can produce: tiles (one partial tile per sequence, and never more
   * tiles than a token's packed rows allow per token) plus chunks, and no tile splits into more than
   * {@link #MAX_CHUNKS}. A graph launches this many blocks every replay, so the bound is kept tight for the small
   * decode steps: 64 for one decode of the r1 geometry instead of target + 2.
   */
  int capacity(int rows) {
    long perToken = (group + TILE_ROWS - 1) / TILE_ROWS;
    long tiles = (long) kvHeads * Math.min((long) rows * perToken,
        ((long) rows * group + TILE_ROWS - 1) / TILE_ROWS + Math.min(rows, maxSeqs));
    return (int) Math.min(tiles + target, tiles * MAX_CHUNKS);
  }

  /** Chunks are written only when there are fewer tiles than half {@code target}, and there are fewer than twice it. */
  int maxScratchSlots() {
    return 2 * target;
  }

  /** Scratch slots the last {@link #build} used. */
  int scratchSlots() {
    return scratchSlots;
  }

  /** Writes the step's items into {@code out} (count first); returns the number of ints written. */
  int build(ForwardBatch b, int[] out) {
    int n = b.numSequences();
    int tiles = 0;
    long sumKeys = 0;
    for (int s = 0; s < n; s++) {
      int q = b.queryLen()[s];
      int rows = q * group;
      for (int r0 = 0; r0 < rows; r0 += TILE_ROWS) {
        int r1 = Math.min(r0 + TILE_ROWS, rows);
        int keys = b.contextLen()[s] - q + (r1 - 1) / group + 1;
        ensure(tiles + 1);
        tileSeq[tiles] = s;
        tileRow[tiles] = r0;
        order[tiles] = (long) keys << 32 | (INDEX_MASK - tiles); // reversed below: ties keep tile order
        tiles++;
        sumKeys += (long) keys * kvHeads;
      }
    }
    // Longest first, so the last blocks to start are short ones; equal keys in tile order.
    Arrays.sort(order, 0, tiles);
    for (int i = 0, j = tiles - 1; i < j; i++, j--) {
      long o = order[i];
      order[i] = order[j];
      order[j] = o;
    }
    long chunk = Long.MAX_VALUE;
    if ((long) tiles * kvHeads < target / 2) { // fewer than about two blocks per SM: split
      chunk = roundUp(Math.max(MIN_CHUNK_KEYS, (sumKeys + target - 1) / target), TILE_KEYS);
    }
    int items = 0, slot = 0, at = HEADER;
    for (int i = 0; i < tiles; i++) {
      int tile = (int) (INDEX_MASK - (order[i] & INDEX_MASK)), keys = (int) (order[i] >>> 32);
      int s = tileSeq[tile], r0 = tileRow[tile];
      int q = b.queryLen()[s];
      int r1 = Math.min(r0 + TILE_ROWS, q * group);
      long tileChunk = r1 - r0 > DECODE_ROWS ? Math.max(chunk, ROWS_MIN_CHUNK_KEYS) : chunk;
      int chunks = (int) Math.min(MAX_CHUNKS, Math.max(1, (keys + tileChunk - 1) / tileChunk));
      int each = chunks == 1 ? keys : (int) roundUp((keys + chunks - 1) / chunks, TILE_KEYS);
      if (chunks > 1) chunks = (keys + each - 1) / each;
      for (int h = 0; h < kvHeads; h++) {
        for (int c = 0; c < chunks; c++) {
          int kv0 = chunks == 1 ? 0 : c * each;
          int kv1 = chunks == 1 ? keys : Math.min(keys, (c + 1) * each);
          out[at++] = s;
          out[at++] = h;
          out[at++] = r0;
          out[at++] = r1;
          out[at++] = kv0;
          out[at++] = kv1;
          out[at++] = b.queryStart()[s];
          out[at++] = q;
          out[at++] = b.contextLen()[s];
          out[at++] = chunks == 1 ? -1 : slot + c;
          out[at++] = chunks > 1 ? chunks : 0;
          out[at++] = slot;
          items++;
        }
        if (chunks > 1) slot += chunks;
      }
    }
    out[0] = items;
    out[1] = out[2] = out[3] = 0;
    scratchSlots = slot;
    return at;
  }

  private static long roundUp(long x, int to) {
    return (x + to - 1) / to * to;
  }

  private void ensure(int tiles) {
    if (tiles <= tileSeq.length) return;
    int size = Math.max(tiles, tileSeq.length * 2);
    tileSeq = Arrays.copyOf(tileSeq, size);
    tileRow = Arrays.copyOf(tileRow, size);
    order = Arrays.copyOf(order, size);
  }
}
