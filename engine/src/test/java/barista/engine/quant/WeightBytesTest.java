package barista.engine.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import barista.engine.TestModels;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.linear.LinearLayer;
import barista.engine.model.ModelGeometry;
import barista.engine.model.ModelLoader;
import barista.engine.model.Qwen2Model;
import barista.engine.model.WeightBytes;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Device bytes of the weights: the geometry formula is exact for loaded models, then applied to R1-Distill-1.5B. */
class WeightBytesTest {

  /** DeepSeek-R1-Distill-Qwen-1.5B's config.json: 28 layers, hidden 1536, 12/2 heads of 128, 8960, 151936, untied. */
  private static final ModelGeometry R1_DISTILL =
      new ModelGeometry(28, 1536, 12, 2, 128, 8960, 151936, 10000, 1e-6, 4096, true, false);

  @Test
  void formulaCountsExactlyWhatTheLoadedModelsHold() {
    int group = 16; // what the quantizer picks for tiny
    for (DataType dtype : new DataType[] {DataType.FLOAT16, DataType.FLOAT32}) {
      assertEquals(WeightBytes.of(geometry(TestModels.tiny()), dtype, null, 0), loaded(TestModels.tiny(), dtype, null));
      assertEquals(WeightBytes.of(geometry(TestModels.tiny()), dtype, Quantization.Method.INT8, 0),
          loaded(TestModels.tiny(), dtype, Quantization.Method.INT8));
      for (Quantization.Method method : Quantization.Method.values()) {
        Path dir = QuantTestModels.tiny(method);
        assertEquals(WeightBytes.of(geometry(dir), dtype, method, group), loaded(dir, dtype, null), method + " " + dtype);
      }
    }
  }

  @Test
  void r1DistillFitsTheMemoryTargets() {
    long fp16 = WeightBytes.of(R1_DISTILL, DataType.FLOAT16, null, 0);
    long awq = WeightBytes.of(R1_DISTILL, DataType.FLOAT16, Quantization.Method.AWQ, 128);
    long int8 = WeightBytes.of(R1_DISTILL, DataType.FLOAT16, Quantization.Method.INT8, 0);
    assertEquals(2 * 1_777_088_000L, fp16, "1.78 B parameters in 16 bits");
    assertTrue(awq <= fp16 / 2, "AWQ " + awq + " bytes vs fp16 " + fp16);
    assertTrue(int8 <= fp16 * 0.65, "INT8 " + int8 + " bytes vs fp16 " + fp16);
    // The figures docs/performance.md quotes ("Weight sizes"): a change here must change the doc too.
    assertEquals(3_554_176_000L, fp16);
    assertEquals(1_629_826_048L, awq);
    assertEquals(2_245_270_528L, int8);
  }

  /** A device path's replacement sees every linear once (four a layer and the LM head) and the bytes stay counted. */
  @Test
  void replacingLinearsVisitsEachOnceAndKeepsTheirBytes() {
    try (Checkpoint ckpt = Checkpoint.open(TestModels.tiny()); NDManager manager = QuantTestModels.cpu();
        Qwen2Model model = ReferenceLoads.load(ckpt, manager, DataType.FLOAT32, 64, null)) {
      long before = model.weightBytes();
      Set<LinearLayer> seen = Collections.newSetFromMap(new IdentityHashMap<>());
      model.replaceLinears(l -> {
        assertTrue(seen.add(l), "visited twice: " + l.describe());
        return l;
      });
      assertEquals(4 * model.geometry().numLayers() + 1, seen.size());
      assertEquals(before, model.weightBytes());
    }
  }

  private static ModelGeometry geometry(Path dir) {
    try (Checkpoint ckpt = Checkpoint.open(dir)) {
      return ModelLoader.geometry(ckpt.config(), 64);
    }
  }

  private static long loaded(Path dir, DataType dtype, Quantization.Method quantization) {
    try (Checkpoint ckpt = Checkpoint.open(dir); NDManager manager = QuantTestModels.cpu();
        Qwen2Model model = ReferenceLoads.load(ckpt, manager, dtype, 64, quantization)) {
      return model.weightBytes();
    }
  }
}
