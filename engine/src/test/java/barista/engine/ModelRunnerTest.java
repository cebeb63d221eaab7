package barista.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.model.ForwardBatch;
import barista.engine.reference.ReferenceQwen2;
import barista.engine.sampling.PromptLogprobs;
import barista.engine.sampling.SampleResult;
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
        float[] logits = runner.logitsForTest(ScheduledSequences.plain(1, tokens, 20, len - 20, computed, len - computed,
            kv.blockTable(1).toArray(), true, SamplingParams.greedy(1)));
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

  /**
   * A row fed its last token beside its array (the asynchronous pipeline) computes and samples as the same row with
   * the token in its array: the token is its input, and its penalties count it.
   */
  @Test
  void aFedTokenIsTheRowsInputAndCountsInItsPenalties() {
    try (ModelRunner runner = TestModels.cpuRunner(TestModels.tiny(), 16, 64)) {
      int vocab = runner.modelConfig().vocabSize();
      int[] prompt = prompt(10, 3, vocab);
      KvCacheManager kv = new KvCacheManager(runner.numBlocks(), runner.blockSize(), false);
      kv.allocateSlots(1, 0, 11);
      int[] table = kv.blockTable(1).toArray();
      SamplingParams penalized = SamplingParams.builder().maxTokens(8).temperature(0).repetitionPenalty(2.0)
          .frequencyPenalty(1.5).presencePenalty(1.0).build();
      int first = runner.execute(List.of(ScheduledSequences.plain(1, prompt, 10, 0, 0, 10, table, true, penalized)))
          .tokens()[0];
      int[] inArray = Arrays.copyOf(prompt, 11);
      inArray[10] = first;
      float[] expected = runner.logitsForTest(ScheduledSequences.plain(1, inArray, 10, 1, 10, 1, table, true,
          penalized));
      int expectedToken = runner.execute(List.of(ScheduledSequences.plain(1, inArray, 10, 1, 10, 1, table, true,
          penalized))).tokens()[0];
      ScheduledSequence fed = new ScheduledSequence(1, prompt, 10, 1, 10, 1, table, true, penalized, 0, new int[0],
          null, -1, null, first); // prompt's array holds 10 tokens: the 11th only beside it
      assertArrayEquals(expected, runner.logitsForTest(fed), "the fed token is the row's input");
      assertEquals(expectedToken, runner.execute(List.of(fed)).tokens()[0], "and its penalties count it");
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

  /**
   * Prompt logprobs over a prompt prefilled in chunks beside another sequence (the first chunk's rows more than one
   * LM-head slice) equal teacher forcing: the logprob of
   * token i given tokens 0..i-1 as the float32 runner computes it from that prefix alone (within 1e-4), and the float64
   * reference's; their top k and ranks agree with the reference's; and the step still samples as it would without.
   */
  @Test
  void promptLogprobsEqualTeacherForcing() {
    try (Checkpoint ckpt = Checkpoint.open(TestModels.tiny());
        ModelRunner runner = TestModels.cpuRunner(TestModels.tiny(), 16, 64)) {
      ReferenceQwen2 reference = ReferenceQwen2.of(ckpt);
      int vocab = runner.modelConfig().vocabSize();
      int[] prompt = prompt(ModelRunner.PROMPT_LOGIT_ROWS + 44, 3, vocab);
      int[] other = prompt(9, 4, vocab);
      int k = 3;
      PromptLogprobs sink = new PromptLogprobs(prompt, k);
      SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(1).promptLogprobs(k).build();
      KvCacheManager kv = new KvCacheManager(runner.numBlocks(), runner.blockSize(), false);
      int computed = 0;
      int otherComputed = 0;
      int sampled = -1;
      int live = runner.liveArraysForTest();
      while (computed < prompt.length) {
        int n = Math.min(ModelRunner.PROMPT_LOGIT_ROWS + 24, prompt.length - computed);
        assertTrue(kv.allocateSlots(1, computed, n));
        int m = otherComputed == 0 ? other.length : 0;
        List<ScheduledSequence> seqs = new ArrayList<>();
        if (m > 0) { // the other prompt's rows come first, so the prompt's rows are not at the batch's start
          assertTrue(kv.allocateSlots(2, 0, m));
          seqs.add(ScheduledSequences.plain(2, other, other.length, 0, 0, m, kv.blockTable(2).toArray(), true,
              SamplingParams.greedy(1)));
          otherComputed = m;
        }
        boolean last = computed + n == prompt.length;
        seqs.add(new ScheduledSequence(1, prompt, prompt.length, 0, computed, n, kv.blockTable(1).toArray(), last,
            params, 0, new int[0], null, -1, sink));
        SampleResult result = runner.execute(seqs);
        if (last) sampled = result.tokens()[result.tokens().length - 1];
        computed += n;
      }
      assertEquals(live, runner.liveArraysForTest(), "arrays left behind by prompt-logprob steps");
      assertTrue(sink.complete());
      assertTrue(Float.isNaN(sink.logprob(0)) && sink.topIds(0) == null, "nothing precedes the first token");

      double[][] refLogits = reference.logits(prompt);
      KvCacheManager alone = new KvCacheManager(runner.numBlocks(), runner.blockSize(), false);
      double worstForced = 0;
      double worstReference = 0;
      for (int i = 1; i < prompt.length; i++) {
        // Teacher forcing: the prefix 0..i-1 alone, its last row's logits, the logprob of token i.
        alone.free(7);
        assertTrue(alone.allocateSlots(7, 0, i));
        float[] forced = runner.logitsForTest(ScheduledSequences.plain(7, prompt, i, 0, 0, i,
            alone.blockTable(7).toArray(), true, SamplingParams.greedy(1)));
        worstForced = Math.max(worstForced, Math.abs(sink.logprob(i) - logSoftmax(forced)[prompt[i]]));
        double[] ref = logSoftmax(refLogits[i - 1]);
        worstReference = Math.max(worstReference, Math.abs(sink.logprob(i) - ref[prompt[i]]));
        int above = 0;
        for (double v : ref) if (v > ref[prompt[i]]) above++;
        assertEquals(above + 1, sink.rank(i), "rank of token " + i);
        Integer[] order = new Integer[vocab];
        for (int v = 0; v < vocab; v++) order[v] = v;
        Arrays.sort(order, (a, b) -> Double.compare(ref[b], ref[a]));
        for (int t = 0; t < k; t++) {
          assertEquals(order[t], sink.topIds(i)[t], "top " + t + " at " + i);
          assertEquals(ref[order[t]], sink.topLogprobs(i)[t], 1e-3);
        }
      }
      assertTrue(worstForced < 1e-4, "max |prompt logprob - teacher-forced logprob| = " + worstForced);
      assertTrue(worstReference < 1e-3, "max |prompt logprob - float64 reference| = " + worstReference);
      double[] last = refLogits[prompt.length - 1];
      int argmax = 0;
      for (int v = 0; v < vocab; v++) if (last[v] > last[argmax]) argmax = v;
      assertEquals(argmax, sampled, "the sampled row is unaffected by the prompt rows");
    }
  }

  private static double[] logSoftmax(float[] logits) {
    double[] d = new double[logits.length];
    for (int i = 0; i < d.length; i++) d[i] = logits[i];
    return logSoftmax(d);
  }

  private static double[] logSoftmax(double[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : logits) max = Math.max(max, v);
    double sum = 0;
    for (double v : logits) sum += Math.exp(v - max);
    double log = max + Math.log(sum);
    double[] out = new double[logits.length];
    for (int i = 0; i < out.length; i++) out[i] = logits[i] - log;
    return out;
  }
}
