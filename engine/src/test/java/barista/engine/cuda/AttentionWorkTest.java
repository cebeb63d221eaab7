package barista.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.model.ForwardBatch;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The tensor-core attention's work list, checked without a GPU: what the kernel reads is complete and bounded. */
class AttentionWorkTest {

  private static ForwardBatch batch(int[] queryLens, int[] contexts) {
    int n = queryLens.length, rows = Arrays.stream(queryLens).sum();
    int[] starts = new int[n], positions = new int[rows];
    for (int s = 0, r = 0; s < n; s++) {
      starts[s] = r;
      for (int i = 0; i < queryLens[s]; i++) positions[r++] = contexts[s] - queryLens[s] + i;
    }
    boolean[] sample = new boolean[n];
    Arrays.fill(sample, true);
    return new ForwardBatch(new int[rows], positions, new long[rows], starts, queryLens, contexts, new int[n][], sample);
  }

  /** One decode over a long context splits into as many chunks as it may, and its launch bound is that, not target. */
  @Test
  void aLoneDecodeLaunchesOnlyTheBlocksItCanUse() {
    AttentionWork work = new AttentionWork(12, 2, 4 * 132, 256);
    assertEquals(2 * AttentionWork.MAX_CHUNKS, work.capacity(1));
    int[] out = new int[AttentionWork.HEADER + work.capacity(1) * AttentionWork.ITEM_INTS];
    work.build(batch(new int[] {1}, new int[] {16_384}), out);
    assertEquals(2 * AttentionWork.MAX_CHUNKS, out[0], "16,384 keys of each KV head in 32 chunks");
    // A graph of B rows runs steps of fewer: the bound must not shrink as rows grow.
    for (int rows = 1; rows < 600; rows++) assertTrue(work.capacity(rows) <= work.capacity(rows + 1), "rows " + rows);
    int tiles = (600 * 6 + AttentionWork.TILE_ROWS - 1) / AttentionWork.TILE_ROWS;
    assertEquals(4 * 132 + 2 * (tiles + 256), work.capacity(600));
  }

  /**
   * A prompt's tiles split only into long chunks (their partials are 128 rows each): a 2,048-token prompt on an
   * H100's 132 SMs runs as its tiles, unsplit, while a 512-token chunk ending a 16,384-token context splits into
   * chunks of 2,048 keys.
   */
  @Test
  void promptTilesSplitOnlyIntoLongChunks() {
    AttentionWork work = new AttentionWork(12, 2, 4 * 132, 256);
    int[] out = new int[AttentionWork.HEADER + work.capacity(2048) * AttentionWork.ITEM_INTS];
    work.build(batch(new int[] {2048}, new int[] {2048}), out);
    assertEquals(2 * 2048 * 6 / AttentionWork.TILE_ROWS, out[0], "one item per tile and KV head");
    work.build(batch(new int[] {512}, new int[] {16_384}), out);
    int tiles = 2 * 512 * 6 / AttentionWork.TILE_ROWS;
    assertTrue(out[0] > tiles, "split: " + out[0]);
    for (int i = 0; i < out[0]; i++) {
      int at = AttentionWork.HEADER + i * AttentionWork.ITEM_INTS;
      int keys = out[at + 5] - out[at + 4], count = out[at + 10];
      assertTrue(count == 0 || keys >= AttentionWork.ROWS_MIN_CHUNK_KEYS || out[at + 5] == lastKey(out, at),
          "item " + i + ": " + keys + " keys of a split of " + count);
    }
  }

  /** The tile's last key: its chunk's kv_end when it is the tile's last chunk. */
  private static int lastKey(int[] out, int at) {
    int q = out[at + 7], ctx = out[at + 8], group = 6;
    return ctx - q + (out[at + 3] - 1) / group + 1;
  }

  /**
   * Random steps of decodes, prompts and chunks after cached prefixes, GQA 6 and 1, GPUs of few and many SMs:
   * every packed row of every sequence and KV head is in exactly one tile, whose chunks cover keys 0 .. the tile's
   * last position exactly once; a split's chunks own consecutive distinct scratch slots and know their count; the
   * items fit the launch bound of any step of that many rows, and the scratch its bound.
   */
  @Test
  void everyRowSeesItsWholeCausalContextExactlyOnce() {
    Random random = new Random(5);
    for (int trial = 0; trial < 300; trial++) {
      boolean gqa = random.nextBoolean();
      int heads = gqa ? 12 : 4, kvHeads = gqa ? 2 : 4, group = heads / kvHeads;
      int target = 4 * (random.nextBoolean() ? 40 : 132);
      int n = 1 + random.nextInt(random.nextBoolean() ? 4 : 64);
      int[] q = new int[n], ctx = new int[n];
      for (int s = 0; s < n; s++) {
        q[s] = random.nextInt(4) == 0 ? 1 + random.nextInt(300) : 1;
        ctx[s] = q[s] + (random.nextBoolean() ? random.nextInt(20_000) : random.nextInt(40));
      }
      int rows = Arrays.stream(q).sum();
      AttentionWork work = new AttentionWork(heads, kvHeads, target, 64);
      int[] out = new int[AttentionWork.HEADER + work.capacity(rows + 7) * AttentionWork.ITEM_INTS];
      work.build(batch(q, ctx), out);
      int items = out[0];
      assertTrue(items <= work.capacity(rows), items + " items > capacity " + work.capacity(rows));
      assertTrue(work.scratchSlots() <= work.maxScratchSlots(), "scratch slots " + work.scratchSlots());
      // per (seq, kvh, row): the keys covered
      BitSet[][] rowsSeen = new BitSet[n][kvHeads];
      BitSet slotsUsed = new BitSet();
      int[][][] keysCovered = new int[n][kvHeads][];
      for (int s = 0; s < n; s++) {
        for (int h = 0; h < kvHeads; h++) {
          rowsSeen[s][h] = new BitSet();
          keysCovered[s][h] = new int[q[s] * group];
        }
      }
      for (int i = 0; i < items; i++) {
        int at = AttentionWork.HEADER + i * AttentionWork.ITEM_INTS;
        int s = out[at], h = out[at + 1], r0 = out[at + 2], r1 = out[at + 3], kv0 = out[at + 4], kv1 = out[at + 5];
        assertEquals(q[s], out[at + 7]);
        assertEquals(ctx[s], out[at + 8]);
        int partial = out[at + 9], count = out[at + 10], first = out[at + 11];
        assertTrue(r1 - r0 >= 1 && r1 - r0 <= AttentionWork.TILE_ROWS && r1 <= q[s] * group);
        int lastKey = ctx[s] - q[s] + (r1 - 1) / group; // the tile's last row sees keys 0..lastKey
        assertTrue(kv0 >= 0 && kv1 <= lastKey + 1 && kv0 < kv1 || kv0 == 0 && kv1 == lastKey + 1);
        if (partial < 0) {
          assertEquals(0, count);
          assertEquals(0, kv0);
          assertEquals(lastKey + 1, kv1);
        } else {
          assertTrue(count >= 2 && count <= AttentionWork.MAX_CHUNKS && partial >= first && partial < first + count);
          assertTrue(!slotsUsed.get(partial), "slot " + partial + " used twice");
          slotsUsed.set(partial);
        }
        for (int r = r0; r < r1; r++) {
          if (kv0 == 0) {
            assertTrue(!rowsSeen[s][h].get(r), "row " + r + " in two tiles");
            rowsSeen[s][h].set(r);
          }
          keysCovered[s][h][r] += kv1 - kv0;
        }
      }
      for (int s = 0; s < n; s++) {
        for (int h = 0; h < kvHeads; h++) {
          assertEquals(q[s] * group, rowsSeen[s][h].cardinality(), "rows of sequence " + s);
          for (int r = 0; r < q[s] * group; r++) {
            int tileLast = Math.min((r / AttentionWork.TILE_ROWS + 1) * AttentionWork.TILE_ROWS, q[s] * group) - 1;
            assertEquals(ctx[s] - q[s] + tileLast / group + 1, keysCovered[s][h][r], "keys of row " + r);
          }
        }
      }
      int[] again = new int[out.length];
      work.build(batch(q, ctx), again);
      assertArrayEquals(out, again, "the same batch, the same blocks (graphs equal eager)");
    }
  }

  /** A lone decode over a long context is split into enough blocks to fill the GPU; a wide batch is not split. */
  @Test
  void longContextsAreSplitOnlyWhenTilesAreFew() {
    AttentionWork work = new AttentionWork(12, 2, 4 * 132, 256);
    int[] out = new int[AttentionWork.HEADER + work.capacity(256) * AttentionWork.ITEM_INTS];
    work.build(batch(new int[] {1}, new int[] {16384}), out);
    assertEquals(2 * AttentionWork.MAX_CHUNKS, out[0], "one decode at 16k: both KV heads in the most chunks");
    int[] q = new int[256], ctx = new int[256];
    Arrays.fill(q, 1);
    Arrays.fill(ctx, 4096);
    work.build(batch(q, ctx), out);
    assertEquals(512, out[0], "256 decodes: one block per sequence and KV head");
    assertEquals(0, work.scratchSlots());
  }
}
