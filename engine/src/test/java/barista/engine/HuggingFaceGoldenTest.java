package barista.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.sampling.SamplingParams;
import barista.kvcache.KvCacheManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/**
 * Our engine against Hugging Face transformers: fixtures/golden-logits-tiny.json holds the float32 logits that
 * transformers computed for the tiny checkpoint (seed 0) on a GPU machine (scripts/make-golden-logits.py); the test
 * regenerates the same checkpoint here and must agree to 1e-3 at every position, through a 12-token prefill and
 * then one decode step per position.
 */
class HuggingFaceGoldenTest {

  @Test
  void logitsMatchTransformers() throws IOException {
    JsonNode golden;
    try (InputStream in = getClass().getResourceAsStream("/fixtures/golden-logits-tiny.json")) {
      golden = new ObjectMapper().readTree(in);
    }
    int n = golden.get("tokens").size();
    int[] tokens = new int[n];
    for (int i = 0; i < n; i++) tokens[i] = golden.get("tokens").get(i).asInt();
    try (ModelRunner runner = TestModels.cpuRunner(TestModels.tiny(), 16, 8)) {
      int vocab = runner.modelConfig().vocabSize();
      for (int i = 0; i < n; i++) assertEquals((i * 37 + 11) % vocab, tokens[i], "fixture token sequence");
      KvCacheManager kv = new KvCacheManager(runner.numBlocks(), runner.blockSize(), false);
      int computed = 0;
      double worst = 0;
      for (int end = 12; end <= n; end++) {
        kv.allocateSlots(0, computed, end - computed);
        float[] logits = runner.logitsForTest(ScheduledSequences.plain(0, tokens, end, 0, computed, end - computed,
            kv.blockTable(0).toArray(), true, SamplingParams.greedy(1)));
        JsonNode expected = golden.get("logits").get(end - 1);
        assertEquals(vocab, expected.size());
        for (int v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(logits[v] - expected.get(v).asDouble()));
        computed = end;
      }
      assertTrue(worst < 1e-3, "max |logit - transformers| = " + worst);
    }
  }
}
