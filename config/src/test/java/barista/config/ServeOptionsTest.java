package barista.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeOptionsTest {

  @Test
  void parsesTheDeploymentGuideCommand() {
    ServeOptions o = ServeOptions.parse(("--host 0.0.0.0 --port 8000 --model MODEL_DIR --tensor-parallel-size 1"
        + " --dtype auto --gpu-memory-utilization 0.9 --max-model-len 4096 --quantization awq --enforce-eager"
        + " --max-num-seqs 256 --max-num-batched-tokens 4096 --scheduling-policy fcfs").split(" "));
    assertEquals("MODEL_DIR", o.model());
    assertEquals(List.of("MODEL_DIR"), o.servedModelNames());
    assertEquals(8000, o.port);
    assertEquals(4096, o.maxModelLen);
    assertEquals(ServeOptions.Quantization.awq, o.quantization);
    assertEquals(4096, o.maxNumBatchedTokens);
    assertEquals(ServeOptions.SchedulingPolicy.fcfs, o.schedulingPolicy);
    assertTrue(o.enforceEager);
    assertEquals(List.of(), o.ignoredFlags());
  }

  @Test
  void defaultsFollowVllm() {
    ServeOptions o = ServeOptions.parse();
    assertNull(o.model(), "no model means the demo model");
    assertEquals(List.of(), o.servedModelNames());
    assertEquals("0.0.0.0", o.host);
    assertEquals(8000, o.port);
    assertEquals("auto", o.dtype);
    assertEquals(ServeOptions.Device.auto, o.device);
    assertNull(o.maxModelLen);
    assertEquals(0.9, o.gpuMemoryUtilization);
    assertEquals(4.0, o.kvCacheSpaceGiB);
    assertEquals(16, o.blockSize);
    assertEquals(256, o.maxNumSeqs);
    assertEquals(2048, o.maxNumBatchedTokens);
    assertTrue(o.enableChunkedPrefill);
    assertTrue(o.enablePrefixCaching);
    assertEquals(0, o.seed);
    assertEquals(20, o.maxLogprobs);
    assertEquals("auto", o.generationConfig);
    assertNull(o.reasoningParser);
    assertEquals(512, o.reasoningBudget("low"));
    assertEquals(2048, o.reasoningBudget("medium"));
    assertNull(o.reasoningBudget("high"), "high thinks without a bound");
    assertEquals(ServeOptions.LogLevel.info, o.logLevel);
    assertEquals(ServeOptions.LogFormat.text, o.logFormat);
    assertNull(o.logFile);
    assertEquals(List.of(), o.allowedOrigins());
    assertEquals(ServeOptions.Quantization.none, o.quantization);
    assertEquals(30.0, o.shutdownTimeoutSeconds);
    assertEquals(0.0, o.requestTimeoutSeconds);
    assertEquals(32 * 1024 * 1024, o.maxRequestBodySize);
    assertEquals(5.0, o.timeoutKeepAliveSeconds(Map.of()));
    assertEquals(30.0, o.requestReadTimeoutSeconds);
    assertEquals(8192, o.maxConnections);
    assertEquals(1L << 30, o.maxPendingBodyBytes);
    assertFalse(o.protectMetrics);
    assertEquals(List.of(), o.ignoredFlags());
  }

  @Test
  void positionalModelAndSeveralServedNames() {
    ServeOptions o = ServeOptions.parse("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "--served-model-name", "r1", "r1-small",
        "--reasoning-parser", "deepseek_r1", "-tp", "1", "--uvicorn-log-level", "debug", "--dtype", "float");
    assertEquals("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", o.model());
    assertEquals(List.of("r1", "r1-small"), o.servedModelNames());
    assertEquals(ServeOptions.ReasoningParser.deepseek_r1, o.reasoningParser);
    assertEquals(ServeOptions.LogLevel.debug, o.logLevel);
    assertEquals("float", o.dtype);
  }

  @Test
  void logFormatAndFile() {
    ServeOptions o = ServeOptions.parse("--log-format", "json", "--log-file", "/var/log/barista/barista.log");
    assertEquals(ServeOptions.LogFormat.json, o.logFormat);
    assertEquals(Path.of("/var/log/barista/barista.log"), o.logFile);
    assertThrows(IllegalArgumentException.class, () -> ServeOptions.parse("--log-format", "xml"));
  }

  @Test
  void negatableBooleanFlags() {
    ServeOptions o = ServeOptions.parse("--no-enable-prefix-caching", "--no-enable-chunked-prefill");
    assertFalse(o.enablePrefixCaching);
    assertFalse(o.enableChunkedPrefill);
    assertTrue(ServeOptions.parse("--enable-prefix-caching").enablePrefixCaching);
  }

  @Test
  void noOpFlagsAreReported() {
    ServeOptions o = ServeOptions.parse("--trust-remote-code", "--swap-space", "4", "--enforce-eager");
    assertEquals(List.of("--trust-remote-code", "--swap-space"), o.ignoredFlags());
  }

  @Test
  void apiKeyFromFlagThenVllmEnvThenBaristaEnv() {
    Map<String, String> env = Map.of("VLLM_API_KEY", "from-vllm", "BARISTA_API_KEY", "from-barista");
    assertEquals("from-flag", ServeOptions.parse("--api-key", "from-flag").apiKey(env));
    assertEquals("from-vllm", ServeOptions.parse().apiKey(env));
    assertEquals("from-barista", ServeOptions.parse().apiKey(Map.of("BARISTA_API_KEY", "from-barista")));
    assertNull(ServeOptions.parse().apiKey(Map.of("VLLM_API_KEY", "")));
  }

  @Test
  void keepAliveTimeoutFromFlagThenVllmEnvThenFive() {
    Map<String, String> env = Map.of("VLLM_HTTP_TIMEOUT_KEEP_ALIVE", "12.5");
    assertEquals(2.0, ServeOptions.parse("--timeout-keep-alive", "2").timeoutKeepAliveSeconds(env));
    assertEquals(12.5, ServeOptions.parse().timeoutKeepAliveSeconds(env));
    assertEquals(5.0, ServeOptions.parse().timeoutKeepAliveSeconds(Map.of("VLLM_HTTP_TIMEOUT_KEEP_ALIVE", " ")));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ServeOptions.parse().timeoutKeepAliveSeconds(Map.of("VLLM_HTTP_TIMEOUT_KEEP_ALIVE", "soon")));
    assertEquals("VLLM_HTTP_TIMEOUT_KEEP_ALIVE must be a number of seconds, got 'soon'", e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ServeOptions.parse().timeoutKeepAliveSeconds(Map.of("VLLM_HTTP_TIMEOUT_KEEP_ALIVE", "-1")));
  }

  @Test
  void connectionLimitFlags() {
    ServeOptions o = ServeOptions.parse("--request-read-timeout", "0.5", "--max-connections", "3",
        "--max-pending-body-bytes", "33554432");
    assertEquals(0.5, o.requestReadTimeoutSeconds);
    assertEquals(3, o.maxConnections);
    assertEquals(32L << 20, o.maxPendingBodyBytes);
    assertError("--timeout-keep-alive must be positive, got 0.0", "--timeout-keep-alive", "0");
    assertError("--request-read-timeout must be positive, got -1.0", "--request-read-timeout", "-1");
    assertError("--max-connections must be positive, got 0", "--max-connections", "0");
    assertError("--max-pending-body-bytes must be at least --max-request-body-size (33554432), got 1000",
        "--max-pending-body-bytes", "1000");
  }

  @Test
  void allowedOriginsAsJsonListOrCommaList() {
    assertEquals(List.of("*"), ServeOptions.parse("--allowed-origins", "[\"*\"]").allowedOrigins());
    assertEquals(List.of("http://a.example", "https://b.example"),
        ServeOptions.parse("--allowed-origins", "http://a.example, https://b.example").allowedOrigins());
    assertEquals(List.of("http://a.example", "http://b.example"),
        ServeOptions.parse("--allowed-origins", "[\"http://a.example\", \"http://b.example\"]").allowedOrigins());
  }

  @Test
  void chatTemplateIsAFileOrTheTemplateItself(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("template.jinja");
    Files.writeString(file, "{{ messages }}");
    assertEquals("{{ messages }}", ServeOptions.parse("--chat-template", file.toString()).chatTemplateText());
    assertEquals("{% for m in messages %}{% endfor %}",
        ServeOptions.parse("--chat-template", "{% for m in messages %}{% endfor %}").chatTemplateText());
    assertNull(ServeOptions.parse().chatTemplateText());
  }

  @Test
  void errorsAreOneLineNamingTheFlag() {
    assertError("--tensor-parallel-size 2 is not supported", "--tensor-parallel-size", "2");
    assertError("--data-parallel-size must be at least 1, got 0", "-dp", "0");
    assertError("Unknown option: '--no-such-flag'", "--no-such-flag");
    assertError("--dtype must be one of", "--dtype", "float64");
    assertError("--scheduling-policy", "--scheduling-policy", "lifo");
    assertError("--port", "--port", "eighty");
    assertError("--port must be in 0..65535", "--port", "70000");
    assertError("--max-model-len must be positive", "--max-model-len", "0");
    assertError("--gpu-memory-utilization must be in (0, 1]", "--gpu-memory-utilization", "1.5");
    assertError("model given twice", "a", "--model", "b");
    assertError("--allowed-origins", "--allowed-origins", "[\"http://a\"");
  }

  private static void assertError(String expectedPart, String... args) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServeOptions.parse(args));
    assertTrue(e.getMessage().contains(expectedPart), "message: " + e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }

  @Test
  void reasoningBudgetsAreThreeCountsOrUnlimited() {
    ServeOptions o = ServeOptions.parse("--reasoning-budgets", "16, unlimited,0");
    assertEquals(16, o.reasoningBudget("low"));
    assertNull(o.reasoningBudget("medium"));
    assertEquals(0, o.reasoningBudget("high"));
    for (String bad : new String[] {"1,2", "1,2,3,4", "1,-2,3", "a,b,c", "1,,3"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ServeOptions.parse("--reasoning-budgets", bad));
      assertTrue(e.getMessage().startsWith("--reasoning-budgets must be three"), e.getMessage());
    }
  }
}
