package barista.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** --max-model-len omitted (0): the model's max_position_embeddings, capped by what the KV cache holds. */
class DefaultMaxModelLenTest {

  private static EngineConfig config(double kvCacheGiB) {
    Path tiny = TestModels.tiny(); // max_position_embeddings 4096
    return new EngineConfig(tiny, Device.cpu(), DataType.FLOAT32, 0, 16, 0.9, kvCacheGiB, 8192, 1, 0, null, 0);
  }

  @Test
  void theModelsLengthWhenTheCacheHoldsIt() {
    try (ModelRunner runner = ModelRunner.start(config(0.01))) {
      assertEquals(4096, runner.maxModelLen());
    }
  }

  @Test
  void cappedToTheCacheWhenItHoldsLess() {
    // The tiny model's KV is 512 bytes a token in float32: 0.0001 GiB is 13 blocks of 16, one of them the null block.
    try (ModelRunner runner = ModelRunner.start(config(0.0001))) {
      assertEquals(12 * 16, runner.maxModelLen());
    }
  }
}
