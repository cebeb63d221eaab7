package barista.engine.cuda;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import barista.engine.model.AttentionBackend;
import barista.engine.model.Qwen2Model;
import barista.engine.model.StepInputs;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Steps recorded as CUDA graphs, one per token-count bucket, after nano-vllm's {@code capture_cudagraph}: largest
 * bucket first, all sharing one memory pool; each graph reads the persistent {@link InputBatch} rows
 * {@code [0, bucket)} and leaves the final hidden states in its own output array. A step of {@code t} tokens, decodes
 * and prompt chunks alike (the attention kernel takes each row's sequence and context length from the device, as
 * vLLM V1's full graphs do), replays the smallest bucket {@code >= t}, its extra rows padding. The LM head and
 * sampling run after it, eagerly, on the rows that sample only, so each graph keeps {@code [bucket, hidden]} and
 * not {@code [bucket, vocab]}.
 */
public final class CudaGraphs implements AutoCloseable {
  private final int[] buckets; // ascending
  private final long[] graphs;
  private final NDArray[] hidden;
  private final long pool;
  private final long captureMillis;
  private final long poolBytes;

  private CudaGraphs(int[] buckets, long[] graphs, NDArray[] hidden, long pool, long captureMillis, long poolBytes) {
    this.buckets = buckets;
    this.graphs = graphs;
    this.hidden = hidden;
    this.pool = pool;
    this.captureMillis = captureMillis;
    this.poolBytes = poolBytes;
  }

  /**
   * vLLM's default capture sizes: 1, 2, 4, multiples of 8 below 256, then multiples of 16 up to {@code max};
   * {@code requested} (the {@code --cuda-graph-sizes} values) overrides: one value is the largest size of that
   * pattern, several are the sizes themselves. Sizes above {@code max} are dropped.
   */
  public static int[] bucketSizes(List<Integer> requested, int max) {
    TreeSet<Integer> sizes = new TreeSet<>();
    if (requested.size() > 1) {
      for (int s : requested) if (s >= 1 && s <= max) sizes.add(s);
    } else {
      int top = requested.isEmpty() ? max : Math.min(max, requested.get(0));
      for (int s : new int[] {1, 2, 4}) if (s <= top) sizes.add(s);
      for (int s = 8; s <= top; s += s < 256 ? 8 : 16) sizes.add(s);
      if (top >= 1) sizes.add(top);
    }
    return sizes.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Warms up and captures every bucket, largest first. The KV cache is never read or written (padding rows). */
  static CudaGraphs capture(Qwen2Model model, AttentionBackend attention, InputBatch inputs, int[] sizes,
      NDManager manager, long stream, int deviceId) {
    long t0 = System.nanoTime();
    long before = CudaNative.memoryStats(deviceId)[1];
    long pool = CudaNative.newGraphPool();
    long[] graphs = new long[sizes.length];
    NDArray[] hidden = new NDArray[sizes.length];
    List<Long> made = new ArrayList<>();
    try {
      for (int i = sizes.length - 1; i >= 0; i--) {
        int rows = sizes[i];
        inputs.uploadPadding(rows);
        try (NDManager scope = manager.newSubManager()) {
          StepInputs in = inputs.graphViews(rows, scope);
          model.hidden(in, attention, scope); // warm-up: lazy inits (cuBLAS workspaces) happen outside the capture
          CudaNative.synchronize(stream);
          long g = CudaNative.captureBegin(pool);
          made.add(g);
          NDArray out;
          try {
            out = model.hidden(in, attention, scope);
          } catch (RuntimeException e) {
            try {
              CudaNative.captureEnd(g);
            } catch (RuntimeException s) {
              e.addSuppressed(s);
            }
            throw e;
          }
          CudaNative.captureEnd(g);
          out.attach(manager); // kept: the graph writes its output here on every replay
          graphs[i] = g;
          hidden[i] = out;
        } // the intermediates go back to the pool, which the next (smaller) graph reuses
      }
      CudaNative.synchronize(stream);
    } catch (RuntimeException e) {
      for (long g : made) CudaNative.freeGraph(g);
      for (NDArray h : hidden) if (h != null) h.close();
      CudaNative.freeGraphPool(pool);
      throw e;
    }
    long after = CudaNative.memoryStats(deviceId)[1];
    return new CudaGraphs(sizes, graphs, hidden, pool, (System.nanoTime() - t0) / 1_000_000,
        Math.max(0, after - before));
  }

  /**
   * The largest step vLLM V1 captures by default: twice the batch size, at most 512 tokens (larger steps, prompt
   * chunks mostly, are bound by the GPU and run eagerly), and never more than a step may hold.
   */
  public static int defaultMaxTokens(int maxNumSeqs, int maxNumBatchedTokens) {
    return Math.max(1, Math.min(maxNumBatchedTokens, Math.min(2 * maxNumSeqs, 512)));
  }

  int largest() {
    return buckets[buckets.length - 1];
  }

  /** The smallest bucket holding {@code n} tokens. */
  int bucketFor(int n) {
    for (int b : buckets) if (b >= n) return b;
    throw new IllegalArgumentException(n + " rows exceed the largest graph (" + largest() + ")");
  }

  /** Replays the bucket's graph over the rows already uploaded; its hidden states {@code [bucket, hidden]}. */
  NDArray replay(int bucket) {
    for (int i = 0; i < buckets.length; i++) {
      if (buckets[i] == bucket) {
        CudaNative.replay(graphs[i]);
        return hidden[i];
      }
    }
    throw new IllegalArgumentException("no graph for " + bucket);
  }

  int count() {
    return buckets.length;
  }

  long captureMillis() {
    return captureMillis;
  }

  long poolBytes() {
    return poolBytes;
  }

  @Override
  public void close() {
    for (long g : graphs) CudaNative.freeGraph(g);
    for (NDArray h : hidden) h.close();
    CudaNative.freeGraphPool(pool);
  }
}
