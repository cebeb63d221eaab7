package barista.server.cli;

import ai.djl.Device;
import barista.engine.EngineConfig;
import barista.engine.quant.Quantization;
import barista.engine.sampling.SamplingParams;
import barista.engine.tokenizer.ChatTemplate;
import barista.scheduler.GenerationRequest;
import barista.scheduler.RequestOutput;
import barista.scheduler.SchedulerConfig;
import barista.server.wiring.ServingEngine;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code barista generate}: runs all prompts as one batch offline and prints one JSON line per prompt. */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Generate text for one or more prompts offline (one batch) and print one JSON object per prompt.")
public final class GenerateCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--model", required = true, description = "Model folder (Hugging Face layout).")
  Path model;

  @Option(names = "--prompt", required = true, description = "A prompt; repeat for several (run as one batch).")
  List<String> prompts;

  @Option(names = "--chat", description = "Wrap each prompt as a user message with the model's chat template.")
  boolean chat;

  @Option(names = "--max-tokens", defaultValue = "16", description = "Tokens to generate per prompt (default ${DEFAULT-VALUE}).")
  int maxTokens;

  @Option(names = "--temperature", description = "0 = greedy (default: the model's generation_config).")
  Double temperature;

  @Option(names = "--top-p") Double topP;
  @Option(names = "--top-k") Integer topK;
  @Option(names = "--min-p") Double minP;
  @Option(names = "--repetition-penalty") Double repetitionPenalty;
  @Option(names = "--presence-penalty") Double presencePenalty;
  @Option(names = "--frequency-penalty") Double frequencyPenalty;
  @Option(names = "--seed", description = "Per-request seed (same seed, same output).") Long seed;
  @Option(names = "--min-tokens", defaultValue = "0") int minTokens;
  @Option(names = "--ignore-eos", description = "Keep generating past EOS.") boolean ignoreEos;
  @Option(names = "--stop", description = "A stop string; repeat for several.") List<String> stop;

  @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, cuda or cuda:N.") String device;
  @Option(names = "--dtype", defaultValue = "auto", description = "auto, half, float16, float, float32.") String dtype;
  @Option(names = "--max-model-len", description = "Context length (default: the model's max_position_embeddings, "
      + "capped by the KV cache).") Integer maxModelLen;
  @Option(names = "--block-size", defaultValue = "16") int blockSize;
  @Option(names = "--kv-cache-space", defaultValue = "4", description = "KV cache GiB on CPU.") double kvCacheSpace;
  @Option(names = "--gpu-memory-utilization", defaultValue = "0.9") double gpuMemoryUtilization;
  @Option(names = "--max-num-batched-tokens", defaultValue = "8192") int maxNumBatchedTokens;

  @Option(names = {"--quantization", "-q"}, description = "awq or int8 (default: detected from the checkpoint).")
  String quantization;
  @Option(names = "--enforce-eager", description = "No CUDA graphs: every step runs the kernels one by one.")
  boolean enforceEager;
  @Option(names = "--cuda-graph-sizes", split = ",", description = "Step sizes (tokens) captured as CUDA graphs.")
  List<Integer> cudaGraphSizes = new ArrayList<>();
  @Option(names = "--native-library", description = "libbarista_native.so (default: see serve --help).")
  Path nativeLibrary;

  @Option(names = "--async-scheduling", negatable = true,
      description = "Schedule each step while the one before runs (default: on with CUDA, off on the CPU).")
  Boolean asyncScheduling;

  @Option(names = "--log-level", defaultValue = "info", description = "error, warning, info, debug.") String logLevel;

  @Override
  public Integer call() throws Exception {
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(ch.qos.logback.classic.Level.toLevel(logLevel.equals("warning") ? "warn" : logLevel));
    Device on = EngineConfig.deviceOf(device);
    EngineConfig config = new EngineConfig(model, on, EngineConfig.dtypeOf(dtype, on),
        maxModelLen == null ? 0 : maxModelLen, blockSize, gpuMemoryUtilization, kvCacheSpace, maxNumBatchedTokens,
        Math.max(prompts.size(), 1), 0, Quantization.Method.of(quantization), 0)
        .withCuda(new EngineConfig.CudaOptions(enforceEager, cudaGraphSizes, nativeLibrary));
    try (ServingEngine engine = ServingEngine.start(config, len -> new SchedulerConfig(Math.max(prompts.size(), 1),
        maxNumBatchedTokens, true, true, SchedulerConfig.Policy.FCFS, len, Integer.MAX_VALUE,
        asyncScheduling != null ? asyncScheduling : ServingEngine.asyncSchedulingByDefault(on)), null)) {
      SamplingParams params = params(engine.defaults());
      List<int[]> encoded = new ArrayList<>();
      for (String p : prompts) {
        String text = chat ? render(engine, p) : p;
        encoded.add(engine.tokenizer().encode(text));
      }
      long start = System.nanoTime();
      List<Collector> collectors = new ArrayList<>();
      for (int i = 0; i < prompts.size(); i++) {
        Collector c = new Collector();
        collectors.add(c);
        engine.core().submit(new GenerationRequest("gen-" + i, encoded.get(i), params, 0, System.nanoTime()), c);
      }
      long generated = 0;
      long firstToken = Long.MAX_VALUE;
      long end = 0;
      for (int i = 0; i < prompts.size(); i++) {
        Collector c = collectors.get(i);
        RequestOutput last = c.done.get();
        ObjectNode line = JSON.createObjectNode();
        line.put("prompt", prompts.get(i));
        line.put("text", c.text.toString());
        line.putPOJO("token_ids", c.tokens);
        line.put("finish_reason", last.finishReason().apiName());
        line.put("prompt_tokens", last.promptTokens());
        System.out.println(JSON.writeValueAsString(line));
        generated += c.tokens.size();
        firstToken = Math.min(firstToken, c.firstTokenNanos);
        end = Math.max(end, c.endNanos);
      }
      double seconds = (end - start) / 1e9;
      double decodeSeconds = (end - firstToken) / 1e9;
      System.err.printf("generated %d tokens for %d prompt(s) in %.2f s: %.1f tokens/s overall, %.1f tokens/s decode%n",
          generated, prompts.size(), seconds, generated / seconds,
          decodeSeconds > 0 ? (generated - prompts.size()) / decodeSeconds : 0.0);
      return 0;
    }
  }

  private static String render(ServingEngine engine, String prompt) {
    ChatTemplate template = engine.chatTemplates().chat();
    if (template == null) throw new IllegalArgumentException("--chat: the model has no chat template");
    return template.render(List.of(Map.of("role", "user", "content", prompt)), true, Map.of());
  }

  private SamplingParams params(SamplingParams defaults) {
    SamplingParams.Builder b = defaults.toBuilder().maxTokens(maxTokens).minTokens(minTokens).ignoreEos(ignoreEos)
        .seed(seed);
    if (temperature != null) b.temperature(temperature);
    if (topP != null) b.topP(topP);
    if (topK != null) b.topK(topK);
    if (minP != null) b.minP(minP);
    if (repetitionPenalty != null) b.repetitionPenalty(repetitionPenalty);
    if (presencePenalty != null) b.presencePenalty(presencePenalty);
    if (frequencyPenalty != null) b.frequencyPenalty(frequencyPenalty);
    if (stop != null) b.stop(stop);
    return b.build().validate();
  }

  /** Gathers one request's outputs; runs on the engine thread, or its output thread with async scheduling. */
  private static final class Collector implements barista.scheduler.OutputListener {
    final StringBuilder text = new StringBuilder();
    final List<Integer> tokens = new ArrayList<>();
    final CompletableFuture<RequestOutput> done = new CompletableFuture<>();
    long firstTokenNanos = Long.MAX_VALUE;
    long endNanos;

    @Override
    public void onOutput(RequestOutput out) {
      if (tokens.isEmpty() && out.newTokenIds().length > 0) firstTokenNanos = System.nanoTime();
      for (int t : out.newTokenIds()) tokens.add(t);
      text.append(out.newText());
      if (out.finished()) {
        endNanos = System.nanoTime();
        done.complete(out);
      }
    }
  }
}
