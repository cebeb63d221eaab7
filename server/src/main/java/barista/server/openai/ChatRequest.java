package barista.server.openai;

import barista.server.model.ChatMessage;
import barista.server.http.ApiException;
import barista.server.http.Json;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A POST /v1/chat/completions body.
 *
 * @param maxTokens max_completion_tokens, else max_tokens; null when neither was given
 * @param logprobs whether logprobs were asked for (top_logprobs is in the sampling params)
 * @param tools the request's tools and tool choice, or null when it has none
 * @param reasoningBudget thinking tokens allowed (reasoning_effort, max_reasoning_tokens); null: no bound
 * @param continueFinalMessage the prompt ends inside the final message, which the output continues (vLLM's
 *     continue_final_message)
 * @param echo the answer starts with the final message's content when that message is the assistant's
 */
public record ChatRequest(CommonFields common, List<ChatMessage> messages, boolean addGenerationPrompt,
    Map<String, Object> templateKwargs, Integer maxTokens, boolean logprobs, List<String> unknownFields, Tools tools,
    Integer reasoningBudget, boolean continueFinalMessage, boolean echo) {

  /** The text the answer starts with under echo, or null. */
  public String echoedText() {
    ChatMessage last = messages.get(messages.size() - 1);
    return echo && last.role().equals("assistant") && last.content() != null ? last.content() : null;
  }

  /**
   * The output constraint: the one the tool choice implies (required, named), which governs the turn even beside a
   * response_format (as vLLM and OpenAI: the format applies to turns answered in text); else the request's
   * structured output; null when neither asks for one.
   */
  public StructuredOutput constraint() {
    return constraint(common, tools);
  }

  private static StructuredOutput constraint(CommonFields common, Tools tools) {
    return tools != null && tools.constraint() != null ? tools.constraint() : common.structuredOutput();
  }

  private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

  public static ChatRequest parse(ObjectNode body, RequestPolicy policy) {
    return parse(body, policy, true);
  }

  /** @param generating false for /tokenize, which renders the messages and generates nothing */
  public static ChatRequest parse(ObjectNode body, RequestPolicy policy, boolean generating) {
    JsonFields f = new JsonFields(body);
    List<ChatMessage> messages = messages(f.array("messages"));
    CommonFields common = CommonFields.read(f, policy);
    Integer maxCompletionTokens = f.integer("max_completion_tokens");
    Integer maxTokens = f.integer("max_tokens"); // read either way: both were given and both are understood
    if (maxCompletionTokens != null) maxTokens = maxCompletionTokens;
    Integer bestOf = f.integer("best_of");
    if (bestOf != null && bestOf > common.n()) {
      throw ApiException.badRequest("best_of is only supported by /v1/completions", "best_of");
    }
    boolean logprobs = f.bool("logprobs", false);
    Integer topLogprobs = f.integer("top_logprobs");
    if (topLogprobs != null && !logprobs) {
      throw ApiException.badRequest("top_logprobs needs logprobs set to true", "top_logprobs");
    }
    if (logprobs) {
      int top = topLogprobs == null ? 0 : topLogprobs;
      common.params().logprobs(CommonFields.checkLogprobs(top, policy.maxLogprobs(), "top_logprobs"));
    }
    boolean addGenerationPrompt = f.bool("add_generation_prompt", true);
    boolean continueFinalMessage = f.bool("continue_final_message", false);
    if (continueFinalMessage && addGenerationPrompt) { // as vLLM, whose add_generation_prompt is true by default
      throw ApiException.badRequest("continue_final_message and add_generation_prompt cannot both be true: send "
          + "add_generation_prompt false to continue the final message", "continue_final_message");
    }
    if (continueFinalMessage && (messages.get(messages.size() - 1).content() == null
        || messages.get(messages.size() - 1).content().isEmpty())) {
      throw ApiException.badRequest("continue_final_message needs a final message with content",
          "continue_final_message");
    }
    boolean echo = f.bool("echo", false);
    JsonFields kwargs = f.object("chat_template_kwargs");
    Map<String, Object> templateKwargs = kwargs == null ? Map.of()
        : Json.MAPPER.convertValue(body.get("chat_template_kwargs"), new TypeReference<Map<String, Object>>() {});
    Tools tools = Tools.read(f, policy, generating);
    Integer reasoningBudget = ReasoningFields.budget(f, policy);
    StructuredOutput constraint = constraint(common, tools);
    if (generating && reasoningBudget != null && constraint != null) {
      // Constrained output is all answer (never split into reasoning), and a spent budget would force </think>,
      // which the constraint's grammar does not allow.
      String field = f.has("max_reasoning_tokens") ? "max_reasoning_tokens" : "reasoning_effort";
      throw ApiException.badRequest(field + " cannot be combined with " + constraint.param()
          + ": constrained output has no reasoning part", field);
    }
    return new ChatRequest(common, messages, addGenerationPrompt, templateKwargs, maxTokens, logprobs, f.unread(),
        tools, reasoningBudget, continueFinalMessage, echo);
  }

  private static List<ChatMessage> messages(ArrayNode array) {
    if (array == null) throw ApiException.badRequest("messages is required", "messages");
    if (array.isEmpty()) throw ApiException.badRequest("messages must not be empty", "messages");
    List<ChatMessage> messages = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      String name = "messages[" + i + "]";
      JsonNode item = array.get(i);
      if (!item.isObject()) throw ApiException.badRequest(name + " must be an object", name);
      JsonFields message = new JsonFields((ObjectNode) item);
      String role = field(message, "role", name);
      if (role == null) throw ApiException.badRequest(name + ".role is required", name + ".role");
      if (!ROLES.contains(role)) {
        throw ApiException.badRequest(name + ".role must be one of " + String.join(", ", ROLES.stream().sorted()
            .toList()) + ", got '" + role + "'", name + ".role");
      }
      JsonNode toolCalls = item.get("tool_calls");
      List<Map<String, Object>> calls = null;
      if (toolCalls != null && !toolCalls.isNull()) {
        if (!role.equals("assistant")) {
          throw ApiException.badRequest(name + ".tool_calls is only allowed on assistant messages",
              name + ".tool_calls");
        }
        calls = toolCalls(toolCalls, name + ".tool_calls");
      }
      JsonNode content = item.get("content");
      boolean noContent = content == null || content.isNull();
      String toolCallId = field(message, "tool_call_id", name);
      messages.add(new ChatMessage(role, calls != null && noContent ? null : content(content, name + ".content"),
          calls, toolCallId));
    }
    return messages;
  }

  /** An assistant message's tool calls, as the template reads them; arguments given as an object become JSON text. */
  private static List<Map<String, Object>> toolCalls(JsonNode calls, String name) {
    if (!calls.isArray() || calls.isEmpty()) throw ApiException.badRequest(name + " must be a non-empty array", name);
    List<Map<String, Object>> list = new ArrayList<>();
    for (int i = 0; i < calls.size(); i++) {
      String at = name + "[" + i + "]";
      JsonNode call = calls.get(i);
      JsonNode fn = call.path("function");
      if (!call.isObject() || !fn.path("name").isTextual()) {
        throw ApiException.badRequest(at + " must be {\"id\", \"type\": \"function\", \"function\": {\"name\", "
            + "\"arguments\"}}", at);
      }
      JsonNode args = fn.get("arguments");
      String arguments = args == null || args.isNull() ? "{}" : args.isTextual() ? args.asText() : args.toString();
      Map<String, Object> function = new java.util.LinkedHashMap<>();
      function.put("name", fn.get("name").asText());
      function.put("arguments", arguments);
      Map<String, Object> map = new java.util.LinkedHashMap<>();
      map.put("id", call.path("id").isTextual() ? call.get("id").asText() : null);
      map.put("type", call.path("type").isTextual() ? call.get("type").asText() : "function");
      map.put("function", function);
      list.add(map);
    }
    return list;
  }

  private static String field(JsonFields message, String field, String name) {
    try {
      return message.string(field);
    } catch (ApiException e) {
      throw ApiException.badRequest(name + "." + e.getMessage(), name + "." + field);
    }
  }

  /** A string, or a list of parts whose text parts are joined with newlines (as vLLM does); other parts are refused. */
  private static String content(JsonNode content, String name) {
    if (content == null || content.isNull()) throw ApiException.badRequest(name + " is required", name);
    if (content.isTextual()) return content.asText();
    if (!content.isArray()) throw ApiException.badRequest(name + " must be a string or an array of parts", name);
    List<String> texts = new ArrayList<>();
    for (int j = 0; j < content.size(); j++) {
      String partName = name + "[" + j + "]";
      JsonNode part = content.get(j);
      JsonNode type = part.get("type");
      if (!part.isObject() || type == null || !type.isTextual()) {
        throw ApiException.badRequest(partName + " must be an object with a string \"type\"", partName);
      }
      if (!type.asText().equals("text")) {
        throw ApiException.badRequest(partName + ": content of type '" + type.asText()
            + "' is not supported, this model reads text only", partName);
      }
      JsonNode text = part.get("text");
      if (text == null || !text.isTextual()) throw ApiException.badRequest(partName + ".text must be a string", partName);
      texts.add(text.asText());
    }
    return String.join("\n", texts);
  }
}
