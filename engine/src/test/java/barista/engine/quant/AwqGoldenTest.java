package barista.engine.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.model.Qwen2Model;
import barista.engine.tools.CheckpointQuantizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * Our AWQ path against an independent one: fixtures/golden-logits-tiny-awq.json holds the float32 logits that
 * transformers computed on the AWQ tiny checkpoint (our quantizer, seed-0 tiny) after dequantizing it with
 * scripts/make-awq-golden.py, written from the format description. Skipped until the fixture exists.
 */
class AwqGoldenTest {

  @Test
  void logitsMatchTransformersOnIndependentlyDequantizedWeights() throws IOException {
    JsonNode golden;
    try (InputStream in = getClass().getResourceAsStream("/fixtures/golden-logits-tiny-awq.json")) {
      assertNotNull(in, "fixtures/golden-logits-tiny-awq.json is missing (scripts/make-awq-golden.py makes it)");
      golden = new ObjectMapper().readTree(in);
    }
    try (Checkpoint ckpt = Checkpoint.open(QuantTestModels.tiny(Quantization.Method.AWQ));
        NDManager manager = QuantTestModels.cpu();
        Qwen2Model model = ReferenceLoads.load(ckpt, manager, DataType.FLOAT32, 64)) {
      int vocab = ckpt.config().vocabSize();
      int n = golden.get("tokens").size();
      int[] tokens = QuantTestModels.tokens(n, vocab);
      for (int i = 0; i < n; i++) assertEquals(tokens[i], golden.get("tokens").get(i).asInt(), "fixture token " + i);
      assertEquals(CheckpointQuantizer.awqGroupSize(ckpt.config()), golden.get("group_size").asInt());
      int prefill = 12;
      float[][] logits = QuantTestModels.logits(model, manager, tokens, prefill);
      double worst = 0;
      for (int k = 0; k < logits.length; k++) {
        JsonNode expected = golden.get("logits").get(prefill - 1 + k);
        assertEquals(vocab, expected.size());
        for (int v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(logits[k][v] - expected.get(v).asDouble()));
      }
      assertTrue(worst < 1e-3, "max |logit - transformers| = " + worst);
    }
  }
}
