package barista.scheduler;

import barista.engine.EngineConfig;
import barista.engine.ModelRunner;
import barista.engine.checkpoint.GenerationConfig;
import barista.engine.sampling.SamplingParams;
import barista.engine.tokenizer.ChatTemplate;
import barista.engine.tokenizer.IncrementalDetokenizer;
import barista.engine.tokenizer.Tokenizer;
import barista.engine.constraint.TokenVocabulary;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Everything one served model needs, started together: weights and KV cache on the device, the tokenizer and chat
 * template, and the engine loop. What the front end and the offline {@code generate} command both build on.
 */
public final class ServingEngine implements AutoCloseable {
  private final ModelRunner runner;
  private final Tokenizer tokenizer;
  private final ChatTemplate chatTemplate;
  private final EngineCore core;
  private final SamplingParams defaults;
  private final CompletableFuture<TokenVocabulary> constraintVocabulary;
  private final boolean chatTemplateOverridden;

  private ServingEngine(ModelRunner runner, Tokenizer tokenizer, ChatTemplate chatTemplate, EngineCore core,
      SamplingParams defaults, int[] eosIds, boolean chatTemplateOverridden) {
    this.chatTemplateOverridden = chatTemplateOverridden;
    this.runner = runner;
    this.tokenizer = tokenizer;
    this.chatTemplate = chatTemplate;
    this.core = core;
    this.defaults = defaults;
    // The vocabulary trie takes a moment for 151,936 tokens: build it beside startup, not on a request's path.
    int maskSize = runner.modelConfig().vocabSize();
    this.constraintVocabulary = CompletableFuture.supplyAsync(
        () -> new TokenVocabulary(tokenizer.regularTokenBytes(maskSize), maskSize,
            eosIds));
  }

  /**
   * Loads the model and starts the engine thread.
   *
   * @param chatTemplateOverride a template to use instead of the tokenizer's, or null
   */
  public static ServingEngine start(EngineConfig engine, SchedulerConfigBuilder scheduling, String chatTemplateOverride) {
    return start(engine, scheduling, chatTemplateOverride, engine.model());
  }

  /** @param tokenizerDir where tokenizer.json and tokenizer_config.json are (usually the model folder) */
  public static ServingEngine start(EngineConfig engine, SchedulerConfigBuilder scheduling, String chatTemplateOverride,
      java.nio.file.Path tokenizerDir) {
    ModelRunner runner = ModelRunner.start(engine); // checks the folder and its config first
    Tokenizer tokenizer;
    try {
      tokenizer = Tokenizer.load(tokenizerDir);
    } catch (IOException | RuntimeException e) {
      runner.close();
      throw new IllegalArgumentException("cannot read the tokenizer in " + tokenizerDir + ": " + e.getMessage(), e);
    }
    try {
      ChatTemplate template = chatTemplateOverride != null
          ? new ChatTemplate(chatTemplateOverride, tokenizer.bosToken(), tokenizer.eosToken())
          : tokenizer.chatTemplate().isPresent() ? ChatTemplate.of(tokenizer) : null;
      GenerationConfig gen = runner.generationConfig();
      Set<Integer> eos = new LinkedHashSet<>(gen.eosTokenIds());
      if (eos.isEmpty()) eos.add(tokenizer.eosId());
      SchedulerConfig config = scheduling.build(runner.maxModelLen());
      EngineCore core = new EngineCore(runner, config,
          new EngineCore.Limits(runner.maxModelLen(), runner.modelConfig().vocabSize(),
              eos.stream().mapToInt(Integer::intValue).toArray()),
          skip -> detokenizer(tokenizer, skip), engine.seed());
      return new ServingEngine(runner, tokenizer, template, core, samplingDefaults(gen),
          eos.stream().mapToInt(Integer::intValue).toArray(), chatTemplateOverride != null);
    } catch (RuntimeException e) {
      runner.close();
      tokenizer.close();
      throw e;
    }
  }

  /**
   * Whether {@code --async-scheduling} is on when not given: off everywhere for now. vLLM's default is on with
   * CUDA, and so will ours be once scripts/gpu-async-check.sh has passed on a GPU (it is tested on the CPU only);
   * on the CPU it stays off, whose steps are computed on the host anyway.
   */
  public static boolean asyncSchedulingByDefault(String device) {
    return false;
  }

  /** The sampling fields a generation_config.json sets, as request defaults (vLLM's --generation-config). */
  public static SamplingParams samplingDefaults(GenerationConfig g) {
    return SamplingParams.builder().temperature(g.temperature()).topP(g.topP()).topK(g.topK())
        .repetitionPenalty(g.repetitionPenalty()).maxTokens(null).build();
  }

  private static Detokenizer detokenizer(Tokenizer tokenizer, boolean skipSpecialTokens) {
    IncrementalDetokenizer d = new IncrementalDetokenizer(tokenizer, skipSpecialTokens);
    return new Detokenizer() {
      @Override
      public String add(int tokenId) {
        return d.add(tokenId);
      }

      @Override
      public String flush() {
        return d.flush();
      }
    };
  }

  /** The scheduling limits, completed with the context length once the model is known. */
  @FunctionalInterface
  public interface SchedulerConfigBuilder {
    SchedulerConfig build(int maxModelLen);
  }

  public EngineCore core() {
    return core;
  }

  public ModelRunner runner() {
    return runner;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  /** The model's chat template, or null when it has none. */
  public ChatTemplate chatTemplate() {
    return chatTemplate;
  }

  /** Whether --chat-template chose the template (then it is used as it is, tools or not). */
  public boolean chatTemplateOverridden() {
    return chatTemplateOverridden;
  }

  /**
   * barista's tool-aware template for the model's family, for requests with tools when the model's template does
   * not show them; null when the family has none (only DeepSeek-R1's, recognised by its assistant marker).
   */
  public ChatTemplate toolChatTemplate() {
    if (chatTemplate == null || !tokenizer.chatTemplate().orElse("").contains("<｜Assistant｜>")) return null;
    try (java.io.InputStream in = ServingEngine.class.getResourceAsStream(
        "/barista/r1-distill/chat-template.tools.jinja")) {
      return new ChatTemplate(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
          tokenizer.bosToken(), tokenizer.eosToken());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The tokens structured-output constraints choose from (waits for the build begun at startup). */
  public TokenVocabulary constraintVocabulary() {
    return constraintVocabulary.join();
  }

  /** Sampling defaults from generation_config.json (vLLM's --generation-config auto). */
  public SamplingParams defaults() {
    return defaults;
  }

  public boolean shutdown(Duration grace) throws InterruptedException {
    return core.shutdown(grace);
  }

  @Override
  public void close() {
    core.close();
    runner.close();
    tokenizer.close();
  }
}
