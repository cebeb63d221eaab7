package barista.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The DJL-op path CUDA takes (the most likely tokens by partial selection, the window grown while a row's support
 * spills over), run on the CPU: every draw equals the host path's, including rows whose top-p set needs more than
 * the first window and rows that keep the whole vocabulary. The host path's weights are within about 1e-5 of the
 * exact exponentials torch computes here (see HostSampling#weights), so two tokens whose weights are that close
 * may be ordered differently and the draw between them differ: such a near tie is allowed, nothing else.
 */
class SamplerWindowTest {

  @Test
  void theWindowPathDrawsWhatTheHostPathDraws() {
    drawsAgree(24, true);
  }

  @Test
  void aTooSmallWindowGrowsToTheVocabularyInTwoRounds() {
    assertEquals(4096, Sampler.nextWindow(Sampler.WINDOW, 151_936));
    assertEquals(151_936, Sampler.nextWindow(4096, 151_936));
    assertEquals(1000, Sampler.nextWindow(Sampler.WINDOW, 1000));
    assertEquals(32_000, Sampler.nextWindow(1024, 32_000));
  }

  /** No greedy row: the draw goes out without the argmax merge. */
  @Test
  void withEveryRowSampledTheWindowPathDrawsWhatTheHostPathDraws() {
    drawsAgree(9, false);
  }

  /** The device's one-launch draw is taken as it comes; a row it leaves (-1) sends the whole step to the window path. */
  @Test
  void aOneLaunchDrawIsTakenUnlessItLeavesARow() {
    SplittableRandom random = new SplittableRandom(11);
    int n = 4, vocab = 50;
    float[] flat = new float[n * vocab];
    for (int i = 0; i < flat.length; i++) flat[i] = (float) (3 * random.nextDouble());
    List<SamplingRow> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(new SamplingRow(SamplingParams.builder().temperature(0.7).topP(0.9).build(), random.nextDouble(),
          new int[] {0}, 1, 0, new int[0]));
    }
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      long[] drawn = {7, 3, 11, 42};
      RowDraw all = (x, params, mm) -> {
        assertEquals(new Shape(n, 7), params.getShape());
        return mm.create(drawn);
      };
      assertArrayEquals(new int[] {7, 3, 11, 42},
          new Sampler(Sampler::maskWithDjlOps, false, all).sample(m.create(flat, new Shape(n, vocab)), rows, m)
              .tokens());
      RowDraw leavesOne = (x, params, mm) -> mm.create(new long[] {7, -1, 11, 42});
      int[] window = new Sampler(Sampler::maskWithDjlOps, false, null)
          .sample(m.create(flat, new Shape(n, vocab)), rows, m).tokens();
      assertArrayEquals(window, new Sampler(Sampler::maskWithDjlOps, false, leavesOne)
          .sample(m.create(flat, new Shape(n, vocab)), rows, m).tokens());
      assertTrue(window[0] != 7 || window[2] != 11 || window[3] != 42, "the window path's own draw, not the kernel's");
    }
  }

  private static void drawsAgree(int n, boolean withGreedyRows) {
    SplittableRandom random = new SplittableRandom(5 + n);
    int vocab = 3000;
    float[] flat = new float[n * vocab];
    List<SamplingRow> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double spread = i % 3 == 0 ? 0.05 : i % 3 == 1 ? 2 : 12; // flat rows spill past the first window
      for (int t = 0; t < vocab; t++) flat[i * vocab + t] = (float) (spread * random.nextDouble() + 1e-5 * t);
      SamplingParams.Builder p = SamplingParams.builder().temperature(withGreedyRows && i % 4 == 0 ? 0 : 0.7);
      if (i % 5 == 1) p.topK(1 + random.nextInt(600));
      if (i % 2 == 0) p.topP(0.95);
      if (i % 7 == 3) p.minP(0.1);
      rows.add(new SamplingRow(p.build(), random.nextDouble(), new int[] {0}, 1, 0, new int[0]));
    }
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      int[] host = new Sampler().sample(m.create(flat, new Shape(n, vocab)), rows, m).tokens();
      Sampler windowed = new Sampler(Sampler::maskWithDjlOps, false, null);
      int[] window = windowed.sample(m.create(flat, new Shape(n, vocab)), rows, m).tokens();
      // Later steps start where this one's window ended (the whole vocabulary here, or from the first window again
      // every 16th step): the draws stay the same.
      for (int step = 0; step < 17; step++) {
        assertArrayEquals(window,
            windowed.sample(m.create(flat, new Shape(n, vocab)), rows, m).tokens(), "step " + step);
      }
      for (int i = 0; i < n; i++) {
        if (host[i] == window[i]) continue;
        double temperature = rows.get(i).params().isGreedy() ? 1 : rows.get(i).params().temperature();
        double apart = Math.abs(flat[i * vocab + host[i]] - flat[i * vocab + window[i]]) / temperature;
        assertTrue(apart < 5e-5, "row " + i + ": the host path drew " + host[i] + ", the window path " + window[i]
            + ", whose weights differ by a factor e^" + apart);
      }
    }
  }
}
