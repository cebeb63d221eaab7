package barista.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The selection against a full sort: the same support and the same token for every draw. */
class HostSamplingTest {

  /** Inverse-CDF over the sorted distribution, as the sampler did before: the reference for each draw. */
  private static int bySorting(float[] probs, int topK, float minP, float topP, float u) {
    Integer[] order = IntStream.range(0, probs.length).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.comparingDouble((Integer t) -> probs[t]).reversed());
    float max = probs[order[0]];
    double total = 0;
    int kept = 0;
    for (int r = 0; r < order.length && r < topK && probs[order[r]] >= minP * max && probs[order[r]] > 0; r++) {
      total += probs[order[r]];
      kept++;
    }
    double cum = 0;
    int inTopP = 0;
    for (int r = 0; r < kept; r++) {
      if (cum >= topP * total) break;
      cum += probs[order[r]];
      inTopP++;
    }
    double target = u * cum, run = 0;
    for (int r = 0; r < inTopP; r++) {
      run += probs[order[r]];
      if (run > target) return order[r];
    }
    return order[inTopP - 1];
  }

  @Test
  void drawsWhatSortingDraws() {
    SplittableRandom random = new SplittableRandom(3);
    for (int trial = 0; trial < 400; trial++) {
      int vocab = 1 + random.nextInt(trial < 200 ? 40 : 3000);
      float[] probs = new float[vocab];
      double sum = 0;
      java.util.Set<Float> seen = new java.util.HashSet<>(); // distinct: equal probabilities may come in either order
      for (int t = 0; t < vocab; t++) {
        // Distinct values, some zero (masked): skewed (many histogram buckets), or flat (a few crowded ones).
        double spread = trial % 3 == 0 ? 6 : trial % 3 == 1 ? 1 : 1e-3;
        do {
          probs[t] = random.nextInt(10) == 0 ? 0 : (float) Math.exp(spread * random.nextDouble()) + t * 1e-6f;
        } while (probs[t] != 0 && !seen.add(probs[t]));
        sum += probs[t];
      }
      if (sum == 0) probs[0] = 1;
      int topK = random.nextBoolean() ? vocab : 1 + random.nextInt(vocab);
      float minP = random.nextBoolean() ? 0 : (float) random.nextDouble(0.5);
      float topP = random.nextBoolean() ? 1 : (float) random.nextDouble(0.05, 1);
      for (float u : new float[] {0, (float) random.nextDouble(), (float) random.nextDouble(), 0x1.fffffep-1f}) {
        float[] copy = probs.clone();
        assertEquals(bySorting(probs, topK, minP, topP, u),
            HostSampling.drawFromWeights(copy, 0, vocab, topK, minP, topP, u),
            "trial " + trial + " vocab " + vocab + " top_k " + topK + " min_p " + minP + " top_p " + topP + " u " + u);
      }
    }
  }

  @Test
  void expNonPositiveIsCloseToExactAndMasksStayZero() {
    for (float x = 0; x > -87; x -= 0.0137f) {
      double exact = Math.exp(x);
      assertEquals(exact, HostSampling.expNonPositive(x), exact * 2e-5, "e^" + x);
    }
    assertEquals(1f, HostSampling.expNonPositive(0), 2e-5);
    // a masked token's weight is exactly 0, so it can never be drawn
    assertEquals(0f, HostSampling.expNonPositive(Float.NEGATIVE_INFINITY));
    assertEquals(0f, HostSampling.expNonPositive(-250f));
    assertTrue(Float.isNaN(HostSampling.expNonPositive(Float.NaN)), "NaN stays NaN (and is then never a candidate)");
  }

  /** Logits a near-zero repetition penalty or a broken model can produce: a draw, never an exception. */
  @Test
  void infiniteAndNaNLogitsStillDraw() {
    float inf = Float.POSITIVE_INFINITY, nan = Float.NaN;
    assertEquals(2, HostSampling.draw(new float[] {1, 5, inf, 3}, 0, 4, 0.7f, 4, 0, 0.95f, 0.99f));
    assertEquals(1, HostSampling.draw(new float[] {nan, 5, nan, 3}, 0, 4, 0.7f, 4, 0, 0.95f, 0));
    assertEquals(0, HostSampling.draw(new float[] {-inf, -inf}, 0, 2, 1f, 2, 0, 1, 0.5f));
    assertEquals(1, HostSampling.drawFromWeights(new float[] {nan, 0.5f, nan}, 0, 3, 3, 0, 1, 0.9f));
  }

  @Test
  void readsItsRowOnly() {
    float[] two = {0.1f, 0.9f, 0.7f, 0.3f};
    assertEquals(1, HostSampling.drawFromWeights(two, 0, 2, 2, 0, 1, 0));
    assertEquals(0, HostSampling.drawFromWeights(two, 2, 2, 2, 0, 1, 0));
    assertEquals(1, HostSampling.drawFromWeights(two, 2, 2, 2, 0, 1, 0x1.fffffep-1f));
  }
}
