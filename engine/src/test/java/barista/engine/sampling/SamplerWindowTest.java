package barista.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
 * the first window and rows that keep the whole vocabulary.
 */
class SamplerWindowTest {

  @Test
  void theWindowPathDrawsWhatTheHostPathDraws() {
    SplittableRandom random = new SplittableRandom(5);
    int vocab = 3000, n = 24;
    float[] flat = new float[n * vocab];
    List<SamplingRow> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double spread = i % 3 == 0 ? 0.05 : i % 3 == 1 ? 2 : 12; // flat rows spill past the first window
      for (int t = 0; t < vocab; t++) flat[i * vocab + t] = (float) (spread * random.nextDouble() + 1e-5 * t);
      SamplingParams.Builder p = SamplingParams.builder().temperature(i % 4 == 0 ? 0 : 0.7);
      if (i % 5 == 1) p.topK(1 + random.nextInt(600));
      if (i % 2 == 0) p.topP(0.95);
      if (i % 7 == 3) p.minP(0.1);
      rows.add(new SamplingRow(p.build(), random.nextDouble(), new int[] {0}, 1, 0, new int[0]));
    }
    try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
      int[] host = new Sampler().sample(m.create(flat, new Shape(n, vocab)), rows, m).tokens();
      int[] window = new Sampler(Sampler::maskWithDjlOps, false).sample(m.create(flat, new Shape(n, vocab)), rows, m)
          .tokens();
      assertArrayEquals(host, window);
    }
  }
}
