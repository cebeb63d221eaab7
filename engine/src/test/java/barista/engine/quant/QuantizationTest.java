package barista.engine.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.checkpoint.CheckpointException;
import barista.engine.checkpoint.ModelConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** --quantization against config.json's quantization_config. */
class QuantizationTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String AWQ = "{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":128,\"zero_point\":true,\"version\":\"gemm\"}";
  private static final String W8A16 = "{\"quant_method\":\"compressed-tensors\",\"format\":\"pack-quantized\",\"ignore\":[\"lm_head\"],"
      + "\"config_groups\":{\"group_0\":{\"targets\":[\"Linear\"],\"weights\":{\"num_bits\":8,\"type\":\"int\","
      + "\"symmetric\":true,\"strategy\":\"channel\"}}}}";

  @Test
  void theOptionNamesAMethodOrNone() {
    assertNull(Quantization.Method.of(null));
    assertNull(Quantization.Method.of("None"));
    assertEquals(Quantization.Method.AWQ, Quantization.Method.of("AWQ"));
    assertEquals(Quantization.Method.INT8, Quantization.Method.of("int8"));
    assertEquals("--quantization must be none, awq or int8, got fp8",
        assertThrows(IllegalArgumentException.class, () -> Quantization.Method.of("fp8")).getMessage());
  }

  @Test
  void sixteenBitCheckpoints() {
    assertNull(resolve(null, null));
    assertNull(resolve(null, "none"));
    Quantization q = resolve(null, "int8");
    assertEquals(Quantization.Method.INT8, q.method());
    assertTrue(q.quantizeOnLoad());
    assertEquals("--quantization awq needs an AWQ checkpoint, but config.json has no quantization_config",
        assertThrows(CheckpointException.class, () -> resolve(null, "awq")).getMessage());
  }

  @Test
  void awqIsDetectedOrChecked() {
    Quantization detected = resolve(AWQ, null);
    assertEquals(new Quantization(Quantization.Method.AWQ, 128, false, true), detected);
    assertEquals(new Quantization(Quantization.Method.AWQ, 128, false, false), resolve(AWQ, "awq"));
    assertFails(AWQ.replace("\"bits\":4", "\"bits\":8"), "awq", "bits is 8");
    assertFails(AWQ.replace("gemm", "gemv"), "awq", "version is gemv");
    assertFails(AWQ.replace("\"zero_point\":true", "\"zero_point\":false"), "awq", "zero_point is false");
    assertFails(AWQ, "int8", "quant_method awq");
    assertFails(W8A16, "awq", "quant_method compressed-tensors");
  }

  @Test
  void compressedTensorsIsDetectedOrChecked() {
    assertEquals(new Quantization(Quantization.Method.INT8, 0, false, true), resolve(W8A16, null));
    assertEquals(new Quantization(Quantization.Method.INT8, 0, false, false), resolve(W8A16, "int8"));
    assertFails(W8A16.replace("\"num_bits\":8", "\"num_bits\":4"), null, "not symmetric 8-bit int");
    assertFails(W8A16.replace("pack-quantized", "float-quantized"), null, "format float-quantized");
    assertFails("{\"quant_method\":\"gptq\",\"bits\":4}", null, "unsupported quantization_config.quant_method gptq");
  }

  private static void assertFails(String qc, String requested, String detail) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> resolve(qc, requested));
    assertTrue(e.getMessage().contains(detail) && e.getMessage().contains("config.json"), e.getMessage());
  }

  private static Quantization resolve(String quantizationConfig, String requested) {
    try {
      ObjectNode root = (ObjectNode) JSON.readTree("{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":64,"
          + "\"intermediate_size\":176,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,"
          + "\"vocab_size\":512}");
      if (quantizationConfig != null) root.set("quantization_config", JSON.readTree(quantizationConfig));
      return Quantization.resolve(ModelConfig.parse(root, "config.json"), Quantization.Method.of(requested),
          "config.json");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
