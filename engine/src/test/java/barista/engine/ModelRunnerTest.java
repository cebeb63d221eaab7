package barista.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.model.ForwardBatch;
import barista.engine.reference.ReferenceQwen2;
import barista.engine.sampling.SamplingParams;
import barista.kvcache.KvCacheManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelRunnerTest {

  private static int[] prompt(int length, int salt, int vocab) {
    int[] p = new int[length];
    for (int i = 0; i < length; i++) p[i] = (i * 37 + salt * 101 + 7) % vocab;
    return p;
  }

  /** The DJL forward over the paged cache against the plain float64 reference, prefill of 20 then 10 decodes. */
  @Test
  void logitsMatchFloat64Reference() {
    try (Checkpoint ckpt = Checkpoint.open(TestModels.tiny());
        ModelRunner runner = TestModels.cpuRunner(TestModels.tiny(), 16, 64)) {
      ReferenceQwen2 reference = ReferenceQwen2.of(ckpt);
      int vocab = runner.modelConfig().vocabSize();
      int[] tokens = Arrays.copyOf(prompt(20, 1, vocab), 30);
      int len = 20;
      KvCacheManager kv = new KvCacheManager(runner.numBlocks(), runner.blockSize(), false);
      int computed = 0;
      double worst = 0;
      for (int step = 0; step < 11; step++) {
        kv.allocateSlots(1, computed, len - computed);
        float[] logits = runner.logitsForTest(new ScheduledSequence(1, tokens, 20, len - 20, computed, len - computed,
            kv.blockTable(1).toArray(), true, SamplingParams.greedy(1), 0, new int[0]));
        double[] expected = reference.logits(Arrays.copyOf(tokens, len))[len - 1];
        int argmax = 0;
        for (int v = 0; v < vocab; v++) {
          worst = Math.max(worst, Math.abs(logits[v] - expected[v]));
          if (expected[v] > expected[argmax]) argmax = v;
        }
        computed = len;
        if (step < 10) tokens[len++] = argmax;
      }
      assertTrue(worst < 1e-3, "max |logit - reference| = " + worst);
    }
  }

  /** Greedy outputs do not depend on the block size, nor on what else is in the batch. */
  @Test
  void pagingAndBatchingAreInvisible() {
    int[][] prompts = new int[6][];
    int vocab;
    try (Checkpoint ckpt = Checkpoint.open(TestModels.tiny())) {
      vocab = ckpt.config().vocabSize();
    }
    int[] lengths = {3, 17, 1, 40, 16, 9};
    for (int i = 0; i < prompts.length; i++) prompts[i] = prompt(lengths[i], i, vocab);
    int[][] expected;
    try (ModelRunner runner = TestModels.cpuRunner(TestModels.tiny(), 16, 64)) {
      expected = GreedyDriver.generate(runner, prompts, 12);
      int live = runner.liveArraysForTest();
      assertArrayEquals(expected, GreedyDriver.generate(runner, prompts, 12), "the same batch again");
      assertEquals(live, runner.liveArraysForTest(), "arrays left behind by a batch's steps");
      for (int i = 0; i < prompts.length; i++) {
        int[][] alone = GreedyDriver.generate(runner, new int[][] {prompts[i]}, 12);
        assertArrayEquals(expected[i], alone[0], "prompt " + i + " alone vs in a batch");
      }
    }
    for (int blockSize : new int[] {1, 32}) {
      try (ModelRunner runner = TestModels.cpuRunner(TestModels.tiny(), blockSize, 1024 / blockSize * 6 + 1)) {
        int[][] got = GreedyDriver.generate(runner, prompts, 12);
        for (int i = 0; i < prompts.length; i++) {
          assertArrayEquals(expected[i], got[i], "prompt " + i + " with block size " + blockSize);
        }
      }
    }
  }
}
