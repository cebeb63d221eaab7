package barista.server;

import barista.config.ServeOptions;
import barista.engine.EngineConfig;
import barista.engine.sampling.SamplingParams;
import barista.engine.tokenizer.ChatTemplate;
import barista.engine.tokenizer.Tokenizer;
import barista.scheduler.SchedulerConfig;
import barista.scheduler.ServingEngine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The real {@link ModelLoader}: resolves the model, starts the engine, exposes its tokenizer and template. */
public final class EngineModelLoader implements ModelLoader {

  @Override
  public Loaded load(ServeOptions o) throws Exception {
    Path dir = ModelPaths.resolve(o.model(), o.revision);
    EngineConfig config = new EngineConfig(dir, o.device.name(), o.dtype, o.maxModelLen == null ? 0 : o.maxModelLen,
        o.blockSize, o.gpuMemoryUtilization, o.kvCacheSpaceGiB, o.maxNumBatchedTokens, o.maxNumSeqs,
        o.enablePrefixCaching, o.seed, o.quantization == ServeOptions.Quantization.none ? null : o.quantization.name(),
        o.numGpuBlocksOverride == null ? 0 : o.numGpuBlocksOverride);
    ServingEngine engine = ServingEngine.start(config, len -> new SchedulerConfig(o.maxNumSeqs,
        o.enableChunkedPrefill ? o.maxNumBatchedTokens : Math.max(o.maxNumBatchedTokens, len),
        o.enableChunkedPrefill, o.enablePrefixCaching, o.schedulingPolicy.name(), len, o.maxWaitingRequests),
        o.chatTemplate == null ? null : o.chatTemplateText(),
        o.tokenizer == null ? dir : ModelPaths.resolve(o.tokenizer, o.revision));
    List<String> names = new ArrayList<>(o.servedModelNames());
    if (names.isEmpty()) names.add(o.model() == null ? "barista-demo" : o.model());
    SamplingParams defaults = samplingDefaults(o.generationConfig, engine);
    return new Loaded(engine.core(), new Model(engine, List.copyOf(names), defaults), engine);
  }

  /** vLLM's --generation-config: auto (the model's file), vllm (no defaults), or a folder holding the file. */
  private static SamplingParams samplingDefaults(String option, ServingEngine engine) {
    if (option == null || option.equals("auto")) return engine.defaults();
    if (option.equals("vllm")) return SamplingParams.builder().maxTokens(null).build();
    Path file = Path.of(option).resolve("generation_config.json");
    if (!java.nio.file.Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--generation-config " + option + ": expected auto, vllm or a folder with "
          + "generation_config.json");
    }
    return ServingEngine.samplingDefaults(
        barista.engine.checkpoint.GenerationConfig.read(file, engine.runner().modelConfig()));
  }

  /** The served model seen through the engine's tokenizer and chat template. */
  private record Model(ServingEngine engine, List<String> servedNames, SamplingParams defaults) implements ServedModel {
    @Override
    public int maxModelLen() {
      return engine.runner().maxModelLen();
    }

    @Override
    public int vocabSize() {
      return engine.runner().modelConfig().vocabSize();
    }

    @Override
    public int[] encode(String text, boolean addSpecialTokens) {
      Tokenizer t = engine.tokenizer();
      int[] ids = t.encode(text);
      if (!addSpecialTokens || t.bosId() < 0 || (ids.length > 0 && ids[0] == t.bosId())) return ids;
      int[] withBos = new int[ids.length + 1];
      withBos[0] = t.bosId();
      System.arraycopy(ids, 0, withBos, 1, ids.length);
      return withBos;
    }

    @Override
    public String decode(int[] tokenIds, boolean skipSpecialTokens) {
      return engine.tokenizer().decode(tokenIds, skipSpecialTokens);
    }

    @Override
    public String tokenText(int tokenId) {
      return new String(tokenBytes(tokenId), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int tokenId) {
      Tokenizer t = engine.tokenizer();
      return tokenId >= 0 && tokenId < t.vocabSize() ? t.tokenBytes(tokenId) : new byte[0];
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> kwargs) {
      ChatTemplate template = engine.chatTemplate();
      if (template == null) {
        throw new IllegalArgumentException("the model has no chat template; pass --chat-template or use /v1/completions");
      }
      List<Map<String, Object>> list = new ArrayList<>();
      for (ChatMessage m : messages) {
        Map<String, Object> map = new java.util.HashMap<>();
        map.put("role", m.role());
        map.put("content", m.content());
        list.add(map);
      }
      return template.render(list, addGenerationPrompt, kwargs);
    }

    @Override
    public SamplingParams defaultSamplingParams() {
      return defaults;
    }
  }
}
