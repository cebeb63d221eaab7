package barista.server.endpoints;

import barista.scheduler.EngineClient;
import barista.scheduler.EngineStatus;
import barista.server.http.ApiException;
import barista.server.http.Endpoint;
import barista.server.http.Exchange;
import io.netty.handler.codec.http.HttpResponseStatus;

/** GET /health and /ping: 200 only while the engine is ready and alive (a wedged engine must not look healthy). */
public final class HealthHandler implements Endpoint {
  private final EngineClient engine;

  public HealthHandler(EngineClient engine) {
    this.engine = engine;
  }

  @Override
  public void handle(Exchange exchange) {
    EngineStatus status = engine.status();
    if (!status.ready()) throw ApiException.overloaded("The engine is still starting");
    if (!status.alive()) throw ApiException.overloaded("The engine is not making progress");
    exchange.send(HttpResponseStatus.OK, "application/json", new byte[0]);
  }
}
