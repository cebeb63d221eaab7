package barista.scheduler;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Tokens per engine step (prompt and decode tokens together), in vLLM V1's buckets for
 * {@code vllm:iteration_tokens_total}: how full the steps are, the first question when the GPU idles. Written by the
 * engine thread, read by scrapes.
 */
public final class StepTokenHistogram {
  /** vLLM V1's upper bounds (an implicit +Inf bucket follows). */
  public static final int[] BOUNDS = {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};

  /** Steps per bucket (not cumulative; the last is +Inf), all steps, and their tokens. */
  public record Snapshot(long[] counts, long steps, long tokens) {
    public static final Snapshot EMPTY = new Snapshot(new long[BOUNDS.length + 1], 0, 0);

    /** The engines' histograms added up (data parallelism). */
    public static Snapshot sum(List<Snapshot> all) {
      long[] counts = new long[BOUNDS.length + 1];
      long steps = 0, tokens = 0;
      for (Snapshot s : all) {
        for (int i = 0; i < counts.length; i++) counts[i] += s.counts[i];
        steps += s.steps;
        tokens += s.tokens;
      }
      return new Snapshot(counts, steps, tokens);
    }
  }

  private final AtomicLongArray counts = new AtomicLongArray(BOUNDS.length + 1);
  private final AtomicLong tokens = new AtomicLong();

  void record(int stepTokens) {
    int i = 0;
    while (i < BOUNDS.length && stepTokens > BOUNDS[i]) i++;
    counts.incrementAndGet(i);
    tokens.addAndGet(stepTokens);
  }

  Snapshot snapshot() {
    long[] c = new long[BOUNDS.length + 1];
    long steps = 0;
    for (int i = 0; i < c.length; i++) steps += c[i] = counts.get(i);
    return new Snapshot(c, steps, tokens.get()); // a step recorded between reads shows up in the next scrape
  }
}
