package barista.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;

/**
 * The parts of a Hugging Face config.json the engine uses. Reads both the transformers 4.x style
 * (top-level rope_theta, torch_dtype) and the 5.x style (rope_parameters, dtype, null token ids).
 *
 * @param torchDtype the stored weight dtype name ("bfloat16", ...), or null when the file names none
 * @param bosTokenId null when unset
 * @param eosTokenIds empty when unset
 * @param quantizationConfig the raw quantization_config object, or null for 16-bit checkpoints
 */
public record ModelConfig(
    String architecture,
    String modelType,
    int hiddenSize,
    int intermediateSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int headDim,
    int vocabSize,
    double ropeTheta,
    double rmsNormEps,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    boolean attentionBias,
    boolean mlpBias,
    String torchDtype,
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    JsonNode quantizationConfig) {

  public static final String QWEN2 = "Qwen2ForCausalLM";
  public static final String LLAMA = "LlamaForCausalLM";
  public static final List<String> SUPPORTED_ARCHITECTURES = List.of(QWEN2, LLAMA);

  /** rope_theta's default in transformers, used only when no config field names one. */
  private static final double DEFAULT_ROPE_THETA = 10000;

  public static ModelConfig read(Path configJson) {
    return parse(JsonFiles.read(configJson), configJson.toString());
  }

  /** Parses a config.json tree; source names the file in error messages. */
  public static ModelConfig parse(JsonNode root, String source) {
    JsonNode architectures = root.path("architectures");
    String architecture = architectures.isArray() && !architectures.isEmpty() ? architectures.get(0).asText() : null;
    if (!SUPPORTED_ARCHITECTURES.contains(architecture)) {
      throw new CheckpointException(source + ": unsupported architecture " + architecture + " (supported: "
          + String.join(", ", SUPPORTED_ARCHITECTURES) + ")");
    }
    boolean qwen2 = architecture.equals(QWEN2);
    JsonNode ropeParameters = root.path("rope_parameters");
    JsonNode ropeScaling = root.path("rope_scaling");
    rejectRopeScaling(ropeParameters, source);
    rejectRopeScaling(ropeScaling, source);

    int hidden = JsonFiles.requiredInt(root, "hidden_size", source);
    int heads = JsonFiles.requiredInt(root, "num_attention_heads", source);
    int kvHeads = JsonFiles.optionalInt(root, "num_key_value_heads", heads, source);
    if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
      throw new CheckpointException(source + ": num_attention_heads " + heads
          + " is not a multiple of num_key_value_heads " + kvHeads);
    }
    if (!root.hasNonNull("head_dim") && hidden % heads != 0) {
      throw new CheckpointException(source + ": hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
    }
    int headDim = JsonFiles.optionalInt(root, "head_dim", hidden / heads, source);

    double ropeTheta = JsonFiles.optionalDouble(root, "rope_theta",
        JsonFiles.optionalDouble(ropeParameters, "rope_theta",
            JsonFiles.optionalDouble(ropeScaling, "rope_theta", DEFAULT_ROPE_THETA, source), source), source);
    String dtype = root.hasNonNull("torch_dtype") ? root.get("torch_dtype").asText()
        : root.hasNonNull("dtype") ? root.get("dtype").asText() : null;
    JsonNode quantization = root.get("quantization_config");

    return new ModelConfig(
        architecture,
        root.path("model_type").asText(qwen2 ? "qwen2" : "llama"),
        hidden,
        JsonFiles.requiredInt(root, "intermediate_size", source),
        JsonFiles.requiredInt(root, "num_hidden_layers", source),
        heads,
        kvHeads,
        headDim,
        JsonFiles.requiredInt(root, "vocab_size", source),
        ropeTheta,
        JsonFiles.optionalDouble(root, "rms_norm_eps", 1e-6, source),
        // The defaults of Qwen2Config and LlamaConfig in transformers.
        JsonFiles.optionalInt(root, "max_position_embeddings", qwen2 ? 32768 : 2048, source),
        root.path("tie_word_embeddings").asBoolean(false),
        qwen2 || root.path("attention_bias").asBoolean(false), // Qwen2 always has q/k/v biases
        root.path("mlp_bias").asBoolean(false),
        dtype,
        root.hasNonNull("bos_token_id") ? JsonFiles.requiredInt(root, "bos_token_id", source) : null,
        JsonFiles.tokenIds(root, "eos_token_id", source),
        quantization == null || quantization.isNull() ? null : quantization);
  }

  /** Only plain RoPE is implemented; scaled variants (linear, dynamic, yarn, llama3, ...) must not load silently. */
  private static void rejectRopeScaling(JsonNode rope, String source) {
    if (!rope.isObject()) return;
    String type = rope.path("rope_type").asText(rope.path("type").asText("default"));
    if (!type.equals("default")) {
      throw new CheckpointException(source + ": unsupported rope scaling type " + type + " (only default RoPE is supported)");
    }
  }
}
