package barista.server.wiring;

import ai.djl.Device;
import ai.djl.engine.Engine;
import barista.config.ServeOptions;
import barista.engine.EngineConfig;
import barista.engine.checkpoint.GenerationConfig;
import barista.engine.quant.Quantization;
import barista.engine.sampling.SamplingParams;
import barista.scheduler.DataParallelEngine;
import barista.scheduler.EngineClient;
import barista.scheduler.SchedulerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The composition root of {@code serve}: resolves the model, builds each engine's configuration from the launch
 * options and starts the engines (one, or one per device with --data-parallel-size).
 */
public final class ServeWiring {
  private ServeWiring() {}

  /**
   * The started engines.
   *
   * @param client where requests go: the one engine, or a data-parallel front over several
   * @param model the first engine: every engine serves the same model, so its tokenizer and templates speak for all
   * @param servedNames the names a request may give as "model", the reported one first; never empty
   * @param samplingDefaults what a request's omitted sampling fields are, as --generation-config says
   * @param resources closes every engine (the engine threads, the device memory)
   */
  public record Started(EngineClient client, ServingEngine model, List<String> servedNames,
      SamplingParams samplingDefaults, AutoCloseable resources) {}

  /** Throws IllegalArgumentException with a one-line reason for a bad model or flag combination. */
  public static Started start(ServeOptions o) throws IOException {
    Path dir = ModelPaths.resolve(o.model(), o.revision, o.downloadDir, System.getenv());
    Path tokenizerDir = o.tokenizer == null ? dir : ModelPaths.resolve(o.tokenizer,
        o.tokenizerRevision != null ? o.tokenizerRevision : o.revision, o.downloadDir, System.getenv());
    String chatTemplate = o.chatTemplate == null ? null : o.chatTemplateText();
    List<ServingEngine> engines = new ArrayList<>();
    try {
      for (Device device : devices(o)) engines.add(start(o, dir, tokenizerDir, chatTemplate, device));
      ServingEngine first = engines.get(0);
      List<String> names = new ArrayList<>(o.servedModelNames());
      if (names.isEmpty()) names.add(o.model() == null ? "barista-demo" : o.model());
      SamplingParams defaults = samplingDefaults(o.generationConfig, first);
      if (engines.size() == 1) return new Started(first.core(), first, List.copyOf(names), defaults, first);
      DataParallelEngine dp = new DataParallelEngine(engines.stream().map(ServingEngine::core).toList());
      return new Started(dp, first, List.copyOf(names), defaults, () -> engines.forEach(ServingEngine::close));
    } catch (RuntimeException e) {
      engines.forEach(ServingEngine::close);
      throw e;
    }
  }

  /** One device per engine: the --device itself for one engine; cuda:0..N-1, or N times cpu, for data parallelism. */
  private static List<Device> devices(ServeOptions o) {
    int n = o.dataParallelSize;
    if (n == 1) return List.of(EngineConfig.deviceOf(o.device.name()));
    int gpus = o.device == ServeOptions.Device.cpu ? 0 : Engine.getEngine("PyTorch").getGpuCount();
    boolean cuda = o.device == ServeOptions.Device.cuda || (o.device == ServeOptions.Device.auto && gpus > 0);
    if (cuda && n > gpus) {
      throw new IllegalArgumentException("--data-parallel-size " + n + " needs " + n + " GPUs, but " + gpus
          + " CUDA device(s) are visible");
    }
    return IntStream.range(0, n).mapToObj(i -> cuda ? Device.gpu(i) : Device.cpu()).toList();
  }

  private static ServingEngine start(ServeOptions o, Path dir, Path tokenizerDir, String chatTemplate, Device device) {
    EngineConfig config = new EngineConfig(dir, device, EngineConfig.dtypeOf(o.dtype, device),
        o.maxModelLen == null ? 0 : o.maxModelLen, o.blockSize, o.gpuMemoryUtilization, o.kvCacheSpaceGiB,
        o.maxNumBatchedTokens, o.maxNumSeqs, o.seed, quantization(o.quantization),
        o.numGpuBlocksOverride == null ? 0 : o.numGpuBlocksOverride)
        .withCuda(new EngineConfig.CudaOptions(o.enforceEager, o.cudaGraphSizes, o.nativeLibrary));
    boolean async = o.asyncScheduling != null ? o.asyncScheduling : ServingEngine.asyncSchedulingByDefault(device);
    SchedulerConfig.Policy policy = switch (o.schedulingPolicy) {
      case fcfs -> SchedulerConfig.Policy.FCFS;
      case priority -> SchedulerConfig.Policy.PRIORITY;
    };
    return ServingEngine.start(config, len -> new SchedulerConfig(o.maxNumSeqs,
        o.enableChunkedPrefill ? o.maxNumBatchedTokens : Math.max(o.maxNumBatchedTokens, len),
        o.enableChunkedPrefill, o.enablePrefixCaching, policy, len, o.maxWaitingRequests, async),
        chatTemplate, tokenizerDir);
  }

  /** The engine's quantization method for --quantization; null (none): as the checkpoint is stored. */
  private static Quantization.Method quantization(ServeOptions.Quantization option) {
    return switch (option) {
      case none -> null;
      case awq -> Quantization.Method.AWQ;
      case int8 -> Quantization.Method.INT8;
    };
  }

  /** vLLM's --generation-config: auto (the model's file), vllm (no defaults), or a folder holding the file. */
  private static SamplingParams samplingDefaults(String option, ServingEngine engine) {
    if (option == null || option.equals("auto")) return engine.defaults();
    if (option.equals("vllm")) return SamplingParams.builder().maxTokens(null).build();
    Path file = Path.of(option).resolve("generation_config.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--generation-config " + option + ": expected auto, vllm or a folder with "
          + "generation_config.json");
    }
    return ServingEngine.samplingDefaults(GenerationConfig.read(file, engine.modelConfig()));
  }
}
