package barista.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sampler's semantics against a plain float64 reference written here, on DJL's CPU engine.
 *
 * <p>The reference follows the published processors, not our code: repetition penalty as Hugging Face's
 * RepetitionPenaltyLogitsProcessor (a seen token's logit divided by the penalty when positive, multiplied when
 * negative, over prompt and output), presence and frequency penalties as OpenAI documents them and vLLM applies them
 * (output tokens only: {@code logit - count * frequency - (count > 0) * presence}), then vLLM V1's order: temperature,
 * min_p ({@code p < min_p * max p} removed), top_k (logits below the k-th largest removed), top_p in Hugging Face's
 * ascending form (tokens whose ascending cumulative probability is {@code <= 1 - top_p} removed, the most likely kept).
 *
 * <p>The sampler is inverse-CDF driven by the row's uniform, so a batch of {@value #GRID} copies of one row with
 * uniforms on a regular grid measures its whole distribution: each token's share of the grid is its probability to
 * within 1/GRID. That checks the support (what top_k / top_p / min_p keep) and the processed logits (what each
 * penalty does) exactly; a chi-square bound on seeded random draws checks it the way a client would see it.
 */
class SamplerReferenceTest {
  private static final int GRID = 20_000;
  private static final double GRID_TOLERANCE = 1.0 / GRID + 2e-5; // grid resolution + float32 cumulative sums
  private static final Sampler SAMPLER = new Sampler();
  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager(Device.cpu());
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  // ---- the reference ----

  /** Penalties and bans on raw logits (float64). */
  static double[] referencePenalized(float[] logits, SamplingParams p, int[] tokens, int numPrompt, int numOutput,
      int[] banned) {
    double[] l = new double[logits.length];
    for (int i = 0; i < l.length; i++) l[i] = logits[i];
    boolean[] seen = new boolean[l.length];
    for (int i = 0; i < numPrompt + numOutput; i++) seen[tokens[i]] = true;
    double rp = p.repetitionPenalty();
    for (int t = 0; t < l.length; t++) {
      // transformers: torch.where(score < 0, score * penalty, score / penalty)
      if (seen[t]) l[t] = l[t] < 0 ? l[t] * rp : l[t] / rp;
    }
    int[] counts = new int[l.length];
    for (int i = numPrompt; i < numPrompt + numOutput; i++) counts[tokens[i]]++;
    for (int t = 0; t < l.length; t++) {
      l[t] -= counts[t] * p.frequencyPenalty() + (counts[t] > 0 ? p.presencePenalty() : 0);
    }
    for (int t : banned) l[t] = Double.NEGATIVE_INFINITY;
    return l;
  }

  /** The distribution the next token is drawn from, given penalized logits. */
  static double[] referenceDistribution(double[] penalized, SamplingParams p) {
    int v = penalized.length;
    if (p.isGreedy()) {
      double[] oneHot = new double[v];
      oneHot[argMax(penalized)] = 1;
      return oneHot;
    }
    double[] l = new double[v];
    for (int i = 0; i < v; i++) l[i] = penalized[i] / p.temperature();
    double[] probs = softmax(l);
    double max = Arrays.stream(probs).max().orElseThrow();
    for (int i = 0; i < v; i++) if (probs[i] < p.minP() * max) l[i] = Double.NEGATIVE_INFINITY;
    if (p.topK() > 0 && p.topK() < v) {
      double[] descending = Arrays.stream(l).boxed().sorted(Comparator.reverseOrder()).mapToDouble(d -> d).toArray();
      double kth = descending[p.topK() - 1];
      for (int i = 0; i < v; i++) if (l[i] < kth) l[i] = Double.NEGATIVE_INFINITY;
    }
    probs = softmax(l);
    Integer[] ascending = IntStream.range(0, v).boxed().toArray(Integer[]::new);
    double[] ps = probs;
    Arrays.sort(ascending, Comparator.comparingDouble(i -> ps[i]));
    double cumulative = 0;
    for (int j = 0; j < v - 1; j++) { // the last (most likely) token is always kept
      cumulative += probs[ascending[j]];
      if (cumulative <= 1 - p.topP()) l[ascending[j]] = Double.NEGATIVE_INFINITY;
    }
    return softmax(l);
  }

  static double[] softmax(double[] l) {
    double max = Arrays.stream(l).max().orElseThrow();
    double[] e = new double[l.length];
    double sum = 0;
    for (int i = 0; i < l.length; i++) {
      e[i] = l[i] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(l[i] - max);
      sum += e[i];
    }
    for (int i = 0; i < l.length; i++) e[i] /= sum;
    return e;
  }

  static int argMax(double[] a) {
    int best = 0;
    for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
    return best;
  }

  // ---- measuring the sampler ----

  /** One row's distribution, measured: GRID copies of the row with uniforms (i + 0.5) / GRID. */
  private static double[] measure(float[] logits, SamplingParams p, int[] tokens, int numPrompt, int numOutput,
      int[] banned) {
    double[] uniforms = new double[GRID];
    for (int i = 0; i < GRID; i++) uniforms[i] = (i + 0.5) / GRID;
    int[] drawn = draw(logits, p, tokens, numPrompt, numOutput, banned, uniforms);
    double[] share = new double[logits.length];
    for (int t : drawn) share[t] += 1.0 / GRID;
    return share;
  }

  private static double[] measure(float[] logits, SamplingParams p) {
    return measure(logits, p, new int[] {0}, 1, 0, new int[0]);
  }

  private static int[] draw(float[] logits, SamplingParams p, int[] tokens, int numPrompt, int numOutput,
      int[] banned, double[] uniforms) {
    int v = logits.length;
    int n = uniforms.length;
    float[] flat = new float[n * v];
    List<SamplingRow> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      System.arraycopy(logits, 0, flat, i * v, v);
      rows.add(new SamplingRow(p, uniforms[i], tokens, numPrompt, numOutput, banned));
    }
    try (NDManager m = manager.newSubManager()) {
      return SAMPLER.sample(m.create(flat, new Shape(n, v)), rows, m).tokens();
    }
  }

  private static void assertDistribution(double[] expected, double[] measured, String what) {
    for (int t = 0; t < expected.length; t++) {
      if (expected[t] == 0) {
        assertEquals(0, measured[t], what + ": token " + t + " is outside the support but was drawn; measured "
            + Arrays.toString(measured) + ", expected " + Arrays.toString(expected));
      } else {
        assertEquals(expected[t], measured[t], GRID_TOLERANCE, what + ": token " + t + "; measured "
            + Arrays.toString(measured) + ", expected " + Arrays.toString(expected));
      }
    }
  }

  private static int[] support(double[] distribution) {
    return IntStream.range(0, distribution.length).filter(t -> distribution[t] > 0).toArray();
  }

  /** Distinct logits of both signs, so a sign error in a penalty shows. */
  private static float[] logits(long seed, int vocab) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] l = new float[vocab];
    for (int i = 0; i < vocab; i++) l[i] = (float) (random.nextDouble(-3, 3) + 1e-3 * i);
    return l;
  }

  /** Indices by descending value. */
  private static int[] rankOrder(double[] values) {
    return IntStream.range(0, values.length).boxed()
        .sorted(Comparator.comparingDouble((Integer i) -> values[i]).reversed()).mapToInt(i -> i).toArray();
  }

  private static double[] asDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) d[i] = f[i];
    return d;
  }

  // ---- support after top_k / top_p / min_p ----

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 5, 8, 11})
  void topKKeepsExactlyTheKMostLikelyTokens(int k) {
    float[] logits = logits(1, 12);
    SamplingParams p = SamplingParams.builder().topK(k).build();
    double[] expected = referenceDistribution(asDoubles(logits), p);
    int[] top = Arrays.copyOf(rankOrder(asDoubles(logits)), k);
    Arrays.sort(top);
    assertArrayEquals(top, support(expected), "the reference keeps the k largest logits");
    double[] measured = measure(logits, p);
    assertArrayEquals(top, support(measured), "top_k " + k + " support");
    assertDistribution(expected, measured, "top_k " + k);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 6, 9})
  void topPKeepsTheSmallestSetReachingP(int size) {
    float[] logits = logits(2, 10);
    double[] probs = softmax(asDoubles(logits));
    int[] order = rankOrder(probs);
    double before = 0; // the mass of the size - 1 most likely tokens
    for (int r = 0; r < size - 1; r++) before += probs[order[r]];
    double topP = before + probs[order[size - 1]] / 2; // strictly between: needs exactly `size` tokens
    SamplingParams p = SamplingParams.builder().topP(topP).build();
    double[] expected = referenceDistribution(asDoubles(logits), p);
    assertEquals(size, support(expected).length, "the reference keeps " + size + " tokens at top_p " + topP);
    assertDistribution(expected, measure(logits, p), "top_p " + topP);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4, 7})
  void minPDropsTokensBelowItsShareOfTheMostLikely(int size) {
    float[] logits = logits(3, 9);
    double[] probs = softmax(asDoubles(logits));
    int[] order = rankOrder(probs);
    double max = probs[order[0]];
    double minP = size == 9 ? 0 : (probs[order[size - 1]] + probs[order[size]]) / 2 / max;
    SamplingParams p = SamplingParams.builder().minP(minP).build();
    double[] expected = referenceDistribution(asDoubles(logits), p);
    assertEquals(size, support(expected).length, "the reference keeps " + size + " tokens at min_p " + minP);
    assertDistribution(expected, measure(logits, p), "min_p " + minP);
  }

  @Test
  void temperatureTopKTopPAndMinPTogether() {
    float[] logits = logits(4, 16);
    for (double temperature : new double[] {0.3, 0.7, 1.0, 1.8}) {
      for (double topP : new double[] {0.55, 0.8, 0.95}) {
        SamplingParams p = SamplingParams.builder().temperature(temperature).topK(9).topP(topP).minP(0.02).build();
        double[] expected = referenceDistribution(asDoubles(logits), p);
        assertDistribution(expected, measure(logits, p), p.toString());
      }
    }
  }

  @Test
  void aDrawJustBelowOneStaysInsideTheKeptSet() {
    float[] logits = logits(5, 8);
    SamplingParams p = SamplingParams.builder().topK(3).build();
    int[] kept = rankOrder(asDoubles(logits));
    int[] tokens = draw(logits, p, new int[] {0}, 1, 0, new int[0], new double[] {Math.nextDown(1.0), 0.0});
    assertEquals(kept[2], tokens[0], "u -> 1 picks the least likely kept token");
    assertEquals(kept[0], tokens[1], "u = 0 picks the most likely token");
  }

  // ---- processed logits after each penalty ----

  private static final int[] HISTORY = {2, 5, 5, 7, 1, 5, 3, 3}; // prompt 2 5 5 7; output 1 5 3 3

  @ParameterizedTest
  @ValueSource(doubles = {0.5, 1.3, 2.0})
  void repetitionPenaltyDividesPositiveAndMultipliesNegativeSeenLogits(double penalty) {
    float[] logits = {2.5f, -1.0f, 1.5f, -2.0f, 0.3f, 0.8f, -0.4f, 1.1f, 0.0f, -0.7f};
    SamplingParams p = SamplingParams.builder().repetitionPenalty(penalty).build();
    double[] penalized = referencePenalized(logits, p, HISTORY, 4, 4, new int[0]);
    assertEquals(1.5 / penalty, penalized[2], 1e-6, "positive seen logit divided");
    assertEquals(-2.0 * penalty, penalized[3], 1e-6, "negative seen logit multiplied");
    assertEquals(2.5, penalized[0], 1e-6, "unseen logit unchanged");
    assertDistribution(softmax(penalized), measure(logits, p, HISTORY, 4, 4, new int[0]), "repetition " + penalty);
  }

  @ParameterizedTest
  @ValueSource(doubles = {-1.5, 0.4, 2.0})
  void presencePenaltySubtractsOnceFromEveryGeneratedToken(double penalty) {
    float[] logits = {2.5f, -1.0f, 1.5f, -2.0f, 0.3f, 0.8f, -0.4f, 1.1f, 0.0f, -0.7f};
    SamplingParams p = SamplingParams.builder().presencePenalty(penalty).build();
    double[] penalized = referencePenalized(logits, p, HISTORY, 4, 4, new int[0]);
    assertEquals(-1.0 - penalty, penalized[1], 1e-6);
    assertEquals(-2.0 - penalty, penalized[3], 1e-6, "once, though generated twice");
    assertEquals(1.1, penalized[7], 1e-6, "a prompt-only token is not penalized");
    assertDistribution(softmax(penalized), measure(logits, p, HISTORY, 4, 4, new int[0]), "presence " + penalty);
  }

  @ParameterizedTest
  @ValueSource(doubles = {-0.8, 0.5, 1.7})
  void frequencyPenaltySubtractsPerOccurrenceInTheOutput(double penalty) {
    float[] logits = {2.5f, -1.0f, 1.5f, -2.0f, 0.3f, 0.8f, -0.4f, 1.1f, 0.0f, -0.7f};
    SamplingParams p = SamplingParams.builder().frequencyPenalty(penalty).build();
    double[] penalized = referencePenalized(logits, p, HISTORY, 4, 4, new int[0]);
    assertEquals(-2.0 - 2 * penalty, penalized[3], 1e-6, "3 was generated twice");
    assertEquals(0.8 - penalty, penalized[5], 1e-6, "5 was generated once (twice more in the prompt)");
    assertEquals(1.1, penalized[7], 1e-6, "a prompt-only token is not penalized");
    assertDistribution(softmax(penalized), measure(logits, p, HISTORY, 4, 4, new int[0]), "frequency " + penalty);
  }

  @Test
  void allPenaltiesBansAndFiltersTogether() {
    float[] logits = logits(6, 10);
    int[] banned = {0, 9};
    SamplingParams p = SamplingParams.builder().repetitionPenalty(1.4).presencePenalty(0.3).frequencyPenalty(0.6)
        .temperature(0.8).topK(6).topP(0.9).build();
    double[] expected = referenceDistribution(referencePenalized(logits, p, HISTORY, 4, 4, banned), p);
    double[] measured = measure(logits, p, HISTORY, 4, 4, banned);
    assertEquals(0, measured[0] + measured[9], "banned tokens are never drawn");
    assertDistribution(expected, measured, p.toString());
  }

  @Test
  void greedyPicksTheArgmaxOfThePenalizedLogits() {
    float[] logits = {1.0f, 3.0f, 2.9f, -0.5f, 2.95f};
    int[] history = {1, 1, 4};
    // Unpenalized 1 wins; penalized 1 (seen in prompt and output) and 4 fall behind 2.
    SamplingParams p = SamplingParams.builder().temperature(0).repetitionPenalty(1.2).frequencyPenalty(0.1).build();
    double[] penalized = referencePenalized(logits, p, history, 1, 2, new int[0]);
    assertEquals(2, argMax(penalized), "the reference's argmax");
    assertEquals(2, draw(logits, p, history, 1, 2, new int[0], new double[] {0.3})[0]);
    SamplingParams plain = SamplingParams.greedy(1).toBuilder().topK(1).build();
    assertEquals(1, draw(logits, plain, history, 1, 2, new int[] {4}, new double[] {0.9})[0]);
  }

  // ---- seeded draws: the empirical frequencies ----

  @Test
  void seededDrawsFollowTheProcessedDistribution() {
    float[] logits = {1.2f, 0.4f, -0.3f, 2.0f, 0.9f, -1.1f};
    int[] history = {3, 0, 3};
    SamplingParams p = SamplingParams.builder().temperature(0.9).topK(4).topP(0.99).repetitionPenalty(1.3)
        .presencePenalty(0.2).seed(7L).build();
    double[] expected = referenceDistribution(referencePenalized(logits, p, history, 1, 2, new int[0]), p);
    int n = 40_000;
    SplittableRandom random = new SplittableRandom(p.seed());
    double[] uniforms = new double[n];
    for (int i = 0; i < n; i++) uniforms[i] = random.nextDouble();
    long[] counts = new long[logits.length];
    for (int t : draw(logits, p, history, 1, 2, new int[0], uniforms)) counts[t]++;

    int df = support(expected).length - 1;
    double bound = chiSquareCritical(df, 3.09); // alpha = 0.001
    double statistic = chiSquare(counts, expected, n);
    assertTrue(statistic < bound, "chi-square " + statistic + " >= " + bound + " (df " + df + "): counts "
        + Arrays.toString(counts) + ", expected " + Arrays.toString(expected));

    assertEquals(4, df + 1, "top_k binds: the test would not see it otherwise");

    // The bound has power: the same draws fail against the distributions an off-by-one top_k would give.
    for (int k : new int[] {3, 5}) {
      SamplingParams wrongK = p.toBuilder().topK(k).build();
      double[] wrong = referenceDistribution(referencePenalized(logits, wrongK, history, 1, 2, new int[0]), wrongK);
      assertTrue(chiSquare(counts, wrong, n) > chiSquareCritical(support(wrong).length - 1, 3.09), "top_k " + k);
    }
  }

  /** Pearson's statistic over the support; a draw outside it is an infinite statistic. */
  private static double chiSquare(long[] counts, double[] expected, int n) {
    double s = 0;
    for (int t = 0; t < counts.length; t++) {
      if (expected[t] == 0) {
        if (counts[t] > 0) return Double.POSITIVE_INFINITY;
        continue;
      }
      double e = expected[t] * n;
      s += (counts[t] - e) * (counts[t] - e) / e;
    }
    return s;
  }

  /** Wilson-Hilferty approximation of the chi-square quantile for the standard normal quantile z. */
  private static double chiSquareCritical(int df, double z) {
    double a = 2.0 / (9 * df);
    return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
  }

  // ---- log-probabilities and batching ----

  @Test
  void logprobsAreThoseOfTheRawLogits() {
    float[] logits = logits(8, 12);
    SamplingParams p = SamplingParams.builder().temperature(0.5).topK(3).repetitionPenalty(1.5).logprobs(4).build();
    int[] history = {0, 1, 2};
    double[] raw = softmax(asDoubles(logits));
    int[] order = rankOrder(raw);
    try (NDManager m = manager.newSubManager()) {
      float[] flat = new float[2 * 12];
      System.arraycopy(logits, 0, flat, 0, 12);
      System.arraycopy(logits, 0, flat, 12, 12);
      List<SamplingRow> rows = List.of(new SamplingRow(p, 0.42, history, 2, 1, new int[0]),
          new SamplingRow(SamplingParams.greedy(1), 0.42, history, 2, 1, new int[0]));
      SampleResult r = SAMPLER.sample(m.create(flat, new Shape(2, 12)), rows, m);
      assertEquals(Math.log(raw[r.tokens()[0]]), r.logprobs()[0], 1e-5, "the chosen token's raw logprob");
      assertEquals(4, r.topIds()[0].length);
      for (int j = 0; j < 4; j++) {
        assertEquals(order[j], r.topIds()[0][j], "top " + j);
        assertEquals(Math.log(raw[order[j]]), r.topLogprobs()[0][j], 1e-5);
      }
      assertEquals(order[0], r.tokens()[1], "the greedy row");
      assertTrue(Float.isNaN(r.logprobs()[1]), "no logprobs asked");
      assertNull(r.topIds()[1]);
    }
  }

  @Test
  void everyRowGetsItsOwnLogprobs() {
    float[] a = logits(10, 9);
    float[] b = logits(11, 9);
    float[] flat = new float[18];
    System.arraycopy(a, 0, flat, 0, 9);
    System.arraycopy(b, 0, flat, 9, 9);
    List<SamplingRow> rows = List.of(
        new SamplingRow(SamplingParams.greedy(1).toBuilder().logprobs(0).build(), 0, new int[] {0}, 1, 0, new int[0]),
        new SamplingRow(SamplingParams.builder().logprobs(3).build(), 0.6, new int[] {0}, 1, 0, new int[0]));
    try (NDManager m = manager.newSubManager()) {
      SampleResult r = SAMPLER.sample(m.create(flat, new Shape(2, 9)), rows, m);
      double[] rawA = softmax(asDoubles(a));
      double[] rawB = softmax(asDoubles(b));
      assertEquals(argMax(rawA), r.tokens()[0]);
      assertEquals(Math.log(rawA[r.tokens()[0]]), r.logprobs()[0], 1e-5);
      assertEquals(0, r.topIds()[0].length, "logprobs 0: only the sampled token's");
      assertEquals(Math.log(rawB[r.tokens()[1]]), r.logprobs()[1], 1e-5);
      int[] orderB = rankOrder(rawB);
      for (int j = 0; j < 3; j++) {
        assertEquals(orderB[j], r.topIds()[1][j], "row 1 top " + j);
        assertEquals(Math.log(rawB[orderB[j]]), r.topLogprobs()[1][j], 1e-5);
      }
    }
  }

  @Test
  void greedyAndRandomRowsInOneBatchKeepTheirOwnRule() {
    float[] l = logits(12, 7);
    int[] order = rankOrder(asDoubles(l));
    float[] flat = new float[14];
    System.arraycopy(l, 0, flat, 0, 7);
    System.arraycopy(l, 0, flat, 7, 7);
    List<SamplingRow> rows = List.of(
        new SamplingRow(SamplingParams.greedy(1), 0.999, new int[] {0}, 1, 0, new int[0]),
        new SamplingRow(SamplingParams.builder().build(), Math.nextDown(1.0), new int[] {0}, 1, 0, new int[0]));
    try (NDManager m = manager.newSubManager()) {
      int[] tokens = SAMPLER.sample(m.create(flat, new Shape(2, 7)), rows, m).tokens();
      assertEquals(order[0], tokens[0], "greedy ignores its draw");
      assertEquals(order[6], tokens[1], "a draw near 1 with nothing filtered picks the least likely token");
    }
  }

  @Test
  void topKZeroInTheRecordMeansOff() {
    float[] l = logits(13, 6);
    SamplingParams zero = new SamplingParams(1, 1, 0, 0, 1, 0, 0, null, 16, 0, false, null, null, false, true, null,
        null, null, null, null, null);
    assertDistribution(softmax(asDoubles(l)), measure(l, zero), "top_k 0");
  }

  @Test
  void aRowDrawsTheSameWhateverItsBatchMates() {
    SplittableRandom random = new SplittableRandom(9);
    int v = 14;
    int n = 12;
    float[] flat = new float[n * v];
    List<SamplingRow> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] l = logits(100 + i, v);
      System.arraycopy(l, 0, flat, i * v, v);
      SamplingParams.Builder b = SamplingParams.builder().temperature(i % 3 == 0 ? 0 : 0.5 + 0.1 * i);
      if (i % 2 == 0) b.topK(1 + i % 5).repetitionPenalty(1.1 + 0.05 * i);
      if (i % 4 == 1) b.topP(0.6).minP(0.05).frequencyPenalty(0.3);
      rows.add(new SamplingRow(b.build(), random.nextDouble(), new int[] {i % v, 3, 3}, 1, 2,
          i % 5 == 0 ? new int[] {3} : new int[0]));
    }
    int[] together;
    try (NDManager m = manager.newSubManager()) {
      together = SAMPLER.sample(m.create(flat, new Shape(n, v)), rows, m).tokens();
    }
    for (int i = 0; i < n; i++) {
      SamplingRow r = rows.get(i);
      float[] l = Arrays.copyOfRange(flat, i * v, (i + 1) * v);
      int alone = draw(l, r.params(), r.tokens(), r.numPrompt(), r.numOutput(), r.banned(),
          new double[] {r.uniform()})[0];
      assertEquals(alone, together[i], "row " + i);
      double[] expected = referenceDistribution(
          referencePenalized(l, r.params(), r.tokens(), r.numPrompt(), r.numOutput(), r.banned()), r.params());
      assertTrue(expected[together[i]] > 0, "row " + i + " drew outside its support");
    }
  }
}
