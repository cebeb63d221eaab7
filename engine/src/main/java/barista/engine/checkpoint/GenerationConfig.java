package barista.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;

/**
 * Sampling defaults from generation_config.json.
 *
 * @param topK -1 when off (absent or 0 in the file)
 * @param eosTokenIds the file's eos ids, else the model config's
 * @param bosTokenId the file's bos id, else the model config's; null when neither names one
 */
public record GenerationConfig(
    double temperature, double topP, int topK, double repetitionPenalty, List<Integer> eosTokenIds, Integer bosTokenId) {

  public static GenerationConfig read(Path file, ModelConfig model) {
    return parse(JsonFiles.read(file), file.toString(), model);
  }

  /** The defaults used when a model folder has no generation_config.json. */
  public static GenerationConfig defaults(ModelConfig model) {
    return new GenerationConfig(1.0, 1.0, -1, 1.0, model.eosTokenIds(), model.bosTokenId());
  }

  public static GenerationConfig parse(JsonNode root, String source, ModelConfig model) {
    List<Integer> eos = JsonFiles.tokenIds(root, "eos_token_id", source);
    Integer bos = root.hasNonNull("bos_token_id") ? Integer.valueOf(JsonFiles.requiredInt(root, "bos_token_id", source)) : null;
    int topK = JsonFiles.optionalInt(root, "top_k", -1, source);
    return new GenerationConfig(
        JsonFiles.optionalDouble(root, "temperature", 1.0, source),
        JsonFiles.optionalDouble(root, "top_p", 1.0, source),
        topK <= 0 ? -1 : topK,
        JsonFiles.optionalDouble(root, "repetition_penalty", 1.0, source),
        eos.isEmpty() ? model.eosTokenIds() : eos,
        bos != null ? bos : model.bosTokenId());
  }
}
