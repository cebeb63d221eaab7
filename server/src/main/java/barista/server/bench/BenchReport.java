package barista.server.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/** The figures of a run, vLLM's "Serving Benchmark Result" and then some: as a table and as JSON. Times in seconds. */
record BenchReport(int completed, int failed, double duration, long inputTokens, long outputTokens, int peakInFlight,
    Stats ttft, Stats tpot, Stats itl, Stats e2el, GpuSampler.Usage gpu, List<String> errors) {

  /** Distinct error messages kept for the report. */
  private static final int MAX_ERRORS = 5;

  static BenchReport of(LoadDriver.Run run, GpuSampler.Usage gpu) {
    List<Double> ttft = new ArrayList<>();
    List<Double> tpot = new ArrayList<>();
    List<Double> itl = new ArrayList<>();
    List<Double> e2el = new ArrayList<>();
    Set<String> errors = new LinkedHashSet<>();
    int completed = 0;
    long input = 0;
    long output = 0;
    for (RequestResult r : run.results()) {
      if (!r.success()) {
        if (errors.size() < MAX_ERRORS) errors.add(r.error());
        continue;
      }
      completed++;
      input += r.promptTokens();
      output += r.outputTokens();
      if (r.ttft() != null) ttft.add(r.ttft());
      if (r.timePerOutputToken() != null) tpot.add(r.timePerOutputToken());
      itl.addAll(r.interTokenLatencies());
      e2el.add(r.latency());
    }
    return new BenchReport(completed, run.results().size() - completed, run.durationSeconds(), input, output,
        run.peakInFlight(), Stats.of(ttft), Stats.of(tpot), Stats.of(itl), Stats.of(e2el), gpu, List.copyOf(errors));
  }

  double requestThroughput() {
    return duration > 0 ? completed / duration : 0;
  }

  double outputThroughput() {
    return duration > 0 ? outputTokens / duration : 0;
  }

  double totalTokenThroughput() {
    return duration > 0 ? (inputTokens + outputTokens) / duration : 0;
  }

  void print(PrintWriter out) {
    out.println(title("Serving Benchmark Result", '='));
    row(out, "Successful requests:", completed);
    row(out, "Failed requests:", failed);
    row(out, "Peak concurrent requests:", peakInFlight);
    row(out, "Benchmark duration (s):", duration);
    row(out, "Total input tokens:", inputTokens);
    row(out, "Total generated tokens:", outputTokens);
    row(out, "Request throughput (req/s):", requestThroughput());
    row(out, "Output token throughput (tok/s):", outputThroughput());
    row(out, "Total token throughput (tok/s):", totalTokenThroughput());
    latency(out, "Time to First Token", "TTFT", ttft);
    latency(out, "Time per Output Token (excl. 1st token)", "TPOT", tpot);
    latency(out, "Inter-token Latency", "ITL", itl);
    latency(out, "End-to-end Latency", "E2EL", e2el);
    if (gpu != null) {
      out.println(title("GPU (nvidia-smi)", '-'));
      row(out, "Mean GPU utilization (%):", gpu.meanUtilization());
      row(out, "Max GPU utilization (%):", gpu.maxUtilization());
      row(out, "Mean GPU memory used (MiB):", gpu.meanMemoryMiB());
      row(out, "Max GPU memory used (MiB):", gpu.maxMemoryMiB());
    }
    for (String error : errors) out.println("error: " + error);
    out.println("=".repeat(50));
    out.flush();
  }

  private static void latency(PrintWriter out, String title, String name, Stats stats) {
    out.println(title(title, '-'));
    row(out, "Mean " + name + " (ms):", stats.mean() * 1000);
    row(out, "Median " + name + " (ms):", stats.median() * 1000);
    row(out, "P90 " + name + " (ms):", stats.p90() * 1000);
    row(out, "P99 " + name + " (ms):", stats.p99() * 1000);
  }

  private static void row(PrintWriter out, String label, Object value) {
    String text = value instanceof Double d ? String.format("%.2f", d) : Objects.toString(value);
    out.printf("%-40s %-10s%n", label, text);
  }

  private static String title(String text, char fill) {
    int left = (50 - text.length()) / 2;
    return String.valueOf(fill).repeat(left) + text + String.valueOf(fill).repeat(50 - left - text.length());
  }

  /** Flat keys as vLLM's --save-result (times in ms), plus p90, failures and the GPU figures. */
  ObjectNode toJson(ObjectMapper mapper) {
    ObjectNode json = mapper.createObjectNode();
    json.put("completed", completed);
    json.put("failed", failed);
    json.put("peak_concurrency", peakInFlight);
    json.put("duration", duration);
    json.put("total_input_tokens", inputTokens);
    json.put("total_output_tokens", outputTokens);
    json.put("request_throughput", requestThroughput());
    json.put("output_throughput", outputThroughput());
    json.put("total_token_throughput", totalTokenThroughput());
    putLatency(json, "ttft", ttft);
    putLatency(json, "tpot", tpot);
    putLatency(json, "itl", itl);
    putLatency(json, "e2el", e2el);
    if (gpu != null) {
      json.put("gpu_samples", gpu.samples());
      json.put("mean_gpu_utilization", gpu.meanUtilization());
      json.put("max_gpu_utilization", gpu.maxUtilization());
      json.put("mean_gpu_memory_used_mib", gpu.meanMemoryMiB());
      json.put("max_gpu_memory_used_mib", gpu.maxMemoryMiB());
    }
    errors.forEach(json.putArray("errors")::add);
    return json;
  }

  private static void putLatency(ObjectNode json, String name, Stats stats) {
    json.put("mean_" + name + "_ms", stats.mean() * 1000);
    json.put("median_" + name + "_ms", stats.median() * 1000);
    json.put("p90_" + name + "_ms", stats.p90() * 1000);
    json.put("p99_" + name + "_ms", stats.p99() * 1000);
  }
}
