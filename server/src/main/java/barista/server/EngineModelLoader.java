package barista.server;

import ai.djl.engine.Engine;
import barista.config.ServeOptions;
import barista.server.wiring.ModelPaths;
import barista.engine.EngineConfig;
import barista.engine.sampling.SamplingParams;
import barista.engine.tokenizer.ChatTemplate;
import barista.engine.tokenizer.Tokenizer;
import barista.scheduler.DataParallelEngine;
import barista.scheduler.SchedulerConfig;
import barista.scheduler.ServingEngine;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The real {@link ServedModelLoader}: resolves the model, starts the engine (or one per device with
 * --data-parallel-size), exposes its tokenizer and template.
 */
public final class EngineModelLoader implements ServedModelLoader {

  @Override
  public Loaded load(ServeOptions o) throws Exception {
    Path dir = ModelPaths.resolve(o.model(), o.revision, o.downloadDir, System.getenv());
    Path tokenizerDir = o.tokenizer == null ? dir : ModelPaths.resolve(o.tokenizer,
        o.tokenizerRevision != null ? o.tokenizerRevision : o.revision, o.downloadDir, System.getenv());
    String chatTemplate = o.chatTemplate == null ? null : o.chatTemplateText();
    List<ServingEngine> engines = new ArrayList<>();
    try {
      for (String device : devices(o)) engines.add(start(o, dir, tokenizerDir, chatTemplate, device));
      ServingEngine first = engines.get(0); // every engine serves the same model: one tokenizer speaks for all
      List<String> names = new ArrayList<>(o.servedModelNames());
      if (names.isEmpty()) names.add(o.model() == null ? "barista-demo" : o.model());
      Model model = new Model(first, List.copyOf(names), samplingDefaults(o.generationConfig, first));
      if (engines.size() == 1) return new Loaded(first.core(), model, first);
      DataParallelEngine dp = new DataParallelEngine(engines.stream().map(ServingEngine::core).toList());
      return new Loaded(dp, model, () -> engines.forEach(ServingEngine::close));
    } catch (RuntimeException e) {
      engines.forEach(ServingEngine::close);
      throw e;
    }
  }

  /** One device per engine: the --device itself for one engine; cuda:0..N-1, or N times cpu, for data parallelism. */
  private static List<String> devices(ServeOptions o) {
    int n = o.dataParallelSize;
    if (n == 1) return List.of(o.device.name());
    int gpus = o.device == ServeOptions.Device.cpu ? 0 : Engine.getEngine("PyTorch").getGpuCount();
    boolean cuda = o.device == ServeOptions.Device.cuda || (o.device == ServeOptions.Device.auto && gpus > 0);
    if (cuda && n > gpus) {
      throw new IllegalArgumentException("--data-parallel-size " + n + " needs " + n + " GPUs, but " + gpus
          + " CUDA device(s) are visible");
    }
    return IntStream.range(0, n).mapToObj(i -> cuda ? "cuda:" + i : "cpu").toList();
  }

  private static ServingEngine start(ServeOptions o, Path dir, Path tokenizerDir, String chatTemplate, String device) {
    EngineConfig config = new EngineConfig(dir, device, o.dtype, o.maxModelLen == null ? 0 : o.maxModelLen,
        o.blockSize, o.gpuMemoryUtilization, o.kvCacheSpaceGiB, o.maxNumBatchedTokens, o.maxNumSeqs,
        o.enablePrefixCaching, o.seed, o.quantization == ServeOptions.Quantization.none ? null : o.quantization.name(),
        o.numGpuBlocksOverride == null ? 0 : o.numGpuBlocksOverride)
        .withCuda(new EngineConfig.CudaOptions(o.enforceEager, o.cudaGraphSizes, o.nativeLibrary));
    boolean async = o.asyncScheduling != null ? o.asyncScheduling : ServingEngine.asyncSchedulingByDefault(device);
    return ServingEngine.start(config, len -> new SchedulerConfig(o.maxNumSeqs,
        o.enableChunkedPrefill ? o.maxNumBatchedTokens : Math.max(o.maxNumBatchedTokens, len),
        o.enableChunkedPrefill, o.enablePrefixCaching, o.schedulingPolicy.name(), len, o.maxWaitingRequests, async),
        chatTemplate, tokenizerDir);
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
    public List<String> addedTokens() {
      return engine.tokenizer().addedTokens();
    }

    @Override
    public int[] encodePlain(String text) {
      return engine.tokenizer().encodePlain(text);
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
      return renderChat(messages, addGenerationPrompt, kwargs, null);
    }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> kwargs,
        List<Map<String, Object>> tools) {
      ChatTemplate template = engine.chatTemplate();
      if (template == null) {
        throw new IllegalArgumentException("the model has no chat template; pass --chat-template or use /v1/completions");
      }
      Map<String, Object> variables = kwargs;
      if (tools != null) {
        if (!template.mentionsTools() && !engine.chatTemplateOverridden()) template = engine.toolChatTemplate();
        if (template == null || !template.mentionsTools()) {
          throw new IllegalArgumentException("the chat template does not show tools to the model; pass a "
              + "tool-aware --chat-template");
        }
        variables = new java.util.HashMap<>(kwargs);
        variables.put("tools", tools);
      }
      List<Map<String, Object>> list = new ArrayList<>();
      for (ChatMessage m : messages) list.add(m.toTemplateMap());
      return template.render(list, addGenerationPrompt, variables);
    }

    @Override
    public barista.engine.constraint.TokenVocabulary constraintVocabulary() {
      return engine.constraintVocabulary();
    }

    @Override
    public SamplingParams defaultSamplingParams() {
      return defaults;
    }

    @Override
    public Map<String, String> facts() {
      barista.engine.ModelRunner runner = engine.runner();
      Map<String, String> facts = new java.util.LinkedHashMap<>();
      facts.put("architecture", runner.modelConfig().architecture());
      facts.put("layers", Integer.toString(runner.modelConfig().numLayers()));
      facts.put("device", runner.deviceName());
      facts.put("weights_mib", String.format(java.util.Locale.ROOT, "%.1f", runner.weightBytes() / 1048576.0));
      return facts;
    }
  }
}
