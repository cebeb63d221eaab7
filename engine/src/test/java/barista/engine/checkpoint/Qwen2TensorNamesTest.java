package barista.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.checkpoint.Qwen2TensorNames.Projection;
import org.junit.jupiter.api.Test;

/** The names as transformers' Qwen2ForCausalLM writes them (spelled out here, not built from the class). */
class Qwen2TensorNamesTest {
  @Test
  void namesAreTransformersStateDictKeys() {
    assertEquals("model.layers.3.self_attn.q_proj", Projection.Q.module(3));
    assertEquals("model.layers.0.mlp.down_proj.weight", Projection.DOWN.weight(0));
    assertEquals("model.layers.27.input_layernorm.weight", Qwen2TensorNames.inputLayernorm(27));
    assertEquals("model.layers.1.post_attention_layernorm.weight", Qwen2TensorNames.postAttentionLayernorm(1));
    assertEquals("model.embed_tokens.weight", Qwen2TensorNames.EMBED_TOKENS);
    assertEquals("model.norm.weight", Qwen2TensorNames.FINAL_NORM);
    assertEquals("lm_head.weight", Qwen2TensorNames.LM_HEAD);
  }

  @Test
  void onlyTheSevenProjectionWeightsOfALayerAreQuantizable() {
    for (String p : new String[] {"self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o", "mlp.gate", "mlp.up",
        "mlp.down"}) {
      assertTrue(Qwen2TensorNames.isProjectionWeight("model.layers.12." + p + "_proj.weight"), p);
      assertFalse(Qwen2TensorNames.isProjectionWeight("model.layers.12." + p + "_proj.bias"), p);
    }
    assertFalse(Qwen2TensorNames.isProjectionWeight("model.layers.0.input_layernorm.weight"));
    assertFalse(Qwen2TensorNames.isProjectionWeight("lm_head.weight"));
    assertFalse(Qwen2TensorNames.isProjectionWeight("model.embed_tokens.weight"));
    assertFalse(Qwen2TensorNames.isProjectionWeight("model.layers.x.mlp.up_proj.weight"));
  }

  @Test
  void layerOfReadsTheLayerIndex() {
    assertEquals(27, Qwen2TensorNames.layerOf("model.layers.27.mlp.up_proj.weight"));
    assertEquals(-1, Qwen2TensorNames.layerOf("model.norm.weight"));
    assertEquals(-1, Qwen2TensorNames.layerOf("lm_head.weight"));
    assertEquals(-1, Qwen2TensorNames.layerOf("model.layers.99999999999.mlp.up_proj.weight"));
  }
}
