package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;

/**
 * How one step's attention reads the paged cache, built once per step and reused by every layer.
 *
 * <p>Sequences with a single new token (decodes) are attended together: their contexts are gathered by slot into
 * one padded {@code [S, maxLen]} batch with a padding mask. Sequences with several new tokens (prefill chunks) are
 * attended one by one with a causal mask, so one long prompt never pads a batch of short decodes. Attention is
 * matmul + softmax, grouped-query heads sharing their KV head.
 */
final class AttentionPlan {
  private static final float MASKED = -1e30f;

  /** rows: the flattened rows of these queries, null when they are all rows in order. */
  private record Single(NDArray rows, NDArray slots, NDArray mask, int count, int width) {}

  private record Multi(int rowStart, int len, NDArray slots, NDArray mask, int contextLen) {}

  private final Single single;
  private final List<Multi> multis;
  private final NDArray restore; // concat order -> flattened row order; null when they agree
  private final int numHeads;
  private final int numKvHeads;
  private final int headDim;
  private final float scale;

  private AttentionPlan(Single single, List<Multi> multis, NDArray restore, ModelGeometry g) {
    this.single = single;
    this.multis = multis;
    this.restore = restore;
    this.numHeads = g.numHeads();
    this.numKvHeads = g.numKvHeads();
    this.headDim = g.headDim();
    this.scale = (float) (1.0 / Math.sqrt(g.headDim()));
  }

  static AttentionPlan build(ForwardBatch b, PagedKvCache cache, NDManager m, ModelGeometry g, DataType dtype) {
    int numSeqs = b.numSequences();
    List<Integer> singles = new ArrayList<>();
    List<Multi> multis = new ArrayList<>();
    long[] order = new long[b.numTokens()];
    int o = 0;
    for (int s = 0; s < numSeqs; s++) {
      if (b.queryLen()[s] == 1) singles.add(s);
    }
    Single single = null;
    if (!singles.isEmpty()) {
      int n = singles.size();
      long[] rows = new long[n];
      int[][] tables = new int[n][];
      float[] lens = new float[n];
      int width = 0;
      for (int i = 0; i < n; i++) {
        int s = singles.get(i);
        rows[i] = b.queryStart()[s];
        order[o++] = rows[i];
        tables[i] = b.blockTables()[s];
        lens[i] = b.contextLen()[s];
        width = Math.max(width, b.contextLen()[s]);
      }
      NDArray keyPos = m.arange(0f, width, 1f, DataType.FLOAT32).reshape(1, width);
      NDArray mask = keyPos.gte(m.create(lens).reshape(n, 1)).toType(DataType.FLOAT32, false).mul(MASKED)
          .toType(dtype, false);
      boolean allRows = n == b.numTokens(); // a pure decode step: the query rows are all rows, in order
      single = new Single(allRows ? null : m.create(rows), cache.contextSlots(m, tables, width),
          mask.reshape(n, 1, 1, width), n, width);
    }
    for (int s = 0; s < numSeqs; s++) {
      int q = b.queryLen()[s];
      if (q == 1) continue;
      int len = b.contextLen()[s];
      for (int r = 0; r < q; r++) order[o++] = b.queryStart()[s] + r;
      NDArray keyPos = m.arange(0f, len, 1f, DataType.FLOAT32).reshape(1, len);
      NDArray queryPos = m.arange((float) (len - q), len, 1f, DataType.FLOAT32).reshape(q, 1);
      NDArray mask = keyPos.gt(queryPos).toType(DataType.FLOAT32, false).mul(MASKED).toType(dtype, false)
          .reshape(q, 1, len);
      NDArray slots = cache.contextSlots(m, new int[][] {b.blockTables()[s]}, len).reshape(len);
      multis.add(new Multi(b.queryStart()[s], q, slots, mask, len));
    }
    return new AttentionPlan(single, multis, restoreOrder(order, m), g);
  }

  private static NDArray restoreOrder(long[] order, NDManager m) {
    long[] inverse = new long[order.length];
    boolean identity = true;
    for (int i = 0; i < order.length; i++) {
      inverse[(int) order[i]] = i;
      identity &= order[i] == i;
    }
    return identity ? null : m.create(inverse);
  }

  /** {@code q} is {@code [T, heads, headDim]} (RoPE applied); returns {@code [T, heads * headDim]}. */
  NDArray attend(int layer, NDArray q, PagedKvCache cache) {
    int groups = numHeads / numKvHeads;
    NDManager m = q.getManager();
    NDList outs = new NDList();
    if (single != null) {
      int n = single.count;
      NDArray rows = single.rows == null ? q : q.get(new NDIndex("{}", single.rows));
      NDArray qs = rows.reshape(n, numKvHeads, groups, headDim).mul(scale);
      NDArray k = cache.keys(layer, single.slots, m).transpose(0, 2, 3, 1); // [n, kvH, D, W]
      NDArray v = cache.values(layer, single.slots, m).transpose(0, 2, 1, 3); // [n, kvH, W, D]
      NDArray probs = softmax(qs.matMul(k), single.mask); // [n, kvH, g, W]
      outs.add(probs.matMul(v).reshape(n, numHeads * headDim));
    }
    for (Multi p : multis) {
      int len = p.len;
      NDArray qs = q.get(p.rowStart + ":" + (p.rowStart + len))
          .reshape(len, numKvHeads, groups, headDim).transpose(1, 0, 2, 3)
          .reshape(numKvHeads, (long) len * groups, headDim).mul(scale);
      NDArray k = cache.keys(layer, p.slots, m).transpose(1, 2, 0); // [kvH, D, L]
      NDArray v = cache.values(layer, p.slots, m).transpose(1, 0, 2); // [kvH, L, D]
      NDArray scores = qs.matMul(k).reshape(numKvHeads, len, groups, p.contextLen);
      NDArray probs = softmax(scores, p.mask).reshape(numKvHeads, (long) len * groups, p.contextLen);
      outs.add(probs.matMul(v).reshape(numKvHeads, len, groups, headDim).transpose(1, 0, 2, 3)
          .reshape(len, numHeads * headDim));
    }
    NDArray out = outs.size() == 1 ? outs.singletonOrThrow() : NDArrays.concat(outs, 0);
    return restore == null ? out : out.get(new NDIndex("{}", restore));
  }

  /** Masked softmax in the compute dtype: PyTorch's half softmax accumulates in float32 internally. */
  private static NDArray softmax(NDArray scores, NDArray mask) {
    return scores.add(mask).softmax(3);
  }
}
