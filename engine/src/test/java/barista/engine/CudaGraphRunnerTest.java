package barista.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import barista.engine.cuda.CudaNative;
import barista.engine.model.PagedKvCache;
import barista.engine.sampling.SamplingParams;
import barista.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * On a CUDA device with libbarista_native: decode steps replayed from CUDA graphs give the same greedy tokens as
 * --enforce-eager, and a step padded to its graph's bucket writes only its own sequences' slots.
 */
class CudaGraphRunnerTest {

  @BeforeAll
  static void needsGpuAndLibrary() {
    assumeTrue(Engine.getEngine("PyTorch").getGpuCount() > 0, "no CUDA device");
    var why = CudaNative.load(null);
    assumeTrue(why.isEmpty(), () -> "no native library: " + why.orElse(""));
  }

  private static ModelRunner runner(boolean eager) {
    return runner(eager, List.of(1, 2, 4, 8));
  }

  @Test
  void graphDecodeEqualsEagerAndPaddingRowsTouchNoBlock() {
    int seqs = 3, promptLen = 10, steps = 40; // 3 sequences replay the bucket of 4: one padding row
    try (ModelRunner graphs = runner(false); ModelRunner eager = runner(true)) {
      assertTrue(graphs.cudaGraphs(), "graphs were not captured");
      assertFalse(eager.cudaGraphs());
      int vocab = graphs.modelConfig().vocabSize();
      int[][] tokens = new int[seqs][promptLen + steps + 1];
      for (int s = 0; s < seqs; s++) {
        for (int i = 0; i < promptLen; i++) tokens[s][i] = (i * 31 + s * 17 + 3) % vocab;
      }
      KvCacheManager kvG = new KvCacheManager(graphs.numBlocks(), graphs.blockSize(), false);
      KvCacheManager kvE = new KvCacheManager(eager.numBlocks(), eager.blockSize(), false);
      int[] len = {promptLen, promptLen, promptLen};
      int[] computed = new int[seqs];
      for (int step = 0; step <= steps; step++) {
        List<ScheduledSequence> batch = new ArrayList<>();
        Set<Long> written = new HashSet<>();
        for (int s = 0; s < seqs; s++) {
          int n = len[s] - computed[s];
          kvG.allocateSlots(s, computed[s], n);
          kvE.allocateSlots(s, computed[s], n);
          int[] table = kvG.blockTable(s).toArray();
          assertArrayEquals(table, kvE.blockTable(s).toArray());
          for (int p = computed[s]; p < len[s]; p++) written.add((long) table[p / 16] * 16 + p % 16);
          batch.add(ScheduledSequences.plain(s, tokens[s], promptLen, len[s] - promptLen, computed[s], n, table, true,
              SamplingParams.greedy(1)));
        }
        float[][] before = step > 0 ? snapshot(graphs.cacheForTest()) : null;
        int[] g = graphs.execute(batch).tokens();
        int[] e = eager.execute(batch).tokens();
        assertArrayEquals(e, g, "step " + step + ": graph replay and eager disagree");
        if (before != null) assertOnlyWritten(before, snapshot(graphs.cacheForTest()), written, step);
        for (int s = 0; s < seqs; s++) {
          computed[s] = len[s];
          tokens[s][len[s]++] = g[s];
        }
      }
    }
  }

  /**
   * Sequences arriving one by one while others decode: each step mixes a prompt and single decode tokens, and such
   * steps replay a graph of their token count. They give the eager path's greedy tokens and write only their own
   * slots; a step with a prompt chunk that does not end its prompt samples nothing for it.
   */
  @Test
  void mixedPromptAndDecodeStepsReplayGraphsAndEqualEager() {
    int seqs = 4, promptLen = 11, chunk = 6, steps = 30;
    try (ModelRunner graphs = runner(false, List.of(1, 2, 4, 8, 16, 24, 32));
        ModelRunner eager = runner(true, List.of(1, 2, 4, 8, 16, 24, 32))) {
      int vocab = graphs.modelConfig().vocabSize();
      int[][] tokens = new int[seqs][promptLen + steps + 1];
      for (int s = 0; s < seqs; s++) {
        for (int i = 0; i < promptLen; i++) tokens[s][i] = (i * 13 + s * 29 + 5) % vocab;
      }
      KvCacheManager kvG = new KvCacheManager(graphs.numBlocks(), graphs.blockSize(), false);
      KvCacheManager kvE = new KvCacheManager(eager.numBlocks(), eager.blockSize(), false);
      int[] len = new int[seqs], computed = new int[seqs];
      java.util.Arrays.fill(len, promptLen);
      int mixed = 0, liveAfterFirstMixed = -1;
      for (int step = 0; step < steps; step++) {
        List<ScheduledSequence> batch = new ArrayList<>();
        Set<Long> written = new HashSet<>();
        boolean anyPrompt = false, anyDecode = false;
        for (int s = 0; s < seqs && s * 4 <= step; s++) { // sequence s arrives at step 4s
          if (len[s] >= tokens[s].length) continue;
          int n = Math.min(len[s] - computed[s], chunk); // prompts in chunks of 6: 11 = 6 + 5
          boolean prompt = computed[s] < promptLen;
          anyPrompt |= prompt;
          anyDecode |= !prompt;
          kvG.allocateSlots(s, computed[s], n);
          kvE.allocateSlots(s, computed[s], n);
          int[] table = kvG.blockTable(s).toArray();
          for (int p = computed[s]; p < computed[s] + n; p++) written.add((long) table[p / 16] * 16 + p % 16);
          boolean sample = computed[s] + n == len[s];
          batch.add(ScheduledSequences.plain(s, tokens[s], promptLen, len[s] - promptLen, computed[s], n, table, sample,
              SamplingParams.greedy(1)));
        }
        if (anyPrompt && anyDecode) mixed++;
        float[][] before = snapshot(graphs.cacheForTest());
        var g = graphs.execute(batch);
        var e = eager.execute(batch);
        if (mixed == 1 && liveAfterFirstMixed < 0) liveAfterFirstMixed = graphs.liveArraysForTest();
        assertOnlyWritten(before, snapshot(graphs.cacheForTest()), written, step);
        assertEquals(e == null, g == null, "step " + step + ": whether anything sampled");
        int row = 0;
        for (ScheduledSequence q : batch) {
          computed[(int) q.seqId()] += q.numNew();
          if (!q.sample()) continue;
          assertEquals(e.tokens()[row], g.tokens()[row], "step " + step + " sequence " + q.seqId());
          tokens[(int) q.seqId()][len[(int) q.seqId()]++] = g.tokens()[row++];
        }
      }
      assertTrue(mixed >= 6, mixed + " mixed steps");
      // A mixed step's sampling rows and logits are freed with the step, not kept with the graph's output (they
      // piled up to a CUDA out-of-memory in the H200 structured-output benchmark).
      assertEquals(liveAfterFirstMixed, graphs.liveArraysForTest(), "arrays left behind by " + mixed + " mixed steps");
    }
  }

  private static ModelRunner runner(boolean eager, List<Integer> sizes) {
    return ModelRunner.start(EngineConfig.defaults(TestModels.tiny(), EngineConfig.deviceOf("cuda")).withMaxModelLen(256)
        .withBlocks(16, 64).withCuda(new EngineConfig.CudaOptions(eager, sizes, null)));
  }

  private static float[][] snapshot(PagedKvCache cache) {
    int layers = cache.numLayers();
    float[][] out = new float[2 * layers][];
    // Copies (and their host copies) in a manager of their own: left with the cache's, they would count as a leak.
    try (ai.djl.ndarray.NDManager m = cache.keyTensor(0).getManager().newSubManager()) {
      for (int l = 0; l < layers; l++) {
        for (int kv = 0; kv < 2; kv++) {
          ai.djl.ndarray.NDArray copy = (kv == 0 ? cache.keyTensor(l) : cache.valueTensor(l))
              .toType(DataType.FLOAT32, false);
          copy.attach(m);
          out[2 * l + kv] = copy.toFloatArray();
        }
      }
    }
    return out;
  }

  private static void assertOnlyWritten(float[][] before, float[][] after, Set<Long> written, int step) {
    int slotWidth = before[0].length / 64 / 16;
    for (int a = 0; a < before.length; a++) {
      for (int i = 0; i < before[a].length; i++) {
        if (before[a][i] != after[a][i]) {
          long slot = i / slotWidth;
          assertTrue(written.contains(slot), "step " + step + ": slot " + slot + " changed but was not scheduled");
        }
      }
    }
    assertEquals(before.length, after.length);
  }
}
