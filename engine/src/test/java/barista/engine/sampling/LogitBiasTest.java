package barista.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** logit_bias, forced tokens and constraint masks in the device sampler, against logits whose argmax is known. */
class LogitBiasTest {
  private static final int VOCAB = 12;
  // Row logits: token 3 is the clear argmax, token 7 second; spreads of a few units, as a model's would be.
  private static final float[] ROW = {0.1f, -1f, 0.5f, 4f, 0.2f, -0.3f, 1f, 2.5f, 0f, -2f, 0.7f, 0.4f};
  private static NDManager manager;

  @BeforeAll
  static void start() {
    manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
  }

  @AfterAll
  static void stop() {
    manager.close();
  }

  @Test
  void plusHundredMakesTheGreedyTokenThatId() {
    SamplingParams p = greedy().logitBias(Map.of(9, 100f)).build().validate();
    assertEquals(9, sample(p, -1, 0.5).tokens()[0], "token 9 has the lowest logit, +100 makes it the argmax");
  }

  @Test
  void minusHundredBansTheArgmax() {
    SamplingParams p = greedy().logitBias(Map.of(3, -100f)).build().validate();
    assertEquals(7, sample(p, -1, 0.5).tokens()[0], "with 3 banned the second best, 7, is greedy");
  }

  @Test
  void biasAppliesWhenSamplingToo() {
    SamplingParams up = SamplingParams.builder().temperature(1).logitBias(Map.of(9, 100f)).build().validate();
    SamplingParams down = SamplingParams.builder().temperature(1).logitBias(Map.of(3, -100f)).build().validate();
    for (double u = 0; u < 1; u += 0.05) {
      assertEquals(9, sample(up, -1, u).tokens()[0], "draw " + u);
      assertNotEquals(3, sample(down, -1, u).tokens()[0], "draw " + u);
    }
  }

  @Test
  void logprobsStayTheModelsOwn() {
    SamplingParams p = greedy().logitBias(Map.of(9, 100f)).logprobs(1).build().validate();
    SampleResult r = sample(p, -1, 0.5);
    double logZ = 0;
    for (float v : ROW) logZ += Math.exp(v);
    logZ = Math.log(logZ);
    assertEquals(ROW[9] - logZ, r.logprobs()[0], 1e-5, "the biased pick is reported with its raw logprob");
    assertEquals(3, r.topIds()[0][0], "top alternatives are the raw model's");
  }

  @Test
  void allowedTokenIdsAreTheOnlyCandidates() {
    SamplingParams greedyAllowed = greedy().allowedTokenIds(List.of(0, 9)).build();
    assertEquals(0, sample(greedyAllowed, -1, 0.5).tokens()[0], "of 0 and 9, 0 has the higher logit");
    SamplingParams sampled = SamplingParams.builder().temperature(1.5).allowedTokenIds(List.of(2, 9, 11)).build();
    for (double u = 0; u < 1; u += 0.05) {
      int t = sample(sampled, -1, u).tokens()[0];
      assertTrue(t == 2 || t == 9 || t == 11, "draw " + u + " gave " + t);
    }
  }

  @Test
  void badWordsBanTheirLastTokenAfterTheRestOfThem() {
    SamplingParams p = greedy().badWords(List.of(new int[] {3}, new int[] {5, 7}, new int[] {6, 10})).build();
    // Output so far ends with 5: the word 5,7 bans 7; the one-token word bans 3; 6,10 does not apply.
    SamplingRow row = new SamplingRow(p, 0.5, new int[] {1, 2, 5}, 2, 1, new int[0], -1);
    assertEquals(6, sample(List.of(row)).tokens()[0], "3 and 7 banned: 6 is the next best");
    SamplingRow fresh = new SamplingRow(p, 0.5, new int[] {1, 5}, 2, 0, new int[0], -1);
    assertEquals(7, sample(List.of(fresh)).tokens()[0], "the 5 in the prompt does not count, as in vLLM");
  }

  @Test
  void onlyTheBiasedRowChanges() {
    List<SamplingRow> rows = new ArrayList<>();
    rows.add(row(greedy().build(), -1, 0));
    rows.add(row(greedy().logitBias(Map.of(0, 100f)).build(), -1, 0));
    rows.add(row(greedy().build(), 5, 0));
    int[] tokens = sample(rows).tokens();
    assertEquals(List.of(3, 0, 5), List.of(tokens[0], tokens[1], tokens[2]));
  }

  @Test
  void aForcedTokenWinsOverLogitsBiasAndSampling() {
    SamplingParams biased = SamplingParams.builder().temperature(1.5).topK(2).logitBias(Map.of(3, 100f)).build();
    for (double u = 0; u < 1; u += 0.1) assertEquals(9, sample(biased, 9, u).tokens()[0], "draw " + u);
    assertEquals(1, sample(greedy().build(), 1, 0).tokens()[0]);
  }

  /** A constraint's mask (issue 13) applies after the bias: the bias reorders the allowed tokens, nothing more. */
  @Test
  void aMaskKeepsItsTokensWhateverTheBias() {
    long[] allowed = {1L << 2 | 1L << 6 | 1L << 10}; // tokens 2, 6 and 10; 6 has the highest raw logit of them
    SamplingParams toBanned = greedy().logitBias(Map.of(3, 100f, 9, 100f)).build().validate();
    assertEquals(6, sample(List.of(masked(toBanned, allowed, 0.5))).tokens()[0], "bias on tokens outside the mask");
    SamplingParams toAllowed = greedy().logitBias(Map.of(10, 100f)).build().validate();
    assertEquals(10, sample(List.of(masked(toAllowed, allowed, 0.5))).tokens()[0], "bias within the mask");
    SamplingParams sampled = SamplingParams.builder().temperature(1).logitBias(Map.of(3, 100f)).build().validate();
    for (double u = 0; u < 1; u += 0.05) {
      int token = sample(List.of(masked(sampled, allowed, u))).tokens()[0];
      assertEquals(true, token == 2 || token == 6 || token == 10, "draw " + u + " gave " + token);
    }
  }

  @Test
  void maskedBiasedAndForcedRowsShareABatch() {
    List<SamplingRow> rows = new ArrayList<>();
    rows.add(masked(greedy().logitBias(Map.of(0, 100f)).build(), new long[] {1L << 5}, 0)); // only 5 allowed
    rows.add(row(greedy().logitBias(Map.of(0, 100f)).build(), -1, 0));
    rows.add(row(greedy().build(), 8, 0));
    rows.add(row(greedy().build(), -1, 0));
    int[] tokens = sample(rows).tokens();
    assertEquals(List.of(5, 0, 8, 3), List.of(tokens[0], tokens[1], tokens[2], tokens[3]));
  }

  @Test
  void outOfRangeValuesAreRefusedNamingTheField() {
    RefusedRequestException e = assertThrows(RefusedRequestException.class,
        () -> greedy().logitBias(Map.of(3, 100.5f)).build().validate());
    assertEquals("logit_bias", e.what());
    assertThrows(RefusedRequestException.class, () -> greedy().logitBias(Map.of(-1, 1f)).build().validate());
  }

  private static SamplingParams.Builder greedy() {
    return SamplingParams.builder().temperature(0);
  }

  private static SampleResult sample(SamplingParams p, int forced, double uniform) {
    return sample(List.of(row(p, forced, uniform)));
  }

  private static SamplingRow row(SamplingParams p, int forced, double uniform) {
    return new SamplingRow(p, uniform, new int[] {1, 2}, 2, 0, new int[0], forced);
  }

  private static SamplingRow masked(SamplingParams p, long[] allowed, double uniform) {
    return new SamplingRow(p, uniform, new int[] {1, 2}, 2, 0, new int[0], TokenMask.ofWords(allowed));
  }

  private static SampleResult sample(List<SamplingRow> rows) {
    try (NDManager step = manager.newSubManager()) {
      float[] logits = new float[rows.size() * VOCAB];
      for (int i = 0; i < rows.size(); i++) System.arraycopy(ROW, 0, logits, i * VOCAB, VOCAB);
      NDArray x = step.create(logits, new Shape(rows.size(), VOCAB));
      return new Sampler().sample(x, rows, step);
    }
  }
}
