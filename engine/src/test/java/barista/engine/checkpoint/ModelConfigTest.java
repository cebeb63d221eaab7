package barista.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

    @Test
    void readsTheReferenceConfigInTransformers4Style() throws Exception {
        ModelConfig c = ModelConfig.parse(reference(), "config.json");
        assertEquals("Qwen2ForCausalLM", c.architecture());
        assertEquals("qwen2", c.modelType());
        assertEquals(1536, c.hiddenSize());
        assertEquals(8960, c.intermediateSize());
        assertEquals(28, c.numLayers());
        assertEquals(12, c.numHeads());
        assertEquals(2, c.numKvHeads());
        assertEquals(128, c.headDim());
        assertEquals(151936, c.vocabSize());
        assertEquals(10000, c.ropeTheta());
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(131072, c.maxPositionEmbeddings());
        assertFalse(c.tieWordEmbeddings());
        assertTrue(c.attentionBias(), "Qwen2 has q/k/v biases");
        assertFalse(c.mlpBias());
        assertEquals("bfloat16", c.torchDtype());
        assertEquals(151643, c.bosTokenId());
        assertEquals(List.of(151643), c.eosTokenIds());
        assertNull(c.quantizationConfig());
    }

    @Test
    void readsTransformers5Style() throws Exception {
        ObjectNode v5 = reference();
        v5.remove(List.of("rope_theta", "torch_dtype", "transformers_version"));
        // A theta other than the 10000 default proves that rope_parameters is read, not defaulted.
        v5.putObject("rope_parameters").put("rope_theta", 1000000.0).put("rope_type", "default");
        v5.put("dtype", "bfloat16");
        v5.putNull("bos_token_id");
        v5.putNull("eos_token_id");
        v5.putNull("rope_scaling");
        v5.putArray("layer_types").add("full_attention").add("full_attention");
        v5.put("transformers_version", "5.17.0");

        ModelConfig c = ModelConfig.parse(v5, "config.json");
        assertEquals(1000000, c.ropeTheta());
        assertEquals("bfloat16", c.torchDtype());
        assertNull(c.bosTokenId());
        assertEquals(List.of(), c.eosTokenIds());
        assertEquals(128, c.headDim());
    }

    @Test
    void bothStylesOfTheSameModelAgreeApartFromTokenIds() throws Exception {
        ObjectNode v5 = reference();
        v5.remove(List.of("rope_theta", "torch_dtype"));
        v5.putObject("rope_parameters").put("rope_theta", 10000.0).put("rope_type", "default");
        v5.put("dtype", "bfloat16");
        assertEquals(ModelConfig.parse(reference(), "a"), ModelConfig.parse(v5, "b"));
    }

    @Test
    void rejectsScaledRope() throws Exception {
        ObjectNode yarn = reference();
        yarn.putObject("rope_scaling").put("type", "yarn").put("factor", 4.0);
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.parse(yarn, "cfg/config.json"));
        assertTrue(e.getMessage().contains("yarn") && e.getMessage().contains("cfg/config.json"), e.getMessage());

        ObjectNode llama3 = reference();
        llama3.putObject("rope_parameters").put("rope_type", "llama3").put("rope_theta", 500000.0);
        e = assertThrows(CheckpointException.class, () -> ModelConfig.parse(llama3, "config.json"));
        assertTrue(e.getMessage().contains("llama3"), e.getMessage());
    }

    @Test
    void rejectsUnknownArchitectureNamingTheSupportedOnes() throws Exception {
        ObjectNode mistral = reference();
        mistral.putArray("architectures").add("MistralForCausalLM");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.parse(mistral, "m/config.json"));
        assertEquals("m/config.json: unsupported architecture MistralForCausalLM (supported: Qwen2ForCausalLM, LlamaForCausalLM)",
                e.getMessage());
    }

    @Test
    void appliesLlamaDefaults() throws Exception {
        JsonNode llama = JsonFiles.MAPPER.readTree("""
                {"architectures": ["LlamaForCausalLM"], "hidden_size": 256, "intermediate_size": 512,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "head_dim": 32, "vocab_size": 1000,
                 "eos_token_id": [1, 2], "rope_theta": 500000.0, "mlp_bias": true, "tie_word_embeddings": true}
                """);
        ModelConfig c = ModelConfig.parse(llama, "config.json");
        assertEquals("llama", c.modelType());
        assertEquals(4, c.numKvHeads(), "kv heads default to heads");
        assertEquals(32, c.headDim(), "explicit head_dim wins over hidden/heads");
        assertFalse(c.attentionBias());
        assertTrue(c.mlpBias());
        assertTrue(c.tieWordEmbeddings());
        assertEquals(List.of(1, 2), c.eosTokenIds());
        assertEquals(500000, c.ropeTheta());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertNull(c.torchDtype());
    }

    @Test
    void defaultsRopeThetaOnlyWhenNoFieldNamesIt() throws Exception {
        ObjectNode none = reference();
        none.remove("rope_theta");
        assertEquals(10000, ModelConfig.parse(none, "config.json").ropeTheta());
        ObjectNode inScaling = reference();
        inScaling.remove("rope_theta");
        inScaling.putObject("rope_scaling").put("rope_type", "default").put("rope_theta", 20000.0);
        assertEquals(20000, ModelConfig.parse(inScaling, "config.json").ropeTheta());
    }

    @Test
    void namesAMissingOrInconsistentField() throws Exception {
        ObjectNode missing = reference();
        missing.remove("hidden_size");
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelConfig.parse(missing, "config.json"));
        assertEquals("config.json: missing or invalid hidden_size", e.getMessage());

        ObjectNode heads = reference();
        heads.put("num_key_value_heads", 5);
        e = assertThrows(CheckpointException.class, () -> ModelConfig.parse(heads, "config.json"));
        assertTrue(e.getMessage().contains("num_key_value_heads 5"), e.getMessage());
    }

    @Test
    void keepsTheRawQuantizationConfig() throws Exception {
        ObjectNode awq = reference();
        awq.putObject("quantization_config").put("quant_method", "awq").put("bits", 4).put("group_size", 128);
        JsonNode q = ModelConfig.parse(awq, "config.json").quantizationConfig();
        assertEquals("awq", q.get("quant_method").asText());
        assertEquals(128, q.get("group_size").asInt());
    }

    static ObjectNode reference() throws Exception {
        return (ObjectNode) JsonFiles.MAPPER.readTree(R1DistillFiles.CONFIG_JSON);
    }
}
