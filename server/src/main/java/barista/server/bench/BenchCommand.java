package barista.server.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import barista.server.progress.ProgressReporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code barista bench}: drives a running server through the OpenAI API with a bounded load and reports throughput
 * and latency as {@code vllm bench serve} does. Exit code 1 when any request failed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Benchmark a running OpenAI-compatible server (like vllm bench serve).")
public final class BenchCommand implements Callable<Integer> {
  /** The deployment guide's test: 32 users at once, each asking this once. */
  static final String SEED_32_USERS = "seed-32-users";
  static final String SEED_32_USERS_PROMPT = "解释牛顿第一定律";
  /** The guide's client samples at this temperature, with the model's top_p (R1's generation_config: 0.95). */
  static final double SEED_32_USERS_TEMPERATURE = 0.7;
  private static final ObjectMapper JSON = new ObjectMapper();

  enum Endpoint { completions, chat }

  @Option(names = "--base-url", defaultValue = "http://127.0.0.1:8000", description = "Server (default: ${DEFAULT-VALUE}).")
  URI baseUrl;

  @Option(names = "--model", description = "Model name to request (default: the first of GET /v1/models).")
  String model;

  @Option(names = "--endpoint", description = "${COMPLETION-CANDIDATES} (default: completions; chat for the preset).")
  Endpoint endpoint;

  @Option(names = "--preset", description = SEED_32_USERS + ": 32 concurrent chat requests \"" + SEED_32_USERS_PROMPT
      + "\", max_tokens 128 (--output-len overrides), temperature 0.7 and the model's top_p as the guide's client "
      + "(--temperature overrides).")
  String preset;

  @Option(names = "--dataset", description = "JSON lines, each {\"prompt\": \"...\", \"max_tokens\": n} (max_tokens "
      + "optional); default: random prompts.")
  Path dataset;

  @Option(names = "--num-prompts", description = "Requests to send (default: 1000; every dataset line; 32 for the preset).")
  Integer numPrompts;

  @Option(names = "--concurrency", description = "Most requests in flight (default: all of them).")
  Integer concurrency;

  @Option(names = "--request-rate", defaultValue = "Infinity",
      description = "Mean requests/s, Poisson arrivals (default: all at once).")
  double requestRate;

  @Option(names = "--input-len", defaultValue = "1024", description = "Random prompt tokens (default: ${DEFAULT-VALUE}).")
  int inputLen;

  @Option(names = "--output-len", defaultValue = "128",
      description = "max_tokens of random prompts, the preset and dataset lines without one (default: ${DEFAULT-VALUE}).")
  int outputLen;

  @Option(names = "--ignore-eos", description = "Generate max_tokens whatever the model says.")
  boolean ignoreEos;

  @Option(names = "--json-schema-path", description = "A JSON schema file: every request asks for output matching it "
      + "(response_format json_schema), as vLLM's structured-output benchmark does; excludes --ignore-eos.")
  Path jsonSchemaPath;

  @Option(names = "--stream", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Stream responses; TTFT, TPOT and ITL need it (default: ${DEFAULT-VALUE}).")
  boolean stream;

  @Option(names = "--temperature", description = "Sampling temperature (default: 0; 0.7 for the preset).")
  Double temperatureOption;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of random prompts and arrivals (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--timeout", defaultValue = "600", description = "Seconds a request may take (default: ${DEFAULT-VALUE}).")
  double timeoutSeconds;

  @Option(names = "--json", description = "Also write the results to this file as JSON.")
  Path json;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    validate();
    ObjectNode responseFormat = responseFormat();
    PoissonArrivals arrivals = new PoissonArrivals(requestRate, seed);
    boolean presetRun = preset != null;
    double temperature = temperatureOption != null ? temperatureOption : presetRun ? SEED_32_USERS_TEMPERATURE : 0;
    Endpoint api = endpoint != null ? endpoint : presetRun ? Endpoint.chat : Endpoint.completions;
    Duration timeout = Duration.ofMillis((long) (timeoutSeconds * 1000));
    List<BenchPrompt> prompts = prompts(api);
    String served = model != null ? model : BenchClient.firstModel(baseUrl, timeout);
    int limit = concurrency != null ? concurrency : presetRun ? 32 : prompts.size();
    PrintWriter out = spec.commandLine().getOut();
    String rate = Double.isInfinite(requestRate) ? "inf" : Double.toString(requestRate);
    out.printf("bench: %d %s requests to %s (model %s), concurrency %d, request rate %s/s, %s%n", prompts.size(), api,
        baseUrl, served, limit, rate, temperature == 0 ? "greedy" : "temperature " + temperature
            + ", the server's top_p (the model's generation_config)");
    out.flush();

    GpuSampler sampler = GpuSampler.start();
    LoadDriver.Run run;
    GpuSampler.Usage gpu;
    BenchProgress progress = new BenchProgress(ProgressReporter.onStderr("bench"), prompts.size());
    try (BenchClient client = new BenchClient(new BenchClient.Settings(baseUrl, served, api == Endpoint.chat, stream,
        ignoreEos, temperature, timeout, responseFormat))) {
      run = LoadDriver.run(prompts, client::send, limit, arrivals, progress::finished);
    } finally {
      progress.reporter().finish();
      gpu = sampler == null ? null : sampler.stop();
    }
    BenchReport report = BenchReport.of(run, gpu);
    report.print(out);
    if (presetRun) {
      out.printf("%s: %d/%d answers in %.2f s wall, mean latency %.2f s, %.2f requests/s%n", preset,
          report.completed(), prompts.size(), report.duration(), report.e2el().mean(), report.requestThroughput());
      out.flush();
    }
    if (json != null) {
      ObjectNode results = report.toJson(JSON);
      results.put("base_url", baseUrl.toString());
      results.put("model", served);
      results.put("endpoint", api.name());
      results.put("num_prompts", prompts.size());
      results.put("max_concurrency", limit);
      results.put("request_rate", rate);
      if (preset != null) results.put("preset", preset);
      results.put("temperature", temperature);
    if (jsonSchemaPath != null) results.put("json_schema_path", jsonSchemaPath.toString());
      JSON.writerWithDefaultPrettyPrinter().writeValue(json.toFile(), results);
    }
    return report.failed() > 0 ? 1 : 0;
  }

  private void validate() {
    if (preset != null && !preset.equals(SEED_32_USERS)) {
      throw new IllegalArgumentException("unknown --preset " + preset + " (known: " + SEED_32_USERS + ")");
    }
    if (preset != null && dataset != null) throw new IllegalArgumentException("--preset and --dataset exclude each other");
    if (numPrompts != null && numPrompts < 1) throw new IllegalArgumentException("--num-prompts must be >= 1");
    if (concurrency != null && concurrency < 1) throw new IllegalArgumentException("--concurrency must be >= 1");
    if (inputLen < 1) throw new IllegalArgumentException("--input-len must be >= 1");
    if (outputLen < 1) throw new IllegalArgumentException("--output-len must be >= 1");
    if (!(timeoutSeconds > 0)) throw new IllegalArgumentException("--timeout must be > 0");
    if (jsonSchemaPath != null && ignoreEos) {
      throw new IllegalArgumentException("--json-schema-path and --ignore-eos exclude each other: the schema decides "
          + "where each output ends");
    }
  }

  /** OpenAI's response_format for --json-schema-path, or null. */
  private ObjectNode responseFormat() throws java.io.IOException {
    if (jsonSchemaPath == null) return null;
    if (!java.nio.file.Files.isRegularFile(jsonSchemaPath)) {
      throw new IllegalArgumentException("--json-schema-path " + jsonSchemaPath + " is not a file");
    }
    com.fasterxml.jackson.databind.JsonNode schema;
    try {
      schema = JSON.readTree(jsonSchemaPath.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("--json-schema-path " + jsonSchemaPath + " is not JSON: "
          + e.getOriginalMessage());
    }
    ObjectNode format = JSON.createObjectNode().put("type", "json_schema");
    format.putObject("json_schema").put("name", "bench").put("strict", true).set("schema", schema);
    return format;
  }

  private List<BenchPrompt> prompts(Endpoint api) throws java.io.IOException {
    if (preset != null) {
      return Prompts.repeated(SEED_32_USERS_PROMPT, numPrompts != null ? numPrompts : 32, outputLen);
    }
    if (dataset != null) return Prompts.dataset(dataset, numPrompts, outputLen);
    return Prompts.random(numPrompts != null ? numPrompts : 1000, inputLen, outputLen, api == Endpoint.chat, seed);
  }
}
