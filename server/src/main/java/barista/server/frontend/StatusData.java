package barista.server.frontend;

import barista.config.ServeOptions;
import barista.scheduler.EngineStatus;
import barista.scheduler.EngineClient;
import barista.server.http.Endpoint;
import barista.server.http.Exchange;
import barista.server.http.Json;
import barista.server.metrics.ServerMetrics;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * GET /status/data: what the status page charts, from the server's own figures (those /metrics exports): requests
 * running and waiting, KV-cache use, token and preemption totals (the page turns totals into rates), GPU
 * utilization and memory where nvidia-smi answers, and the model's facts. Guarded like /metrics.
 */
public final class StatusData implements Endpoint, AutoCloseable {
  private final EngineClient engine;
  private final ServerMetrics metrics;
  private final ServeOptions options;
  private final ModelSummary model;
  private final java.util.function.IntSupplier requestsInFlight;
  private final GpuMonitor gpus; // null: the engine runs on the CPU

  /**
   * @param facts what is known of the model: architecture, device, ...
   */
  public record ModelSummary(String name, int maxModelLen, java.util.Map<String, String> facts) {}

  public StatusData(EngineClient engine, ServerMetrics metrics, ServeOptions options, ModelSummary model,
      java.util.function.IntSupplier requestsInFlight) {
    this.engine = engine;
    this.metrics = metrics;
    this.options = options;
    this.model = model;
    this.requestsInFlight = requestsInFlight;
    this.gpus = options.device == ServeOptions.Device.cpu ? null : new GpuMonitor();
  }

  /** nvidia-smi may take a moment to start: off the event loop. */
  @Override
  public boolean heavy() {
    return true;
  }

  @Override
  public void handle(Exchange exchange) {
    exchange.sendJson(HttpResponseStatus.OK, snapshot());
  }

  ObjectNode snapshot() {
    EngineStatus status = engine.status();
    ServeOptions o = options;
    ObjectNode body = Json.object();
    body.put("time", System.nanoTime() / 1e9);
    ObjectNode engine = body.putObject("engine");
    engine.put("ready", status.ready()).put("alive", status.alive())
        .put("running", status.running()).put("waiting", status.waiting())
        .put("kv_cache_usage", status.kvCacheUsage())
        .put("kv_blocks_total", status.totalBlocks()).put("kv_blocks_free", status.freeBlocks())
        .put("preemptions", status.preemptions())
        .put("prefix_cache_queries", status.prefixCacheQueries()).put("prefix_cache_hits", status.prefixCacheHits());
    body.put("requests_in_flight", requestsInFlight.getAsInt());
    body.putObject("tokens").put("prompt", metrics.promptTokensTotal())
        .put("generation", metrics.generationTokensTotal());
    ObjectNode model = body.putObject("model");
    model.put("name", this.model.name());
    this.model.facts().forEach(model::put); // the engine's dtype among them, --dtype auto resolved
    model.put("quantization", o.quantization == ServeOptions.Quantization.none ? "none" : o.quantization.name());
    model.put("max_model_len", this.model.maxModelLen());
    model.put("max_num_seqs", o.maxNumSeqs);
    model.put("block_size", o.blockSize);
    model.put("kv_cache_tokens", (long) status.totalBlocks() * o.blockSize);
    if (gpus != null) {
      ArrayNode list = Json.MAPPER.createArrayNode();
      for (GpuMonitor.Sample s : gpus.samples()) {
        list.addObject().put("index", s.index()).put("utilization", s.utilization())
            .put("memory_used_mib", s.memoryUsedMiB()).put("memory_total_mib", s.memoryTotalMiB());
      }
      if (!list.isEmpty()) body.set("gpus", list);
    }
    return body;
  }

  @Override
  public void close() {
    if (gpus != null) gpus.close();
  }
}
