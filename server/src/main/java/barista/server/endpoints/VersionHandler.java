package barista.server.endpoints;

import barista.server.model.Version;
import barista.server.http.Endpoint;
import barista.server.http.Exchange;
import barista.server.http.Json;
import io.netty.handler.codec.http.HttpResponseStatus;

/** GET /version. */
public final class VersionHandler implements Endpoint {
  @Override
  public void handle(Exchange exchange) {
    exchange.sendJson(HttpResponseStatus.OK, Json.object().put("version", Version.VERSION));
  }
}
