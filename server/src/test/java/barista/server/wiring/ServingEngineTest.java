package barista.server.wiring;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import barista.engine.EngineConfig;
import barista.engine.TestModels;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.GenerationConfig;
import barista.engine.reference.ReferenceQwen2;
import barista.engine.sampling.SamplingParams;
import barista.engine.tokenizer.Tokenizer;
import barista.scheduler.Collector;
import barista.scheduler.FinishReason;
import barista.scheduler.GenerationRequest;
import barista.scheduler.SchedulerConfig;
import java.util.concurrent.TimeUnit;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole engine on the tiny model: weights, tokenizer, template and loop started together, checked end to end. */
class ServingEngineTest {
  private static final int[] PROMPT = {3, 141, 59, 26, 5, 35, 89};

  private static EngineConfig config() {
    return EngineConfig.defaults(TestModels.tiny(), Device.cpu()).withMaxModelLen(256).withBlocks(16, 32);
  }

  private static ServingEngine.SchedulerConfigBuilder scheduling() {
    return len -> new SchedulerConfig(4, 64, true, true, FCFS, len, 100);
  }

  @Test
  void greedyTextIsTheFloat64ReferencesAndItsDecode() throws Exception {
    int[] expected;
    try (Checkpoint ckpt = Checkpoint.open(TestModels.tiny())) {
      expected = new ReferenceQwen2(ckpt.config(), ReferenceQwen2.weightsOf(ckpt)).greedy(PROMPT, 6);
    }
    try (ServingEngine engine = ServingEngine.start(config(), scheduling(), null)) {
      Collector c = new Collector();
      SamplingParams params = SamplingParams.greedy(6).toBuilder().ignoreEos(true).build();
      engine.core().submit(new GenerationRequest("r", PROMPT, params, 0, System.nanoTime()), c);
      Collector.Result r = c.await();
      assertArrayEquals(expected, r.tokens());
      assertEquals(engine.tokenizer().decode(expected, true), r.text(), "streamed through the incremental detokenizer");
      assertEquals(FinishReason.LENGTH, r.finishReason());
      assertEquals(256, engine.facts().maxModelLen());
      assertEquals("Qwen2ForCausalLM", engine.facts().architecture());
      assertTrue(engine.chatTemplates().chat().render(List.of(Map.of("role", "user", "content", "hi")), true, Map.of())
          .contains("<｜User｜>hi<｜Assistant｜>"), "the tokenizer's own (R1) template");
      c.assertNoLateOutput();
      assertTrue(engine.core().status().alive(), "the loop did not die");
      assertTrue(engine.shutdown(Duration.ofSeconds(10)), "idle: drains at once");
    }
  }

  @Test
  void shutdownWithoutGraceAbortsAndCloseStopsTheLoop() throws Exception {
    ServingEngine engine = ServingEngine.start(config(), scheduling(), null);
    try {
      Collector c = new Collector();
      SamplingParams params = SamplingParams.greedy(200).toBuilder().ignoreEos(true).build();
      engine.core().submit(new GenerationRequest("long", PROMPT, params, 0, System.nanoTime()), c);
      c.first.get(10, TimeUnit.SECONDS);
      assertFalse(engine.shutdown(Duration.ZERO), "a running request cannot finish in no time");
      assertEquals(FinishReason.ABORT, c.await().finishReason());
    } finally {
      engine.close();
    }
    assertFalse(engine.core().status().alive(), "close stops the engine loop");
  }

  @Test
  void defaultsComeFromGenerationConfig() {
    try (ServingEngine engine = ServingEngine.start(config(), scheduling(), "{{ bos_token }}[override]")) {
      SamplingParams d = engine.defaults();
      assertEquals(0.6, d.temperature(), "the tiny model's generation_config.json");
      assertEquals(0.95, d.topP());
      assertEquals(-1, d.topK());
      assertNull(d.maxTokens(), "up to the context, as vLLM");
      assertEquals(engine.tokenizer().bosToken() + "[override]",
          engine.chatTemplates().chat().render(List.of(), false, Map.of()));
      assertTrue(engine.chatTemplates().forTools() == engine.chatTemplates().chat(),
          "a template chosen by --chat-template is used for tools too, as it is");
    }
    SamplingParams fromFile = ServingEngine.samplingDefaults(new GenerationConfig(0.3, 0.7, 20, 1.1, List.of(2), 1));
    assertEquals(SamplingParams.builder().temperature(0.3).topP(0.7).topK(20).repetitionPenalty(1.1).maxTokens(null)
        .build(), fromFile);
  }

  @Test
  void anUnreadableTokenizerIsOneLineAndFreesTheModel(@TempDir Path empty) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ServingEngine.start(config(), scheduling(), null, empty));
    assertTrue(e.getMessage().startsWith("cannot read the tokenizer in " + empty + ": "), e.getMessage());
  }

  @Test
  void onlyR1sTemplateGetsBaristasToolTemplateForRequestsWithTools(@TempDir Path other) throws Exception {
    try (Tokenizer tokenizer = Tokenizer.load(TestModels.tiny())) {
      ServingEngine.ChatTemplates templates = ServingEngine.chatTemplates(tokenizer, null);
      assertFalse(templates.chat().mentionsTools(), "the tiny model has R1's published template, which shows no tools");
      assertTrue(templates.forTools().mentionsTools(), "R1's family: barista's tool-aware template");
    }
    // The same tokenizer with a template of no known family: requests with tools have nothing to render with.
    Files.copy(TestModels.tiny().resolve("tokenizer.json"), other.resolve("tokenizer.json"));
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = (ObjectNode) json.readTree(TestModels.tiny().resolve("tokenizer_config.json").toFile());
    config.put("chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}");
    json.writeValue(other.resolve("tokenizer_config.json").toFile(), config);
    try (Tokenizer tokenizer = Tokenizer.load(other)) {
      ServingEngine.ChatTemplates templates = ServingEngine.chatTemplates(tokenizer, null);
      assertEquals("hi", templates.chat().render(List.of(Map.of("role", "user", "content", "hi")), false, Map.of()));
      assertNull(templates.forTools());
    }
  }
}
