package barista.server.openai;

import barista.engine.constraint.JsonSchemas;
import barista.engine.constraint.Regexes;
import barista.server.http.ApiException;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import dk.brics.automaton.Automaton;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's output constraint, from whichever field asked for one: OpenAI's {@code response_format}
 * ({@code json_object}, {@code json_schema}), vLLM's {@code structured_outputs} ({@code json}, {@code regex},
 * {@code choice}, {@code json_object}) or its older {@code guided_json} / {@code guided_regex} /
 * {@code guided_choice}. At most one may be given.
 *
 * @param key identifies the constraint for the compiled-grammar cache
 * @param param the request field it came from (the error "param" when it does not compile)
 */
public record StructuredOutput(Kind kind, String key, String param, JsonNode schema, String regex,
    List<String> choices, List<JsonNode> schemas, boolean parallel) {

  /** What the output must be: any JSON object, JSON of a schema, a regex's match, one of the choices, tool calls. */
  public enum Kind { JSON_OBJECT, JSON, REGEX, CHOICE, TOOL_CALLS }

  StructuredOutput(Kind kind, String key, String param, JsonNode schema, String regex, List<String> choices) {
    this(kind, key, param, schema, regex, choices, null, false);
  }

  /** The constraint the request asks for, or null. */
  static StructuredOutput read(JsonFields f) {
    List<StructuredOutput> found = new ArrayList<>();
    JsonFields format = f.object("response_format");
    if (format != null) {
      StructuredOutput r = responseFormat(format);
      if (r != null) found.add(r);
    }
    JsonFields so = f.object("structured_outputs");
    if (so != null) {
      JsonNode json = so.node("json");
      String regex = so.string("regex");
      JsonNode choice = so.node("choice");
      Boolean jsonObject = so.bool("json_object");
      for (String field : List.of("grammar", "structural_tag", "whitespace_pattern")) {
        if (so.has(field)) throw ApiException.badRequest(so.name(field) + " is not supported", so.name(field));
      }
      for (String field : List.of("disable_any_whitespace", "disable_fallback", "disable_additional_properties")) {
        so.bool(field); // decoding is always without free whitespace, never falls back, properties are as listed
      }
      if (json != null) found.add(schema(json, so.name("json")));
      if (regex != null) found.add(regex(regex, so.name("regex")));
      if (choice != null) found.add(choice(choice, so.name("choice")));
      if (Boolean.TRUE.equals(jsonObject)) found.add(jsonObject(so.name("json_object")));
      for (String unknown : so.unread()) throw ApiException.badRequest(unknown + " is not supported", unknown);
    }
    JsonNode guidedJson = f.node("guided_json");
    if (guidedJson != null) found.add(schema(guidedJson, "guided_json"));
    String guidedRegex = f.string("guided_regex");
    if (guidedRegex != null) found.add(regex(guidedRegex, "guided_regex"));
    JsonNode guidedChoice = f.node("guided_choice");
    if (guidedChoice != null) found.add(choice(guidedChoice, "guided_choice"));
    if (found.size() > 1) {
      throw ApiException.badRequest("only one output constraint may be given, got " + found.size() + " ("
          + String.join(", ", found.stream().map(StructuredOutput::param).toList()) + ")", found.get(1).param());
    }
    return found.isEmpty() ? null : found.get(0);
  }

  private static StructuredOutput responseFormat(JsonFields format) {
    String type = format.string("type");
    if (type == null) throw ApiException.badRequest("response_format.type is required", "response_format.type");
    switch (type) {
      case "text":
        return null;
      case "json_object":
        return jsonObject("response_format");
      case "json_schema":
        JsonFields js = format.object("json_schema");
        if (js == null) {
          throw ApiException.badRequest("response_format.json_schema is required for type json_schema",
              "response_format.json_schema");
        }
        String name = js.string("name");
        if (name == null) {
          throw ApiException.badRequest("response_format.json_schema.name is required",
              "response_format.json_schema.name");
        }
        js.string("description");
        js.bool("strict"); // output always follows the schema
        JsonNode schema = js.node("schema");
        for (String unknown : js.unread()) throw ApiException.badRequest(unknown + " is not supported", unknown);
        // OpenAI allows a missing schema: then any JSON object.
        return schema == null ? jsonObject("response_format.json_schema")
            : schema(schema, "response_format.json_schema.schema");
      default:
        throw ApiException.badRequest("response_format.type must be text, json_object or json_schema, got '" + type
            + "'", "response_format.type");
    }
  }

  private static StructuredOutput jsonObject(String param) {
    return new StructuredOutput(Kind.JSON_OBJECT, "json_object", param, null, null, null);
  }

  private static StructuredOutput schema(JsonNode schema, String param) {
    JsonNode parsed = schema;
    if (schema.isTextual()) { // vLLM takes the schema as an object or as JSON text
      try {
        parsed = Json.MAPPER.readTree(schema.asText());
      } catch (Exception e) {
        throw ApiException.badRequest(param + " is not valid JSON: " + e.getMessage().split("\n")[0], param);
      }
    }
    if (parsed == null || !parsed.isObject()) {
      throw ApiException.badRequest(param + " must be a JSON schema object", param);
    }
    return new StructuredOutput(Kind.JSON, "json:" + parsed, param, parsed, null, null);
  }

  private static StructuredOutput regex(String regex, String param) {
    return new StructuredOutput(Kind.REGEX, "regex:" + regex, param, null, regex, null);
  }

  private static StructuredOutput choice(JsonNode choice, String param) {
    if (!choice.isArray() || choice.isEmpty()) {
      throw ApiException.badRequest(param + " must be a non-empty array of strings", param);
    }
    List<String> choices = new ArrayList<>();
    for (JsonNode c : choice) {
      if (!c.isTextual() || c.asText().isEmpty()) {
        throw ApiException.badRequest(param + " must be a non-empty array of non-empty strings", param);
      }
      choices.add(c.asText());
    }
    return new StructuredOutput(Kind.CHOICE, "choice:" + Json.MAPPER.valueToTree(choices), param, null, null, choices);
  }

  /** A constraint for tool calls, made by the server (param names the field the client gave). */
  public static StructuredOutput ofSchema(JsonNode schema, String param) {
    return new StructuredOutput(Kind.JSON, "json:" + schema, param, schema, null, null);
  }

  public static StructuredOutput ofRegex(String regex, String param) {
    return regex(regex, param);
  }

  /** A list of tool calls of these functions (tool_choice required). */
  public static StructuredOutput ofToolCalls(List<String> names, List<JsonNode> schemas, boolean parallel) {
    return new StructuredOutput(Kind.TOOL_CALLS, "tool_calls:" + parallel + ":" + names + ":" + schemas, "tools", null,
        null, names, schemas, parallel);
  }

  public static StructuredOutput ofJsonObject(String param) {
    return jsonObject(param);
  }

  /** The char-level automaton; ApiException 400 naming the keyword or construct when it cannot be built. */
  public Automaton automaton() {
    try {
      return switch (kind) {
        case JSON_OBJECT -> JsonSchemas.anyObject();
        case JSON -> JsonSchemas.compile(schema);
        case REGEX -> Regexes.parse(regex);
        case TOOL_CALLS -> JsonSchemas.toolCalls(choices, schemas, parallel);
        case CHOICE -> Regexes.oneOf(choices);
      };
    } catch (IllegalArgumentException | StackOverflowError e) { // a RefusedRequestException too
      throw ApiException.badRequest(param + ": " + e.getMessage(), param);
    }
  }
}
