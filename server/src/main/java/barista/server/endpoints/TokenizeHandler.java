package barista.server.endpoints;

import barista.server.http.ApiException;
import barista.server.http.Exchange;
import barista.server.model.SpecialTokenEscape;
import barista.server.http.Json;
import barista.server.openai.ChatRequest;
import barista.server.openai.JsonFields;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * POST /tokenize, vLLM's shape: {"prompt"} or {"messages"} (rendered with the chat template) in; {"count",
 * "max_model_len", "tokens", "token_strs"} out.
 */
public final class TokenizeHandler extends ModelEndpoint {
  public TokenizeHandler(ServerContext server) {
    super(server);
  }

  @Override
  public void handle(Exchange exchange) {
    ObjectNode body = Requests.body(exchange, server);
    JsonFields f = new JsonFields(body);
    Requests.modelName(server, f.string("model"));
    boolean returnTokenStrs = f.bool("return_token_strs", false);
    int[] tokens;
    if (f.has("messages")) {
      ChatRequest chat = ChatRequest.parse(body, server.requestPolicy(), false);
      SpecialTokenEscape escape =
          SpecialTokenEscape.of(server.model(), chat.messages(), server.options().escapeSpecialTokensInContent);
      String prompt = Requests.renderChat(server, chat, escape.messages()); // continue_final_message as chat has it
      tokens = escape.encode(prompt, f.bool("add_special_tokens", false));
    } else {
      String prompt = f.string("prompt");
      if (prompt == null) throw ApiException.badRequest("prompt or messages is required", "prompt");
      tokens = server.model().encode(prompt, f.bool("add_special_tokens", true));
    }
    ObjectNode response = Json.object();
    response.put("count", tokens.length);
    response.put("max_model_len", server.model().maxModelLen());
    ArrayNode ids = response.putArray("tokens");
    for (int id : tokens) ids.add(id);
    if (returnTokenStrs) {
      ArrayNode strs = response.putArray("token_strs");
      for (int id : tokens) strs.add(server.model().tokenText(id));
    } else {
      response.putNull("token_strs");
    }
    exchange.sendJson(HttpResponseStatus.OK, response);
  }
}
