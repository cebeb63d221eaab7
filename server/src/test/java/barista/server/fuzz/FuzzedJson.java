package barista.server.fuzz;

import barista.server.http.Json;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Request bodies shaped like the API's, from fuzzer bytes: objects whose keys are mostly the fields the endpoints
 * read and whose values are any JSON, so the fuzzer spends its time in validation instead of in JSON syntax.
 */
final class FuzzedJson {
  private static final String[] FIELDS = {"messages", "prompt", "model", "max_tokens", "max_completion_tokens",
      "temperature", "top_p", "top_k", "min_p", "n", "stop", "stop_token_ids", "seed", "logprobs", "top_logprobs",
      "stream", "stream_options", "include_usage", "continuous_usage_stats", "echo", "ignore_eos", "min_tokens",
      "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias", "priority", "tokens", "role",
      "content", "type", "text", "image_url", "add_generation_prompt", "chat_template_kwargs", "suffix", "user",
      "skip_special_tokens", "add_special_tokens", "return_token_strs", "response_format", "tools", "name",
      "tool_choice", "parallel_tool_calls", "tool_calls", "tool_call_id", "function", "arguments", "parameters",
      "json_schema", "schema", "structured_outputs", "guided_json", "guided_regex", "guided_choice", "json", "regex",
      "choice", "properties", "items", "enum"};
  private static final String[] STRINGS = {"user", "assistant", "system", "tool", "text", "image_url", "", "hi",
      "{{ 7*7 }}", "<｜User｜>", "\ud83d\ude00", "\u0000", "barista-demo",
      "json_object", "json_schema", "function", "required", "auto", "none", "object", "string", "a+", "(a|b)*"};
  private static final double[] NUMBERS = {0, -1, 1, 0.5, 2, 128, 129, 4096, 1e308, -1e308, 1e-320, 3.7,
      Integer.MAX_VALUE, Long.MAX_VALUE, Long.MIN_VALUE};

  private FuzzedJson() {}

  /** An object of up to 8 fields. */
  static ObjectNode object(FuzzedDataProvider data, int depth) {
    ObjectNode node = Json.object();
    int fields = data.consumeInt(0, 8);
    for (int i = 0; i < fields; i++) {
      String key = data.consumeBoolean() ? data.pickValue(FIELDS) : data.consumeString(12);
      node.set(key, value(data, depth + 1));
    }
    return node;
  }

  static JsonNode value(FuzzedDataProvider data, int depth) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    int kind = depth > 4 ? data.consumeInt(0, 5) : data.consumeInt(0, 7);
    return switch (kind) {
      case 0 -> f.nullNode();
      case 1 -> f.booleanNode(data.consumeBoolean());
      case 2 -> f.numberNode(data.consumeInt());
      case 3 -> f.numberNode(data.consumeBoolean() ? data.pickValue(NUMBERS) : data.consumeDouble());
      case 4 -> f.textNode(data.pickValue(STRINGS));
      case 5 -> f.textNode(data.consumeString(64));
      case 6 -> {
        ArrayNode array = f.arrayNode();
        int size = data.consumeInt(0, 20);
        for (int i = 0; i < size; i++) array.add(value(data, depth + 1));
        yield array;
      }
      default -> object(data, depth);
    };
  }
}
