package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** /metrics renders vLLM's metric names exactly, so existing dashboards work. */
class MetricsTest {

  @Test
  void scrapeHasVllmNamesAndCounts() throws Exception {
    try (TestServer server = new TestServer()) {
      assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"abcd\",\"max_tokens\":3}").statusCode());
      assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"ab\"}").statusCode());
      long[] steps = new long[barista.scheduler.StepTokenHistogram.BOUNDS.length + 1];
      steps[0] = 1; // a decode step
      steps[1] = 1; // 5 tokens: (1, 8]
      steps[7] = 1; // 300 tokens: (256, 512]
      server.engine.stepTokens = new barista.scheduler.StepTokenHistogram.Snapshot(steps, 3, 306);
      HttpResponse<String> response = server.get("/metrics");
      assertEquals(200, response.statusCode());
      assertTrue(response.headers().firstValue("content-type").orElseThrow().startsWith("text/plain"));
      String text = response.body();
      String model = "model_name=\"fake-model\"";
      assertEquals(3.0, value(text, "vllm:num_requests_running{" + model + "}"));
      assertEquals(1.0, value(text, "vllm:num_requests_waiting{" + model + "}"));
      assertEquals(0.25, value(text, "vllm:kv_cache_usage_perc{" + model + "}"));
      assertEquals(0.25, value(text, "vllm:gpu_cache_usage_perc{" + model + "}"));
      assertEquals(7.0, value(text, "vllm:num_preemptions_total{" + model + "}"));
      assertEquals(40.0, value(text, "vllm:prefix_cache_queries_total{" + model + "}"));
      assertEquals(30.0, value(text, "vllm:prefix_cache_hits_total{" + model + "}"));
      assertEquals(6.0, value(text, "vllm:prompt_tokens_total{" + model + "}"));
      assertEquals(14.0, value(text, "vllm:generation_tokens_total{" + model + "}"));
      assertEquals(1.0, value(text, "vllm:request_success_total{finished_reason=\"length\"," + model + "}"));
      assertEquals(1.0, value(text, "vllm:request_success_total{finished_reason=\"stop\"," + model + "}"));
      assertEquals(2.0, value(text, "vllm:time_to_first_token_seconds_count{" + model + "}"));
      assertEquals(12.0, value(text, "vllm:inter_token_latency_seconds_count{" + model + "}"));
      assertEquals(2.0, value(text, "vllm:time_per_output_token_seconds_count{" + model + "}"));
      assertEquals(2.0, value(text, "vllm:e2e_request_latency_seconds_count{" + model + "}"));
      assertEquals(2.0, value(text, "vllm:e2e_request_latency_seconds_bucket{" + model + ",le=\"+Inf\"}"));
      // vLLM's name, "_total" and all, with cumulative buckets
      String bucket = "vllm:iteration_tokens_total_bucket{" + model + ",le=";
      assertEquals(1.0, value(text, bucket + "\"1.0\"}"));
      assertEquals(2.0, value(text, bucket + "\"8.0\"}"));
      assertEquals(2.0, value(text, bucket + "\"256.0\"}"));
      assertEquals(3.0, value(text, bucket + "\"512.0\"}"));
      assertEquals(3.0, value(text, bucket + "\"+Inf\"}"));
      assertEquals(3.0, value(text, "vllm:iteration_tokens_total_count{" + model + "}"));
      assertEquals(306.0, value(text, "vllm:iteration_tokens_total_sum{" + model + "}"));
      assertTrue(text.contains("# TYPE vllm:iteration_tokens_total histogram\n"), text);
      assertTrue(text.contains("vllm:time_to_first_token_seconds_bucket{" + model + ",le=\"0.001\"}"), text);
      assertTrue(text.contains("jvm_memory_used_bytes{"), "JVM metrics too");
    }
  }

  /**
   * vLLM V1's per-request histograms: phases from the engine's timestamps (the fake engine says each request
   * waited 1 ms in its queue), token counts, the request's n and max_tokens; and the cache config.
   */
  @Test
  void requestPhasesTokenCountsParamsAndCacheConfig() throws Exception {
    try (TestServer server = new TestServer()) {
      assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"abcd\",\"max_tokens\":3}").statusCode());
      assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"ab\",\"n\":2}").statusCode());
      String text = server.get("/metrics").body();
      String model = "model_name=\"fake-model\"";
      for (String phase : new String[] {"queue", "prefill", "decode", "inference"}) {
        assertEquals(3.0, value(text, "vllm:request_" + phase + "_time_seconds_count{" + model + "}"), phase);
      }
      assertEquals(0.003, value(text, "vllm:request_queue_time_seconds_sum{" + model + "}"), 1e-9);
      double prefill = value(text, "vllm:request_prefill_time_seconds_sum{" + model + "}");
      double decode = value(text, "vllm:request_decode_time_seconds_sum{" + model + "}");
      assertEquals(prefill + decode, value(text, "vllm:request_inference_time_seconds_sum{" + model + "}"), 1e-6);
      assertEquals(3.0, value(text, "vllm:request_prompt_tokens_count{" + model + "}"));
      assertEquals(4 + 2 + 2, value(text, "vllm:request_prompt_tokens_sum{" + model + "}"));
      assertEquals(value(text, "vllm:generation_tokens_total{" + model + "}"),
          value(text, "vllm:request_generation_tokens_sum{" + model + "}"));
      // max_tokens 3, and twice the default: --max-model-len (256) minus the 2 prompt tokens
      assertEquals(3 + 2 * 254, value(text, "vllm:request_params_max_tokens_sum{" + model + "}"));
      assertEquals(1.0, value(text, "vllm:request_params_max_tokens_bucket{" + model + ",le=\"5.0\"}"));
      assertEquals(1.0, value(text, "vllm:request_params_n_bucket{" + model + ",le=\"1.0\"}"));
      assertEquals(2.0, value(text, "vllm:request_params_n_bucket{" + model + ",le=\"2.0\"}"));
      assertEquals(3.0, value(text, "vllm:request_params_n_sum{" + model + "}"));
      assertEquals(1.0, value(text, "vllm:cache_config_info{block_size=\"16\",enable_prefix_caching=\"true\","
          + "gpu_memory_utilization=\"0.9\"," + model + ",num_gpu_blocks=\"100\"}"));
    }
  }

  @Test
  void apiResponsesAreCountedByHandlerMethodAndStatusClass() throws Exception {
    try (TestServer server = new TestServer()) {
      assertEquals(200, server.post("/v1/completions", "{\"prompt\":\"ab\",\"max_tokens\":2}").statusCode());
      assertEquals(200, server.post("/v1/completions",
          "{\"prompt\":\"ab\",\"max_tokens\":2,\"stream\":true}").statusCode());
      assertEquals(400, server.post("/v1/completions", "{\"prompt\":\"ab\",\"max_tokens\":-1}").statusCode());
      assertEquals(404, server.get("/no/such/path").statusCode());
      assertEquals(405, server.get("/v1/completions").statusCode());
      String text = server.get("/metrics").body();
      assertEquals(2.0, value(text, "http_requests_total{handler=\"/v1/completions\",method=\"POST\",status=\"2xx\"}"));
      assertEquals(1.0, value(text, "http_requests_total{handler=\"/v1/completions\",method=\"POST\",status=\"4xx\"}"));
      assertEquals(1.0, value(text, "http_requests_total{handler=\"/v1/completions\",method=\"GET\",status=\"4xx\"}"));
      assertEquals(1.0, value(text, "http_requests_total{handler=\"unmatched\",method=\"GET\",status=\"4xx\"}"),
          "unknown paths share one label value, so clients cannot grow the series without bound");
    }
  }

  @Test
  void tenThousandMethodNamesLeaveTheSeriesCountUnchanged() throws Exception {
    try (TestServer server = new TestServer();
        java.net.Socket socket = new java.net.Socket("127.0.0.1", server.server.port())) {
      java.io.InputStream in = socket.getInputStream();
      java.io.OutputStream out = socket.getOutputStream();
      sendMethods(out, in, 0, 1); // the first unknown method makes the "other" series
      server.get("/metrics"); // makes the series of /metrics itself
      int before = seriesCount(server.get("/metrics").body());
      sendMethods(out, in, 1, 10_001);
      String text = server.get("/metrics").body();
      assertEquals(before, seriesCount(text), "series after 10,000 distinct methods");
      assertEquals(10_001.0, value(text, "http_requests_total{handler=\"/v1/models\",method=\"other\",status=\"4xx\"}"));
    }
  }

  /** Sends methods M{from}..M{to-1}, each a distinct 200-character name, and reads their 405s. */
  private static void sendMethods(java.io.OutputStream out, java.io.InputStream in, int from, int to)
      throws java.io.IOException {
    StringBuilder requests = new StringBuilder();
    for (int i = from; i < to; i++) {
      requests.append("M").append(i).append("X".repeat(200)).append(" /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    byte[] bytes = requests.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Thread writer = new Thread(() -> {
      try {
        out.write(bytes);
        out.flush();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    writer.start();
    byte[] marker = "HTTP/1.1 405".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    int seen = 0;
    int matched = 0;
    byte[] buffer = new byte[65536];
    while (seen < to - from) {
      int n = in.read(buffer);
      if (n < 0) throw new AssertionError("the server closed the connection after " + seen + " responses");
      for (int i = 0; i < n; i++) {
        matched = buffer[i] == marker[matched] ? matched + 1 : buffer[i] == marker[0] ? 1 : 0;
        if (matched == marker.length) {
          seen++;
          matched = 0;
        }
      }
    }
  }

  /** Series of http_requests_total in a Prometheus scrape (JVM metrics may add series of their own as they run). */
  private static int seriesCount(String scrape) {
    return (int) scrape.lines().filter(line -> line.startsWith("http_requests_total{")).count();
  }

  private static double value(String scrape, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
    if (!m.find()) throw new AssertionError("no series " + series + " in:\n" + scrape);
    return Double.parseDouble(m.group(1));
  }
}
