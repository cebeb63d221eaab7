package barista.engine;

import barista.engine.sampling.SampleResult;
import barista.engine.sampling.SamplingParams;
import barista.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Runs prompts to completion as one batch, without a scheduler: for engine tests. */
public final class GreedyDriver {
  private GreedyDriver() {}

  /** Greedy continuation of every prompt, all in one batch each step (prefill together, then decode together). */
  public static int[][] generate(ModelRunner runner, int[][] prompts, int steps) {
    KvCacheManager kv = new KvCacheManager(runner.numBlocks(), runner.blockSize(), false);
    int n = prompts.length;
    int[][] tokens = new int[n][];
    int[] len = new int[n];
    int[] computed = new int[n];
    for (int i = 0; i < n; i++) {
      tokens[i] = Arrays.copyOf(prompts[i], prompts[i].length + steps);
      len[i] = prompts[i].length;
    }
    SamplingParams greedy = SamplingParams.greedy(steps);
    for (int step = 0; step < steps; step++) {
      List<ScheduledSequence> seqs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int numNew = len[i] - computed[i];
        if (!kv.allocateSlots(i, computed[i], numNew)) throw new IllegalStateException("KV cache too small");
        seqs.add(ScheduledSequences.plain(i, tokens[i], prompts[i].length, len[i] - prompts[i].length, computed[i],
            numNew, kv.blockTable(i).toArray(), true, greedy));
      }
      SampleResult r = runner.execute(seqs);
      for (int i = 0; i < n; i++) {
        computed[i] = len[i];
        tokens[i][len[i]++] = r.tokens()[i];
      }
    }
    int[][] out = new int[n][];
    for (int i = 0; i < n; i++) out[i] = Arrays.copyOfRange(tokens[i], prompts[i].length, len[i]);
    return out;
  }
}
