package barista.server.endpoints;

import barista.server.http.Endpoint;
import barista.server.http.Exchange;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;

/** GET /v1/models: one entry per served name, in vLLM's shape (with max_model_len). */
public final class ModelsHandler implements Endpoint {
  private final ServerContext server;
  private final long created = System.currentTimeMillis() / 1000;

  public ModelsHandler(ServerContext server) {
    this.server = server;
  }

  @Override
  public void handle(Exchange exchange) {
    ObjectNode list = Json.object();
    list.put("object", "list");
    ArrayNode data = list.putArray("data");
    String root = server.options().model() != null ? server.options().model() : server.defaultModelName();
    for (String name : server.model().servedNames()) {
      ObjectNode model = data.addObject();
      model.put("id", name);
      model.put("object", "model");
      model.put("created", created);
      model.put("owned_by", "barista");
      model.put("root", root);
      model.putNull("parent");
      model.put("max_model_len", server.model().maxModelLen());
      permission(model.putArray("permission").addObject(), name);
    }
    exchange.sendJson(HttpResponseStatus.OK, list);
  }

  /** vLLM's ModelPermission entry: everything allowed but fine-tuning. */
  private void permission(ObjectNode p, String name) {
    p.put("id", "modelperm-" + Integer.toHexString(name.hashCode()));
    p.put("object", "model_permission");
    p.put("created", created);
    p.put("allow_create_engine", false);
    p.put("allow_sampling", true);
    p.put("allow_logprobs", true);
    p.put("allow_search_indices", false);
    p.put("allow_view", true);
    p.put("allow_fine_tuning", false);
    p.put("organization", "*");
    p.putNull("group");
    p.put("is_blocking", false);
  }
}
