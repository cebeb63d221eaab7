package barista.server.openai;

import barista.server.http.ApiException;
import barista.server.http.Json;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A chat request's {@code tools}, {@code tool_choice} and {@code parallel_tool_calls}, as vLLM reads them: the
 * choice defaults to auto when tools are given, and auto needs the server started with --enable-auto-tool-choice
 * and --tool-call-parser. Required and named choices constrain decoding (see {@link #constraint}).
 *
 * @param definitions the tools as given, for the chat template
 * @param named the function a named choice asks for, else null
 */
public record Tools(List<Map<String, Object>> definitions, List<String> names, List<JsonNode> parameters,
    Choice choice, String named, boolean parallel) {

  public enum Choice { NONE, AUTO, REQUIRED, NAMED }

  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

  /** The tools of a request; null when it has none (or an empty list) and asks for no tool choice. */
  static Tools read(JsonFields f, RequestPolicy policy) {
    return read(f, policy, true);
  }

  /** @param generating false for /tokenize: nothing is generated, so auto needs no server flags there */
  static Tools read(JsonFields f, RequestPolicy policy, boolean generating) {
    ArrayNode tools = f.array("tools");
    JsonNode choiceNode = f.node("tool_choice");
    Boolean parallel = f.bool("parallel_tool_calls");
    boolean noneChoice = choiceNode != null && choiceNode.isTextual() && choiceNode.asText().equals("none");
    if (tools == null || tools.isEmpty()) {
      if (choiceNode != null && !noneChoice) {
        throw ApiException.badRequest("tool_choice needs tools", "tool_choice");
      }
      return null;
    }
    List<String> names = new ArrayList<>();
    List<JsonNode> parameters = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < tools.size(); i++) {
      String at = "tools[" + i + "]";
      JsonNode tool = tools.get(i);
      if (!tool.isObject()) throw ApiException.badRequest(at + " must be an object", at);
      JsonFields t = new JsonFields((ObjectNode) tool);
      String type = t.string("type");
      if (!"function".equals(type)) {
        throw ApiException.badRequest(at + ".type must be 'function', got " + (type == null ? "none" : "'" + type
            + "'"), at + ".type");
      }
      JsonFields fn = t.object("function");
      if (fn == null) throw ApiException.badRequest(at + ".function is required", at + ".function");
      String name = fn.string("name");
      if (name == null || !NAME.matcher(name).matches()) {
        throw ApiException.badRequest(at + ".function.name must be 1 to 64 letters, digits, '_' or '-'",
            at + ".function.name");
      }
      if (!seen.add(name)) throw ApiException.badRequest("two tools are named '" + name + "'", at + ".function.name");
      fn.string("description");
      fn.bool("strict"); // required and named choices always follow the schema; auto reads what the model wrote
      JsonFields params = fn.object("parameters");
      for (String unknown : fn.unread()) {
        throw ApiException.badRequest(at + "." + unknown + " is not supported", at + "." + unknown);
      }
      for (String unknown : t.unread()) {
        throw ApiException.badRequest(at + "." + unknown + " is not supported", at + "." + unknown);
      }
      names.add(name);
      parameters.add(params == null ? null : tool.get("function").get("parameters"));
    }
    Choice choice;
    String named = null;
    if (choiceNode == null) {
      choice = Choice.AUTO;
    } else if (choiceNode.isTextual()) {
      switch (choiceNode.asText()) {
        case "none" -> choice = Choice.NONE;
        case "auto" -> choice = Choice.AUTO;
        case "required" -> choice = Choice.REQUIRED;
        default -> throw ApiException.badRequest("tool_choice must be none, auto, required or "
            + "{\"type\":\"function\",\"function\":{\"name\":...}}, got '" + choiceNode.asText() + "'", "tool_choice");
      }
    } else if (choiceNode.isObject()) {
      JsonNode fn = choiceNode.path("function").path("name");
      if (!"function".equals(choiceNode.path("type").asText()) || !fn.isTextual()) {
        throw ApiException.badRequest("tool_choice must be {\"type\":\"function\",\"function\":{\"name\":...}}",
            "tool_choice");
      }
      named = fn.asText();
      if (!names.contains(named)) {
        throw ApiException.badRequest("tool_choice names the function '" + named + "', which is not in tools",
            "tool_choice");
      }
      choice = Choice.NAMED;
    } else {
      throw ApiException.badRequest("tool_choice must be a string or an object", "tool_choice");
    }
    if (generating && choice == Choice.AUTO && !policy.autoToolChoice()) {
      throw ApiException.badRequest("\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser "
          + "to be set", "tool_choice");
    }
    List<Map<String, Object>> definitions = Json.MAPPER.convertValue(tools, new TypeReference<>() {});
    return new Tools(definitions, names, parameters, choice, named, parallel == null || parallel);
  }

  /** The constraint a required or named choice decodes under; null for none and auto. */
  public StructuredOutput constraint() {
    return switch (choice) {
      case REQUIRED -> StructuredOutput.ofToolCalls(names, parameters, parallel);
      case NAMED -> {
        JsonNode schema = parameters.get(names.indexOf(named));
        yield schema == null ? StructuredOutput.ofJsonObject("tools")
            : StructuredOutput.ofSchema(schema, "tools[" + names.indexOf(named) + "].function.parameters");
      }
      default -> null;
    };
  }
}
