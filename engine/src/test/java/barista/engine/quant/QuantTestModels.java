package barista.engine.quant;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import barista.engine.TestModels;
import barista.engine.model.DjlAttention;
import barista.engine.model.ForwardBatch;
import barista.engine.model.ModelGeometry;
import barista.engine.model.PagedKvCache;
import barista.engine.model.Qwen2Model;
import barista.engine.model.StepInputs;
import barista.engine.tools.CheckpointQuantizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/** The tiny checkpoint quantized by our quantizer (once per JVM), and a way to read a loaded model's logits. */
final class QuantTestModels {
  private static final Map<Quantization.Method, Path> made = new EnumMap<>(Quantization.Method.class);

  private QuantTestModels() {}

  /** TestModels.tiny() written as AWQ-GEMM (group 16: tiny's intermediate size is 176) or W8A16 pack-quantized. */
  static synchronized Path tiny(Quantization.Method method) {
    return made.computeIfAbsent(method, m -> {
      try {
        Path dir = Files.createTempDirectory("barista-tiny-" + m);
        CheckpointQuantizer.quantize(TestModels.tiny(), dir, m, null);
        dir.toFile().deleteOnExit();
        return dir;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** The token sequence of the golden fixtures: (i * 37 + 11) % vocab. */
  static int[] tokens(int n, int vocab) {
    int[] t = new int[n];
    for (int i = 0; i < n; i++) t[i] = (i * 37 + 11) % vocab;
    return t;
  }

  /**
   * Float32 logits at positions {@code prefill - 1 .. tokens.length - 1}: a prefill of {@code prefill} tokens, then
   * one decode step per further token, over a paged cache of 16-token blocks.
   */
  static float[][] logits(Qwen2Model model, NDManager manager, int[] tokens, int prefill) {
    ModelGeometry g = model.geometry();
    int bs = 16;
    int[] table = new int[(tokens.length + bs - 1) / bs];
    for (int b = 0; b < table.length; b++) table[b] = b + 1;
    float[][] out = new float[tokens.length - prefill + 1][];
    try (PagedKvCache cache = new PagedKvCache(manager, g.numLayers(), table.length + 1, bs, g.numKvHeads(),
        g.headDim(), model.dtype())) {
      int computed = 0;
      for (int end = prefill; end <= tokens.length; end++) {
        int n = end - computed;
        int[] ids = new int[n];
        int[] pos = new int[n];
        long[] slots = new long[n];
        for (int k = 0; k < n; k++) {
          int p = computed + k;
          ids[k] = tokens[p];
          pos[k] = p;
          slots[k] = (long) table[p / bs] * bs + p % bs;
        }
        ForwardBatch batch = new ForwardBatch(ids, pos, slots, new int[] {0}, new int[] {n}, new int[] {end},
            new int[][] {table}, new boolean[] {true});
        try (NDManager step = manager.newSubManager()) {
          DjlAttention attention = new DjlAttention(cache, g, model.dtype());
          out[end - prefill] = model.forward(StepInputs.upload(batch, attention, step), attention, step)
              .toFloatArray();
        }
        computed = end;
      }
    }
    return out;
  }

  static NDManager cpu() {
    return NDManager.newBaseManager(Device.cpu(), "PyTorch");
  }
}
