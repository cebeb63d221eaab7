package barista.server.openai;

import barista.config.ServeOptions;
import barista.engine.sampling.SamplingParams;
import barista.server.ChatMessage;
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
 * @param reasoningBudget thinking tokens allowed (reasoning_effort, max_reasoning_tokens); null: no bound
 */
public record ChatRequest(CommonFields common, List<ChatMessage> messages, boolean addGenerationPrompt,
    Map<String, Object> templateKwargs, Integer maxTokens, boolean logprobs, List<String> unknownFields,
    Integer reasoningBudget) {

  private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

  public static ChatRequest parse(ObjectNode body, SamplingParams defaults, ServeOptions options) {
    JsonFields f = new JsonFields(body);
    List<ChatMessage> messages = messages(f.array("messages"));
    CommonFields common = CommonFields.read(f, defaults, options);
    Integer maxCompletionTokens = f.integer("max_completion_tokens");
    Integer maxTokens = f.integer("max_tokens"); // read either way: both were given and both are understood
    if (maxCompletionTokens != null) maxTokens = maxCompletionTokens;
    boolean logprobs = f.bool("logprobs", false);
    Integer topLogprobs = f.integer("top_logprobs");
    if (topLogprobs != null && !logprobs) {
      throw ApiException.badRequest("top_logprobs needs logprobs set to true", "top_logprobs");
    }
    if (logprobs) {
      int top = topLogprobs == null ? 0 : topLogprobs;
      common.params().logprobs(CommonFields.checkLogprobs(top, options.maxLogprobs, "top_logprobs"));
    }
    boolean addGenerationPrompt = f.bool("add_generation_prompt", true);
    JsonFields kwargs = f.object("chat_template_kwargs");
    Map<String, Object> templateKwargs = kwargs == null ? Map.of()
        : Json.MAPPER.convertValue(body.get("chat_template_kwargs"), new TypeReference<Map<String, Object>>() {});
    Integer reasoningBudget = ReasoningFields.budget(f, options);
    return new ChatRequest(common, messages, addGenerationPrompt, templateKwargs, maxTokens, logprobs, f.unread(),
        reasoningBudget);
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
      messages.add(new ChatMessage(role, content(item.get("content"), name + ".content")));
    }
    return messages;
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
