package barista.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The flags of {@code barista serve}, named and defaulted as vLLM's {@code vllm serve} so a deployment switches by
 * changing only the launcher. Used as a picocli mixin by the serve command; {@link #parse} is the same for tests.
 * Fields are public: this is a plain bag of launch settings read once at startup.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Serve a model over vLLM's OpenAI-compatible HTTP API.",
    footer = {"", "vLLM's other serve flags are accepted where they would change nothing here (logged once) and "
        + "refused with a reason otherwise; docs/vllm-differences.md lists each."})
public class ServeOptions {

  /** vLLM's --dtype names ("float" is a Java keyword, so these stay strings). */
  public static final List<String> DTYPES = List.of("auto", "half", "float16", "float", "float32", "bfloat16");

  public enum Device { auto, cpu, cuda }

  public enum SchedulingPolicy { fcfs, priority }

  public enum Quantization { none, awq, int8 }

  public enum ReasoningParser { deepseek_r1 }

  public enum ToolCallParser { deepseek_v3 }

  public enum LogLevel { critical, error, warning, info, debug, trace }

  public enum LogFormat { text, json }

  @Parameters(index = "0", arity = "0..1", paramLabel = "MODEL",
      description = "Model folder or Hugging Face repo id (same as --model).")
  public String positionalModel;

  @Option(names = "--model", description = "Model folder or Hugging Face repo id; omitted: the built-in demo model.")
  public String modelOption;

  @Option(names = "--served-model-name", arity = "1..*",
      description = "Names the API accepts as \"model\"; the first is reported. Default: the model argument.")
  public List<String> servedModelNames = new ArrayList<>();

  @Option(names = "--tokenizer", description = "Tokenizer folder or repo id. Default: the model's.")
  public String tokenizer;

  @Option(names = "--revision", description = "Model revision (branch, tag or commit) in the Hugging Face cache.")
  public String revision;

  @Option(names = "--tokenizer-revision",
      description = "Tokenizer revision in the Hugging Face cache (with --tokenizer). Default: --revision.")
  public String tokenizerRevision;

  @Option(names = "--download-dir", paramLabel = "DIR",
      description = "The Hugging Face cache to find a repo id in (nothing is downloaded). Default: $HF_HUB_CACHE, "
          + "$HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, then ~/.cache/huggingface/hub.")
  public Path downloadDir;

  @Option(names = "--host", defaultValue = "0.0.0.0", description = "Bind address (default: ${DEFAULT-VALUE}).")
  public String host;

  @Option(names = "--port", defaultValue = "8000", description = "Port (default: ${DEFAULT-VALUE}).")
  public int port;

  @Option(names = "--dtype", defaultValue = "auto",
      description = "auto, half, float16, float, float32 or bfloat16 (default: ${DEFAULT-VALUE}).")
  public String dtype;

  @Option(names = "--device", defaultValue = "auto", description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  public Device device;

  @Option(names = "--max-model-len", description = "Context length (prompt + output). Default: the model's.")
  public Integer maxModelLen;

  @Option(names = "--gpu-memory-utilization", defaultValue = "0.9",
      description = "Fraction of GPU memory for weights, activations and KV cache (default: ${DEFAULT-VALUE}).")
  public double gpuMemoryUtilization;

  @Option(names = "--kv-cache-space", defaultValue = "4",
      description = "GiB of KV cache on CPU, like VLLM_CPU_KVCACHE_SPACE (default: ${DEFAULT-VALUE}).")
  public double kvCacheSpaceGiB;

  @Option(names = "--num-gpu-blocks-override",
      description = "Use exactly this many KV cache blocks, whatever the memory allows (testing/debugging).")
  public Integer numGpuBlocksOverride;

  @Option(names = "--block-size", defaultValue = "16", description = "Tokens per KV block (default: ${DEFAULT-VALUE}).")
  public int blockSize;

  @Option(names = "--max-num-seqs", defaultValue = "256",
      description = "Most sequences in one batch (default: ${DEFAULT-VALUE}).")
  public int maxNumSeqs;

  /** vLLM V1 picks 2048 for the API server on most devices (8192 on large GPUs); 2048 also suits CPU prefill. */
  @Option(names = "--max-num-batched-tokens", defaultValue = "2048",
      description = "Most tokens in one scheduler step (default: ${DEFAULT-VALUE}).")
  public int maxNumBatchedTokens;

  @Option(names = "--scheduling-policy", defaultValue = "fcfs",
      description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  public SchedulingPolicy schedulingPolicy;

  @Option(names = "--enable-chunked-prefill", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Split long prompts across steps (default: on).")
  public boolean enableChunkedPrefill;

  @Option(names = "--enable-prefix-caching", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Reuse KV blocks of shared prompt prefixes (default: on).")
  public boolean enablePrefixCaching;

  @Option(names = "--async-scheduling", negatable = true,
      description = "Schedule each step while the one before runs on the device, and detokenize and check stop "
          + "strings on output threads; a request that stops may compute one token more, never sent (default: on with "
          + "CUDA, as vLLM; off on the CPU).")
  public Boolean asyncScheduling;

  @Option(names = "--seed", defaultValue = "0", description = "Engine random seed (default: ${DEFAULT-VALUE}).")
  public long seed;

  @Option(names = "--api-key",
      description = "Require \"Authorization: Bearer KEY\" on the API. Default: env VLLM_API_KEY or BARISTA_API_KEY.")
  public String apiKeyOption;

  @Option(names = "--chat-template", description = "Chat template: a file, or the Jinja text itself.")
  public String chatTemplate;

  @Option(names = "--generation-config", defaultValue = "auto",
      description = "Default sampling settings: auto (the model's generation_config.json), vllm (none), or a folder.")
  public String generationConfig;

  @Option(names = "--max-logprobs", defaultValue = "20",
      description = "Most logprobs a request may ask for (default: ${DEFAULT-VALUE}).")
  public int maxLogprobs;

  @Option(names = "--reasoning-parser", description = "Split reasoning from content: ${COMPLETION-CANDIDATES}.")
  public ReasoningParser reasoningParser;

  @Option(names = "--enable-auto-tool-choice",
      description = "Let the model decide to call tools (tool_choice auto); needs --tool-call-parser.")
  public boolean enableAutoToolChoice;

  @Option(names = "--tool-call-parser",
      description = "Read tool calls out of the model's text (tool_choice auto): ${COMPLETION-CANDIDATES}.")
  public ToolCallParser toolCallParser;

  @Option(names = "--reasoning-budgets", defaultValue = "512,2048,unlimited",
      description = "Thinking tokens a chat request's reasoning_effort low,medium,high allows, each a count or "
          + "'unlimited' (default: ${DEFAULT-VALUE}); max_reasoning_tokens overrides per request.")
  public String reasoningBudgets;

  @Option(names = "--minimal-reasoning-budget", defaultValue = "64",
      description = "Thinking tokens a chat request's reasoning_effort minimal allows (none allows 0; default: "
          + "${DEFAULT-VALUE}).")
  public int minimalReasoningBudget;

  @Option(names = "--disable-log-requests", description = "Do not log one line per finished request.")
  public boolean disableLogRequests;

  @Option(names = "--disable-log-stats", description = "Do not log throughput and cache usage every 10 s.")
  public boolean disableLogStats;

  @Option(names = {"--log-level", "--uvicorn-log-level"}, defaultValue = "info",
      description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  public LogLevel logLevel;

  @Option(names = "--log-format", defaultValue = "text",
      description = "Log lines as ${COMPLETION-CANDIDATES}; json is one object per line (default: ${DEFAULT-VALUE}).")
  public LogFormat logFormat;

  @Option(names = "--log-file",
      description = "Also log to this file, rolled daily and at 100 MB, 7 days kept. Default: stderr only.")
  public Path logFile;

  @Option(names = "--allowed-origins",
      description = "Enable CORS for these origins: a JSON list like '[\"*\"]' or a comma-separated list. Default: off.")
  public String allowedOrigins;

  @Option(names = "--disable-frontend",
      description = "Do not serve the browser playground at / and the live status page at /status.")
  public boolean disableFrontend;

  @Option(names = {"--tensor-parallel-size", "-tp"}, defaultValue = "1", description = "Only 1 is supported.")
  public int tensorParallelSize;

  @Option(names = {"--data-parallel-size", "-dp"}, defaultValue = "1",
      description = "Engines in this process: one per GPU (cuda:0..N-1), or N on --device cpu (default: ${DEFAULT-VALUE}).")
  public int dataParallelSize;

  @Option(names = {"--quantization", "-q"}, defaultValue = "none",
      description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  public Quantization quantization;

  @Option(names = "--max-waiting-requests", defaultValue = "4096",
      description = "Queued requests beyond this get 503 (default: ${DEFAULT-VALUE}).")
  public int maxWaitingRequests;

  @Option(names = "--request-timeout", defaultValue = "0",
      description = "Seconds before a request is aborted; 0 = never (default: ${DEFAULT-VALUE}).")
  public double requestTimeoutSeconds;

  @Option(names = "--shutdown-timeout", defaultValue = "30",
      description = "Seconds running requests may finish after SIGTERM (default: ${DEFAULT-VALUE}).")
  public double shutdownTimeoutSeconds;

  @Option(names = "--max-request-body-size", defaultValue = "33554432",
      description = "Largest request body in bytes; larger gets 413 (default: ${DEFAULT-VALUE}).")
  public int maxRequestBodySize;

  /** Null: env VLLM_HTTP_TIMEOUT_KEEP_ALIVE, else 5 s (vLLM's default for its HTTP server). */
  @Option(names = "--timeout-keep-alive",
      description = "Seconds an idle keep-alive connection stays open. "
          + "Default: env VLLM_HTTP_TIMEOUT_KEEP_ALIVE, else 5.")
  public Double timeoutKeepAliveOption;

  @Option(names = "--request-read-timeout", defaultValue = "30",
      description = "Seconds a request's headers and body may take to arrive; then 408 (default: ${DEFAULT-VALUE}).")
  public double requestReadTimeoutSeconds;

  @Option(names = "--max-connections", defaultValue = "8192",
      description = "Open connections beyond this get 503 and are closed (default: ${DEFAULT-VALUE}).")
  public int maxConnections;

  @Option(names = "--max-pending-body-bytes", defaultValue = "1073741824",
      description = "Bytes of request bodies still arriving, over all connections; beyond it 503 "
          + "(default: ${DEFAULT-VALUE}).")
  public long maxPendingBodyBytes;

  @Option(names = "--max-pending-response-bytes", defaultValue = "268435456",
      description = "Bytes of responses written and not yet read by their clients, over all connections; beyond it "
          + "no connection starts its next request (default: ${DEFAULT-VALUE}).")
  public long maxPendingResponseBytes;

  @Option(names = "--response-stall-timeout", defaultValue = "30",
      description = "Seconds a client may leave its response unread without taking a byte; then the connection "
          + "closes (default: ${DEFAULT-VALUE}).")
  public double responseStallTimeoutSeconds;

  @Option(names = "--warmup-seconds", defaultValue = "5",
      description = "Before taking clients, the server sends itself rounds of chat and completion requests through "
          + "the whole request path for at most this long, so the first clients after a start do not meet a cold "
          + "JVM; 0: none (default: ${DEFAULT-VALUE}).")
  public double warmupSeconds;

  @Option(names = "--constraint-compile-timeout", defaultValue = "10",
      description = "Seconds of compile time one structured-output constraint may take; then 400 "
          + "(default: ${DEFAULT-VALUE}).")
  public double constraintCompileTimeoutSeconds;

  @Option(names = "--escape-special-tokens-in-content",
      description = "Tokenize special-token strings inside message content (every role but assistant) as plain text, "
          + "so a user cannot forge turns or tool calls; vLLM reads them as special tokens.")
  public boolean escapeSpecialTokensInContent;

  @Option(names = "--log-requests-bodies", description = "Log request bodies (they may hold private data).")
  public boolean logRequestBodies;

  @Option(names = "--protect-metrics", description = "Require the API key on /metrics too.")
  public boolean protectMetrics;

  @Option(names = "--enforce-eager",
      description = "Never capture CUDA graphs: steps run the kernels one by one (slower; for debugging).")
  public boolean enforceEager;

  @Option(names = "--cuda-graph-sizes", split = ",", paramLabel = "N",
      description = "Step sizes in tokens captured as CUDA graphs: one N means 1, 2, 4, 8, 16, ... (by 16 from "
          + "256) up to N; several are the sizes themselves (default: that pattern up to twice --max-num-seqs, at "
          + "most 512).")
  public List<Integer> cudaGraphSizes = new ArrayList<>();

  @Option(names = "--native-library", paramLabel = "PATH",
      description = "libbarista_native.so (CUDA graphs and fused kernels; scripts/build-native.sh builds it). "
          + "Default: $BARISTA_NATIVE_LIBRARY, then lib/ beside the jar's folder, then native/build/.")
  public Path nativeLibrary;

  @Option(names = "--trust-remote-code", description = "Accepted for vLLM compatibility; no effect here.")
  public boolean trustRemoteCode;

  @Option(names = "--swap-space", description = "Accepted for vLLM compatibility; no effect here.")
  public Double swapSpace;

  /** vLLM's flags given that barista has no option of its own for: name to value ("true" for a switch), in order. */
  private final Map<String, String> vllmFlagsGiven = new LinkedHashMap<>();

  /**
   * Adds to a serve command (whose options are {@code target}'s) every flag of {@link VllmFlags} it lacks, hidden
   * from --help: given, they are recorded for {@link #validate} to accept (no effect) or refuse.
   */
  public static void addVllmFlags(CommandSpec serve, ServeOptions target) {
    for (VllmFlag flag : VllmFlags.ALL) {
      if (flag.names().stream().anyMatch(n -> serve.findOption(n) != null)) continue;
      OptionSpec.Builder option = OptionSpec.builder(flag.names().toArray(String[]::new)).hidden(true)
          .arity(flag.arity()).paramLabel("VALUE");
      if (flag.arity().equals("1..*")) {
        option.type(List.class).auxiliaryTypes(String.class);
      } else if (flag.takesValue()) {
        option.type(String.class);
        if (flag.arity().equals("0..1")) option.fallbackValue("true");
      } else {
        option.type(boolean.class);
      }
      option.setter(new CommandLine.Model.ISetter() {
        @Override
        public <T> T set(T value) {
          boolean given = value != null && !Boolean.FALSE.equals(value) && !(value instanceof List<?> l && l.isEmpty());
          if (given) target.vllmFlagsGiven.put(flag.name(), value instanceof List<?> l ? String.join(" ",
              l.stream().map(String::valueOf).toList()) : String.valueOf(value));
          return null;
        }
      });
      serve.addOption(option.build());
    }
  }

  /** Parses and validates {@code args} (without the "serve" word); throws IllegalArgumentException with one line. */
  public static ServeOptions parse(String... args) {
    ServeOptions options = new ServeOptions();
    try {
      CommandLine commandLine = new CommandLine(options);
      addVllmFlags(commandLine.getCommandSpec(), options);
      commandLine.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    return options.validate();
  }

  /** Checks what picocli cannot; throws IllegalArgumentException with one line naming the flag. */
  public ServeOptions validate() {
    for (Map.Entry<String, String> given : vllmFlagsGiven.entrySet()) {
      VllmFlag flag = VllmFlags.named(given.getKey());
      String refusal = flag.refusal(given.getValue(), this);
      if (refusal != null) {
        boolean byValue = flag.answer() == VllmFlag.Answer.NO_EFFECT_FOR;
        String shown = byValue ? flag.name() + " " + given.getValue() : flag.name();
        throw new IllegalArgumentException("vLLM's " + shown + " is not supported by barista: " + refusal);
      }
    }
    if (positionalModel != null && modelOption != null && !positionalModel.equals(modelOption)) {
      throw new IllegalArgumentException(
          "model given twice: positional '" + positionalModel + "' and --model '" + modelOption + "'");
    }
    check(DTYPES.contains(dtype), "--dtype must be one of " + String.join(", ", DTYPES) + ", got '" + dtype + "'");
    check(tensorParallelSize == 1, "--tensor-parallel-size " + tensorParallelSize + " is not supported: one device only");
    check(dataParallelSize >= 1, "--data-parallel-size must be at least 1, got " + dataParallelSize);
    check(port >= 0 && port <= 65535, "--port must be in 0..65535, got " + port);
    for (int size : cudaGraphSizes) check(size >= 1, "--cuda-graph-sizes must be positive, got " + size);
    check(nativeLibrary == null || Files.isRegularFile(nativeLibrary),
        "--native-library " + nativeLibrary + " is not a file");
    check(maxModelLen == null || maxModelLen > 0, "--max-model-len must be positive, got " + maxModelLen);
    check(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1,
        "--gpu-memory-utilization must be in (0, 1], got " + gpuMemoryUtilization);
    check(kvCacheSpaceGiB > 0, "--kv-cache-space must be positive, got " + kvCacheSpaceGiB);
    check(blockSize > 0, "--block-size must be positive, got " + blockSize);
    check(numGpuBlocksOverride == null || numGpuBlocksOverride > 1,
        "--num-gpu-blocks-override must be at least 2, got " + numGpuBlocksOverride);
    check(maxNumSeqs > 0, "--max-num-seqs must be positive, got " + maxNumSeqs);
    check(maxNumBatchedTokens > 0, "--max-num-batched-tokens must be positive, got " + maxNumBatchedTokens);
    check(maxLogprobs >= 0, "--max-logprobs must be at least 0, got " + maxLogprobs);
    reasoningBudget("low");
    check(minimalReasoningBudget >= 0, "--minimal-reasoning-budget must be at least 0, got " + minimalReasoningBudget);
    check(maxWaitingRequests > 0, "--max-waiting-requests must be positive, got " + maxWaitingRequests);
    check(requestTimeoutSeconds >= 0, "--request-timeout must be at least 0, got " + requestTimeoutSeconds);
    check(shutdownTimeoutSeconds >= 0, "--shutdown-timeout must be at least 0, got " + shutdownTimeoutSeconds);
    check(maxRequestBodySize > 0, "--max-request-body-size must be positive, got " + maxRequestBodySize);
    check(!enableAutoToolChoice || toolCallParser != null,
        "--enable-auto-tool-choice needs --tool-call-parser (deepseek_v3)");
    timeoutKeepAliveSeconds(System.getenv());
    check(requestReadTimeoutSeconds > 0 && Double.isFinite(requestReadTimeoutSeconds),
        "--request-read-timeout must be positive, got " + requestReadTimeoutSeconds);
    check(maxConnections > 0, "--max-connections must be positive, got " + maxConnections);
    check(maxPendingBodyBytes >= maxRequestBodySize, "--max-pending-body-bytes must be at least "
        + "--max-request-body-size (" + maxRequestBodySize + "), got " + maxPendingBodyBytes);
    check(maxPendingResponseBytes > 0, "--max-pending-response-bytes must be positive, got "
        + maxPendingResponseBytes);
    check(warmupSeconds >= 0 && Double.isFinite(warmupSeconds),
        "--warmup-seconds must be 0 or more, got " + warmupSeconds);
    check(responseStallTimeoutSeconds > 0 && Double.isFinite(responseStallTimeoutSeconds),
        "--response-stall-timeout must be positive, got " + responseStallTimeoutSeconds);
    check(constraintCompileTimeoutSeconds > 0 && Double.isFinite(constraintCompileTimeoutSeconds),
        "--constraint-compile-timeout must be positive, got " + constraintCompileTimeoutSeconds);
    allowedOrigins();
    return this;
  }

  private static void check(boolean ok, String message) {
    if (!ok) throw new IllegalArgumentException(message);
  }

  /** The model argument, positional or --model; null means the built-in demo model. */
  public String model() {
    return positionalModel != null ? positionalModel : modelOption;
  }

  /** --served-model-name, else the model argument; empty when neither is given (the loader names the model). */
  public List<String> servedModelNames() {
    if (!servedModelNames.isEmpty()) return List.copyOf(servedModelNames);
    return model() == null ? List.of() : List.of(model());
  }

  /** --api-key, else VLLM_API_KEY, else BARISTA_API_KEY from {@code env}; null when none is set. */
  public String apiKey(Map<String, String> env) {
    for (String key : new String[] {apiKeyOption, env.get("VLLM_API_KEY"), env.get("BARISTA_API_KEY")}) {
      if (key != null && !key.isEmpty()) return key;
    }
    return null;
  }

  /**
   * --timeout-keep-alive, else VLLM_HTTP_TIMEOUT_KEEP_ALIVE from {@code env}, else 5; throws
   * IllegalArgumentException naming the flag or variable when the value is not a positive number.
   */
  public double timeoutKeepAliveSeconds(Map<String, String> env) {
    if (timeoutKeepAliveOption != null) {
      check(timeoutKeepAliveOption > 0 && Double.isFinite(timeoutKeepAliveOption),
          "--timeout-keep-alive must be positive, got " + timeoutKeepAliveOption);
      return timeoutKeepAliveOption;
    }
    String fromEnv = env.get("VLLM_HTTP_TIMEOUT_KEEP_ALIVE");
    if (fromEnv == null || fromEnv.isBlank()) return 5;
    double seconds;
    try {
      seconds = Double.parseDouble(fromEnv.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("VLLM_HTTP_TIMEOUT_KEEP_ALIVE must be a number of seconds, got '" + fromEnv
          + "'");
    }
    check(seconds > 0 && Double.isFinite(seconds), "VLLM_HTTP_TIMEOUT_KEEP_ALIVE must be positive, got " + fromEnv);
    return seconds;
  }

  /** The CORS origins, empty when CORS is off. Accepts vLLM's JSON list form and a plain comma-separated list. */
  public List<String> allowedOrigins() {
    if (allowedOrigins == null || allowedOrigins.isBlank()) return List.of();
    String list = allowedOrigins.strip();
    if (list.startsWith("[")) {
      if (!list.endsWith("]")) throw new IllegalArgumentException("--allowed-origins: unterminated JSON list " + list);
      list = list.substring(1, list.length() - 1);
    }
    List<String> origins = new ArrayList<>();
    for (String origin : list.split(",")) {
      String o = origin.strip();
      if (o.length() >= 2 && o.startsWith("\"") && o.endsWith("\"")) o = o.substring(1, o.length() - 1);
      if (!o.isEmpty()) origins.add(o);
    }
    return origins;
  }

  /** The chat template text: --chat-template read as a file when one exists there, else taken as the template. */
  public String chatTemplateText() throws IOException {
    if (chatTemplate == null) return null;
    Path path = Path.of(chatTemplate);
    return Files.isRegularFile(path) ? Files.readString(path) : chatTemplate;
  }

  /**
   * The thinking-token budget --reasoning-budgets gives a reasoning_effort (low, medium or high); null means
   * unlimited. Throws IllegalArgumentException naming the flag when it is malformed.
   */
  public Integer reasoningBudget(String effort) {
    String[] budgets = reasoningBudgets.split(",", -1);
    String expected = "--reasoning-budgets must be three comma-separated budgets for low,medium,high, each a "
        + "token count or 'unlimited', got '" + reasoningBudgets + "'";
    check(budgets.length == REASONING_EFFORTS.size(), expected);
    int index = REASONING_EFFORTS.indexOf(effort);
    if (index < 0) throw new IllegalArgumentException("reasoning effort must be one of low, medium, high");
    Integer chosen = null;
    for (int i = 0; i < budgets.length; i++) {
      String b = budgets[i].strip();
      Integer value;
      if (b.equals("unlimited")) {
        value = null;
      } else {
        try {
          value = Integer.parseInt(b);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(expected);
        }
        check(value >= 0, expected);
      }
      if (i == index) chosen = value;
    }
    return chosen;
  }

  /** OpenAI's reasoning_effort values, in --reasoning-budgets order. */
  public static final List<String> REASONING_EFFORTS = List.of("low", "medium", "high");

  /** Flags that were given but change nothing here, for one log line at startup. */
  public List<String> ignoredFlags() {
    List<String> ignored = new ArrayList<>();
    if (trustRemoteCode) ignored.add("--trust-remote-code");
    if (swapSpace != null) ignored.add("--swap-space");
    for (Map.Entry<String, String> given : vllmFlagsGiven.entrySet()) {
      VllmFlag flag = VllmFlags.named(given.getKey());
      ignored.add(flag.takesValue() ? flag.name() + " " + given.getValue() : flag.name());
    }
    return ignored;
  }
}
