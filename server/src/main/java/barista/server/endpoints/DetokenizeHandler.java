package barista.server.endpoints;

import barista.server.http.ApiException;
import barista.server.http.Exchange;
import barista.server.http.Json;
import barista.server.openai.JsonFields;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/** POST /detokenize, vLLM's shape: {"tokens": [ids]} in, {"prompt": text} out. */
public final class DetokenizeHandler extends ModelEndpoint {
  public DetokenizeHandler(ServerContext server) {
    super(server);
  }

  @Override
  public void handle(Exchange exchange) {
    JsonFields f = new JsonFields(Requests.body(exchange, server));
    Requests.modelName(server, f.string("model"));
    List<Integer> tokens = f.integers("tokens");
    if (tokens == null) throw ApiException.badRequest("tokens is required", "tokens");
    int[] ids = Requests.checkTokenIds(tokens.stream().mapToInt(Integer::intValue).toArray(), server, "tokens");
    exchange.sendJson(HttpResponseStatus.OK, Json.object().put("prompt", server.model().decode(ids, true)));
  }
}
