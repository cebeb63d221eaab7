package barista.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;

/** --device and --dtype as the engine takes them: each spelling vLLM accepts, and the refusals' messages. */
class EngineConfigTest {

  @Test
  void dtypeNamesAndAuto() {
    assertEquals(DataType.FLOAT16, EngineConfig.dtypeOf("auto", Device.gpu()));
    assertEquals(DataType.FLOAT32, EngineConfig.dtypeOf("auto", Device.cpu()));
    assertEquals(DataType.FLOAT32, EngineConfig.dtypeOf(null, Device.cpu()));
    for (String half : new String[] {"half", "float16", "Float16"}) {
      assertEquals(DataType.FLOAT16, EngineConfig.dtypeOf(half, Device.cpu()), half);
    }
    for (String single : new String[] {"float", "float32"}) {
      assertEquals(DataType.FLOAT32, EngineConfig.dtypeOf(single, Device.gpu()), single);
    }
    assertEquals("--dtype must be auto, half, float16, float or float32, got float64",
        assertThrows(IllegalArgumentException.class, () -> EngineConfig.dtypeOf("float64", Device.cpu()))
            .getMessage());
    assertEquals("--dtype bfloat16 is not supported (DJL 0.36 cannot hold bf16 tensors); bf16 checkpoints load as "
        + "float16 on CUDA and float32 on CPU: use --dtype auto",
        assertThrows(IllegalArgumentException.class, () -> EngineConfig.dtypeOf("bfloat16", Device.cpu()))
            .getMessage());
  }

  @Test
  void deviceNames() {
    assertEquals(Device.cpu(), EngineConfig.deviceOf("cpu"));
    assertEquals(Device.cpu(), EngineConfig.deviceOf("CPU"));
    assertEquals("--device must be auto, cpu, cuda or cuda:N, got tpu",
        assertThrows(IllegalArgumentException.class, () -> EngineConfig.deviceOf("tpu")).getMessage());
    assertEquals("--device cuda:64: " + ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount()
        + " CUDA device(s) visible",
        assertThrows(IllegalArgumentException.class, () -> EngineConfig.deviceOf("cuda:64")).getMessage());
  }
}
