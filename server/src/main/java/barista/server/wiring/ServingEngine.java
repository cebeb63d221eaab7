package barista.server.wiring;

import ai.djl.Device;
import barista.engine.EngineConfig;
import barista.engine.ModelRunner;
import barista.engine.checkpoint.GenerationConfig;
import barista.engine.constraint.TokenVocabulary;
import barista.engine.sampling.SamplingParams;
import barista.engine.tokenizer.ChatTemplate;
import barista.engine.tokenizer.IncrementalDetokenizer;
import barista.engine.tokenizer.Tokenizer;
import barista.scheduler.Detokenizer;
import barista.scheduler.EngineCore;
import barista.scheduler.SchedulerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Everything one served model needs, started together: weights and KV cache on the device, the tokenizer and chat
 * templates, and the engine loop. What the front end and the offline {@code generate} command both build on; the
 * scheduler sees only the engine's step interfaces and a detokenizer.
 */
public final class ServingEngine implements AutoCloseable {
  /** DeepSeek-R1's assistant marker: a template holding it is R1's, whose family has barista's tool template. */
  private static final String R1_ASSISTANT_MARKER = "<｜Assistant｜>";
  private static final String R1_TOOL_TEMPLATE = "/barista/r1-distill/chat-template.tools.jinja";

  private final ModelRunner runner;
  private final Tokenizer tokenizer;
  private final ChatTemplates chatTemplates;
  private final EngineCore core;
  private final SamplingParams defaults;
  private final ModelFacts facts;
  private final CompletableFuture<TokenVocabulary> constraintVocabulary;

  private ServingEngine(ModelRunner runner, Tokenizer tokenizer, ChatTemplates chatTemplates, EngineCore core,
      SamplingParams defaults, int[] eosIds) {
    this.runner = runner;
    this.tokenizer = tokenizer;
    this.chatTemplates = chatTemplates;
    this.core = core;
    this.defaults = defaults;
    this.facts = new ModelFacts(runner.maxModelLen(), runner.modelConfig().vocabSize(),
        runner.modelConfig().architecture(), runner.modelConfig().numLayers(), runner.deviceName(),
        runner.weightBytes(), runner.dtypeName());
    // The vocabulary trie takes a moment for a full-size vocabulary: build it beside startup, not on a request's path.
    int maskSize = facts.vocabSize();
    this.constraintVocabulary = CompletableFuture.supplyAsync(
        () -> new TokenVocabulary(tokenizer.regularTokenBytes(maskSize), maskSize, eosIds));
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
      Path tokenizerDir) {
    ModelRunner runner = ModelRunner.start(engine); // checks the folder and its config first
    Tokenizer tokenizer;
    try {
      tokenizer = Tokenizer.load(tokenizerDir);
    } catch (IOException | RuntimeException e) {
      runner.close();
      throw new IllegalArgumentException("cannot read the tokenizer in " + tokenizerDir + ": " + e.getMessage(), e);
    }
    try {
      ChatTemplates templates = chatTemplates(tokenizer, chatTemplateOverride);
      GenerationConfig gen = runner.generationConfig();
      Set<Integer> eos = new LinkedHashSet<>(gen.eosTokenIds());
      if (eos.isEmpty()) eos.add(tokenizer.eosId());
      int[] eosIds = eos.stream().mapToInt(Integer::intValue).toArray();
      SchedulerConfig config = scheduling.build(runner.maxModelLen());
      EngineCore core = new EngineCore(runner, config,
          new EngineCore.Limits(runner.maxModelLen(), runner.modelConfig().vocabSize(), eosIds),
          skip -> detokenizer(tokenizer, skip), engine.seed());
      return new ServingEngine(runner, tokenizer, templates, core, samplingDefaults(gen), eosIds);
    } catch (RuntimeException e) {
      runner.close();
      tokenizer.close();
      throw e;
    }
  }

  /**
   * Whether {@code --async-scheduling} is on when not given: on with CUDA, as vLLM's default (scripts/gpu-async-check.sh
   * and gpu-merge-check.sh check its greedy outputs against the synchronous loop on a GPU), off on the CPU, whose
   * steps are computed on the host anyway.
   */
  public static boolean asyncSchedulingByDefault(Device device) {
    return device.isGpu();
  }

  /** The sampling fields a generation_config.json sets, as request defaults (vLLM's --generation-config). */
  public static SamplingParams samplingDefaults(GenerationConfig g) {
    return SamplingParams.builder().temperature(g.temperature()).topP(g.topP()).topK(g.topK())
        .repetitionPenalty(g.repetitionPenalty()).maxTokens(null).build();
  }

  /**
   * The model's template (or the override), and the one requests with tools use: the same when it shows tools or
   * was chosen by --chat-template; else barista's tool-aware template for the model's family (only DeepSeek-R1's,
   * recognised by its assistant marker), or none.
   */
  static ChatTemplates chatTemplates(Tokenizer tokenizer, String override) {
    if (override != null) {
      ChatTemplate chosen = new ChatTemplate(override, tokenizer.bosToken(), tokenizer.eosToken());
      return new ChatTemplates(chosen, chosen);
    }
    if (tokenizer.chatTemplate().isEmpty()) return new ChatTemplates(null, null);
    ChatTemplate own = ChatTemplate.of(tokenizer);
    if (own.mentionsTools()) return new ChatTemplates(own, own);
    if (!tokenizer.chatTemplate().get().contains(R1_ASSISTANT_MARKER)) return new ChatTemplates(own, null);
    try (InputStream in = ServingEngine.class.getResourceAsStream(R1_TOOL_TEMPLATE)) {
      if (in == null) throw new IllegalStateException("missing resource " + R1_TOOL_TEMPLATE);
      return new ChatTemplates(own, new ChatTemplate(new String(in.readAllBytes(), StandardCharsets.UTF_8),
          tokenizer.bosToken(), tokenizer.eosToken()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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

  /**
   * The chat templates of the served model.
   *
   * @param chat the model's template (or --chat-template's), or null when it has none
   * @param forTools what requests with tools are rendered with, or null when the model has no way to show tools
   */
  public record ChatTemplates(ChatTemplate chat, ChatTemplate forTools) {}

  public EngineCore core() {
    return core;
  }

  public Tokenizer tokenizer() {
    return tokenizer;
  }

  public ChatTemplates chatTemplates() {
    return chatTemplates;
  }

  /** What the server is told of the model, fixed once it has loaded. */
  public ModelFacts facts() {
    return facts;
  }

  /** The tokens structured-output constraints choose from (waits for the build begun at startup). */
  public TokenVocabulary constraintVocabulary() {
    return constraintVocabulary.join();
  }

  /** Sampling defaults from generation_config.json (vLLM's --generation-config auto). */
  public SamplingParams defaults() {
    return defaults;
  }

  /** The model's config.json, for reading a --generation-config folder against it. */
  barista.engine.checkpoint.ModelConfig modelConfig() {
    return runner.modelConfig();
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
