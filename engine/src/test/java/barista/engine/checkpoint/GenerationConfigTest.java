package barista.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class GenerationConfigTest {

  @Test
  void readsTheReferenceFile() throws Exception {
    GenerationConfig g = GenerationConfig.parse(JsonFiles.MAPPER.readTree(R1DistillFiles.GENERATION_CONFIG_JSON),
        "generation_config.json", model());
    assertEquals(new GenerationConfig(0.6, 0.95, -1, 1.0, List.of(151643), 151646), g);
  }

  @Test
  void fillsAbsentFieldsWithDefaultsAndTheModelsTokenIds() throws Exception {
    GenerationConfig g = GenerationConfig.parse(JsonFiles.MAPPER.readTree("{\"top_k\": 0}"), "generation_config.json", model());
    assertEquals(new GenerationConfig(1.0, 1.0, -1, 1.0, List.of(151643), 151643), g);
    assertEquals(g, GenerationConfig.defaults(model()));
  }

  @Test
  void readsEosListsAndTopK() throws Exception {
    GenerationConfig g = GenerationConfig.parse(JsonFiles.MAPPER.readTree(
        "{\"eos_token_id\": [7, 9], \"top_k\": 20, \"repetition_penalty\": 1.1}"), "generation_config.json", model());
    assertEquals(List.of(7, 9), g.eosTokenIds());
    assertEquals(20, g.topK());
    assertEquals(1.1, g.repetitionPenalty());
  }

  private static ModelConfig model() throws Exception {
    return ModelConfig.parse(ModelConfigTest.reference(), "config.json");
  }
}
