package barista.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The one Jackson mapper of the server, and the OpenAI error body. */
public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  public static ObjectNode errorBody(ApiException e) {
    ObjectNode error = object();
    error.put("message", e.getMessage());
    error.put("type", e.type());
    error.put("param", e.param());
    error.put("code", e.status().code());
    ObjectNode body = object();
    body.set("error", error);
    return body;
  }

  public static byte[] bytes(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize " + value.getClass().getSimpleName(), e);
    }
  }
}
