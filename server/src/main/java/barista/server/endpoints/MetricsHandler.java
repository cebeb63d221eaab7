package barista.server.endpoints;

import barista.server.http.Endpoint;
import barista.server.http.Exchange;
import barista.server.metrics.ServerMetrics;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;

/** GET /metrics: Prometheus text exposition. */
public final class MetricsHandler implements Endpoint {
  private final ServerMetrics metrics;

  public MetricsHandler(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public boolean heavy() {
    return true;
  }

  @Override
  public void handle(Exchange exchange) {
    exchange.send(HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8",
        metrics.scrape().getBytes(StandardCharsets.UTF_8));
  }
}
