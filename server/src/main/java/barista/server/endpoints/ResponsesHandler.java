package barista.server.endpoints;

import barista.server.generation.ResponsesFormat;
import barista.server.generation.ResponsesWriter;
import barista.server.http.ApiException;
import barista.server.http.Exchange;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * POST /v1/responses, OpenAI's Responses API as vLLM serves it without a store: the request becomes a chat request
 * (instructions as a system message, input as messages, text.format as response_format, function tools, reasoning
 * effort), served by the chat path, and answered in the Responses shape ({@link ResponsesFormat}).
 * previous_response_id is refused: nothing is stored, so there is nothing to continue from.
 */
public final class ResponsesHandler extends ModelEndpoint {
  /** Fields read here; any other is passed through to the chat request (sampling fields) or ignored there. */
  private static final Set<String> ACCEPTED = Set.of("store", "metadata", "user", "truncation", "include",
      "service_tier", "background", "prompt_cache_key", "safety_identifier");
  private final ChatCompletionHandler chat;

  public ResponsesHandler(ServerContext server, ChatCompletionHandler chat) {
    super(server);
    this.chat = chat;
  }

  @Override
  public void handle(Exchange exchange) {
    ObjectNode body = Requests.body(exchange, server);
    ObjectNode echoed = Json.object();
    ObjectNode chatBody = chatBody(body, echoed);
    String model = Requests.modelName(server, body.path("model").isTextual() ? body.get("model").asText() : null);
    ResponsesFormat format = new ResponsesFormat(model, echoed);
    chat.serve(exchange, chatBody, (to, served, id, name, shape) -> new ResponsesWriter(to, served, id, name, shape,
        format));
  }

  /** The chat request a Responses request stands for; {@code echoed} gets the fields the response repeats. */
  static ObjectNode chatBody(ObjectNode body, ObjectNode echoed) {
    if (body.hasNonNull("previous_response_id")) {
      throw ApiException.badRequest("previous_response_id is not supported: barista stores no responses (send the "
          + "conversation as input instead)", "previous_response_id");
    }
    if (body.path("background").asBoolean(false)) {
      throw ApiException.badRequest("background is not supported", "background");
    }
    ObjectNode out = Json.object();
    ArrayNode messages = out.putArray("messages");
    JsonNode instructions = body.get("instructions");
    if (instructions != null && !instructions.isNull()) {
      if (!instructions.isTextual()) throw ApiException.badRequest("instructions must be a string", "instructions");
      messages.addObject().put("role", "system").put("content", instructions.asText());
    }
    echoed.set("instructions", instructions == null ? Json.MAPPER.nullNode() : instructions);
    input(body.get("input"), messages);
    List<String> handled = new ArrayList<>(List.of("input", "instructions", "previous_response_id", "background",
        "max_output_tokens", "text", "tools", "tool_choice", "reasoning"));
    if (body.has("max_output_tokens") && !body.get("max_output_tokens").isNull()) {
      out.set("max_tokens", body.get("max_output_tokens"));
    }
    echoed.set("max_output_tokens", body.path("max_output_tokens").isMissingNode() ? Json.MAPPER.nullNode()
        : body.get("max_output_tokens"));
    JsonNode format = body.path("text").path("format");
    if (format.isObject()) out.set("response_format", responseFormat(format));
    echoed.putObject("text").set("format", format.isObject() ? format : Json.object().put("type", "text"));
    ArrayNode tools = echoed.putArray("tools");
    if (body.path("tools").isArray() && !body.get("tools").isEmpty()) {
      ArrayNode chatTools = out.putArray("tools");
      for (int i = 0; i < body.get("tools").size(); i++) {
        JsonNode tool = body.get("tools").get(i);
        if (!"function".equals(tool.path("type").asText())) {
          throw ApiException.badRequest("tools[" + i + "].type '" + tool.path("type").asText() + "' is not supported: "
              + "only function tools", "tools[" + i + "].type");
        }
        ObjectNode function = chatTools.addObject().put("type", "function").putObject("function");
        for (String field : List.of("name", "description", "parameters", "strict")) {
          if (tool.hasNonNull(field)) function.set(field, tool.get(field));
        }
        tools.add(tool);
      }
    }
    JsonNode choice = body.get("tool_choice");
    if (choice != null && !choice.isNull()) {
      out.set("tool_choice", choice.isObject() && "function".equals(choice.path("type").asText())
          ? Json.object().put("type", "function").set("function", Json.object().set("name", choice.get("name")))
          : choice);
    }
    echoed.set("tool_choice", choice == null ? new com.fasterxml.jackson.databind.node.TextNode("auto") : choice);
    JsonNode effort = body.path("reasoning").path("effort");
    if (effort.isTextual()) out.set("reasoning_effort", effort);
    echoed.set("reasoning", body.path("reasoning").isObject() ? body.get("reasoning") : Json.object().putNull("effort"));
    for (String field : List.of("temperature", "top_p")) {
      echoed.set(field, body.path(field).isMissingNode() ? Json.MAPPER.nullNode() : body.get(field));
    }
    echoed.put("parallel_tool_calls", body.path("parallel_tool_calls").asBoolean(true));
    echoed.set("metadata", body.path("metadata").isObject() ? body.get("metadata") : Json.object());
    // Any other field goes to the chat request: model, stream, temperature, top_p, seed and vLLM's sampling extras
    // are read there, and unknown ones are ignored and logged once there.
    for (var it = body.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (handled.contains(field) || ACCEPTED.contains(field)) continue;
      if (field.equals("n")) throw ApiException.badRequest("n is not a Responses API field", "n");
      out.set(field, body.get(field));
    }
    return out;
  }

  /** A string (one user message) or a list of messages, function calls and their outputs. */
  private static void input(JsonNode input, ArrayNode messages) {
    if (input == null || input.isNull()) throw ApiException.badRequest("input is required", "input");
    if (input.isTextual()) {
      messages.addObject().put("role", "user").put("content", input.asText());
      return;
    }
    if (!input.isArray() || input.isEmpty()) {
      throw ApiException.badRequest("input must be a string or a non-empty array of items", "input");
    }
    for (int i = 0; i < input.size(); i++) {
      JsonNode item = input.get(i);
      String where = "input[" + i + "]";
      String type = item.path("type").asText(item.has("role") ? "message" : "");
      switch (type) {
        case "message" -> {
          ObjectNode m = messages.addObject().put("role", item.path("role").asText());
          JsonNode content = item.get("content");
          if (content != null && content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
              String partType = part.path("type").asText();
              if (!Set.of("input_text", "output_text", "text").contains(partType)) {
                throw ApiException.badRequest(where + ": content of type '" + partType + "' is not supported, this "
                    + "model reads text only", where + ".content");
              }
              if (text.length() > 0) text.append('\n');
              text.append(part.path("text").asText());
            }
            m.put("content", text.toString());
          } else {
            m.set("content", content);
          }
        }
        case "function_call" -> {
          ObjectNode m = messages.addObject().put("role", "assistant");
          m.putNull("content");
          ObjectNode call = m.putArray("tool_calls").addObject().put("id", item.path("call_id").asText())
              .put("type", "function");
          call.putObject("function").put("name", item.path("name").asText())
              .put("arguments", item.path("arguments").asText("{}"));
        }
        case "function_call_output" -> messages.addObject().put("role", "tool")
            .put("tool_call_id", item.path("call_id").asText()).put("content", item.path("output").asText());
        default -> throw ApiException.badRequest(where + ": items of type '" + type + "' are not supported",
            where + ".type");
      }
    }
  }

  /** text.format as a chat response_format. */
  private static ObjectNode responseFormat(JsonNode format) {
    String type = format.path("type").asText();
    ObjectNode out = Json.object().put("type", type);
    if (type.equals("json_schema")) {
      ObjectNode schema = out.putObject("json_schema");
      for (String field : List.of("name", "schema", "strict", "description")) {
        if (format.hasNonNull(field)) schema.set(field, format.get(field));
      }
    }
    return out;
  }
}
