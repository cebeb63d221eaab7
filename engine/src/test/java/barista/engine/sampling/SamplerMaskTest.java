package barista.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SamplerMaskTest {
  private static final int VOCAB = 1003; // not a multiple of 16 or 64

  private static TokenMask mask(Set<Integer> ids) {
    long[] words = new long[(VOCAB + 63) / 64];
    for (int id : ids) words[id >>> 6] |= 1L << id;
    return TokenMask.ofWords(words);
  }

  @Test
  void onlyAllowedTokensAreSampledAndUnmaskedRowsAreUntouched() {
    Random random = new Random(5);
    float[] logits = new float[3 * VOCAB];
    for (int i = 0; i < logits.length; i++) logits[i] = (float) random.nextGaussian() * 3;
    Set<Integer> allowed = Set.of(0, 15, 16, 63, 64, 700, VOCAB - 1);
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray x = m.create(logits, new Shape(3, VOCAB));
      SamplingParams greedy = SamplingParams.greedy(8);
      SamplingParams hot = SamplingParams.builder().temperature(2).build();
      for (int draw = 0; draw < 50; draw++) {
        double u = random.nextDouble();
        List<SamplingRow> rows = List.of(
            new SamplingRow(greedy, 0, new int[] {1}, 1, 0, new int[0], mask(allowed)),
            new SamplingRow(greedy, 0, new int[] {1}, 1, 0, new int[0], null),
            new SamplingRow(hot, u, new int[] {1}, 1, 0, new int[0], mask(allowed)));
        int[] tokens = new Sampler().sample(x, rows, m).tokens();
        int best = -1;
        for (int id : allowed) if (best < 0 || logits[id] > logits[best]) best = id;
        assertEquals(best, tokens[0]);
        int unmasked = 0;
        for (int id = 1; id < VOCAB; id++) if (logits[VOCAB + id] > logits[VOCAB + unmasked]) unmasked = id;
        assertEquals(unmasked, tokens[1]);
        assertTrue(allowed.contains(tokens[2]), "sampled " + tokens[2]);
      }
    }
  }

  /** Row i allows only token i: every bit position of the packed mask lands on its own token. */
  @Test
  void everyBitPositionSelectsItsOwnToken() {
    Random random = new Random(9);
    float[] logits = new float[VOCAB * VOCAB];
    for (int i = 0; i < logits.length; i++) logits[i] = (float) random.nextGaussian();
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray x = m.create(logits, new Shape(VOCAB, VOCAB));
      List<SamplingRow> rows = new java.util.ArrayList<>();
      for (int id = 0; id < VOCAB; id++) {
        rows.add(new SamplingRow(SamplingParams.greedy(8), 0, new int[] {1}, 1, 0, new int[0], mask(Set.of(id))));
      }
      int[] tokens = new Sampler().sample(x, rows, m).tokens();
      for (int id = 0; id < VOCAB; id++) assertEquals(id, tokens[id], "row " + id);
    }
  }
}
