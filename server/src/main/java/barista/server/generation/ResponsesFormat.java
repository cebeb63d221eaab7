package barista.server.generation;

import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A chat answer in the shape of OpenAI's Responses API: the whole chat message becomes a response whose output items
 * are the reasoning, the message and the function calls; streamed chat deltas become the Responses event sequence
 * ({@code response.created}, {@code response.output_item.added}, {@code response.content_part.added},
 * {@code response.reasoning_text.delta} / {@code response.output_text.delta} /
 * {@code response.function_call_arguments.delta}, their {@code .done} events, {@code response.completed}), in the
 * order OpenAI's and vLLM's servers send them. One instance serves one response, on its event loop.
 */
public final class ResponsesFormat {
  private final String id;
  private final String model;
  private final long createdAt;
  private final ObjectNode echoed; // the request's fields a response repeats (instructions, tools, ...)
  private final List<ObjectNode> items = new ArrayList<>();
  private final List<StringBuilder> texts = new ArrayList<>(); // each item's text so far (reasoning, message)
  private final List<Boolean> closed = new ArrayList<>();
  private int sequence;
  private int reasoningItem = -1;
  private int messageItem = -1;
  private final List<Integer> callItems = new ArrayList<>(); // by the chat delta's tool-call index
  private String finishReason;

  /** @param echoed fields of the request that the response object repeats, as OpenAI's does */
  public ResponsesFormat(String model, ObjectNode echoed) {
    this.id = "resp_" + UUID.randomUUID().toString().replace("-", "");
    this.model = model;
    this.createdAt = System.currentTimeMillis() / 1000;
    this.echoed = echoed;
  }

  /** {@code response.created} and {@code response.in_progress}. */
  List<ObjectNode> opening() {
    List<ObjectNode> events = new ArrayList<>();
    events.add(event("response.created").set("response", response("in_progress", null)));
    events.add(event("response.in_progress").set("response", response("in_progress", null)));
    return events;
  }

  /** The events for one streamed chat choice delta. */
  List<ObjectNode> delta(ObjectNode choice) {
    List<ObjectNode> events = new ArrayList<>();
    JsonNode delta = choice.path("delta");
    String reasoning = delta.path("reasoning_content").isTextual() ? delta.get("reasoning_content").asText() : null;
    String content = delta.path("content").isTextual() ? delta.get("content").asText() : null;
    if (reasoning != null && !reasoning.isEmpty()) {
      if (reasoningItem < 0) reasoningItem = open(events, "reasoning");
      events.add(textDelta("response.reasoning_text.delta", reasoningItem, reasoning));
    }
    if (content != null && !content.isEmpty()) {
      if (reasoningItem >= 0) close(events, reasoningItem);
      if (messageItem < 0) messageItem = open(events, "message");
      events.add(textDelta("response.output_text.delta", messageItem, content).set("logprobs", Json.MAPPER.createArrayNode()));
    }
    for (JsonNode call : delta.path("tool_calls")) {
      int index = call.path("index").asInt();
      while (callItems.size() <= index) callItems.add(-1);
      if (callItems.get(index) < 0) {
        if (reasoningItem >= 0) close(events, reasoningItem);
        ObjectNode item = Json.object().put("id", "fc_" + shortId()).put("type", "function_call")
            .put("status", "in_progress").put("arguments", "")
            .put("call_id", call.path("id").asText()).put("name", call.path("function").path("name").asText());
        callItems.set(index, add(events, item));
      }
      String arguments = call.path("function").path("arguments").asText("");
      if (!arguments.isEmpty()) {
        int at = callItems.get(index);
        texts.get(at).append(arguments);
        events.add(event("response.function_call_arguments.delta").put("item_id", items.get(at).get("id").asText())
            .put("output_index", at).put("delta", arguments));
      }
    }
    if (choice.hasNonNull("finish_reason")) finishReason = choice.get("finish_reason").asText();
    return events;
  }

  /** The items' done events, then {@code response.completed} with the whole response and its usage. */
  List<ObjectNode> finish(ObjectNode usage) {
    List<ObjectNode> events = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) close(events, i);
    String status = "length".equals(finishReason) ? "incomplete" : "completed";
    events.add(event("response.completed").set("response", response(status, usage)));
    return events;
  }

  /** The whole response for a chat.completion of one choice. */
  ObjectNode whole(ObjectNode chatCompletion, ObjectNode usage) {
    JsonNode choice = chatCompletion.path("choices").path(0);
    JsonNode message = choice.path("message");
    if (message.path("reasoning_content").isTextual()) {
      int i = add(null, Json.object().put("id", "rs_" + shortId()).put("type", "reasoning"));
      texts.get(i).append(message.get("reasoning_content").asText());
    }
    if (message.path("content").isTextual()) {
      int i = add(null, Json.object().put("id", "msg_" + shortId()).put("type", "message").put("role", "assistant"));
      texts.get(i).append(message.get("content").asText());
    }
    for (JsonNode call : message.path("tool_calls")) {
      int i = add(null, Json.object().put("id", "fc_" + shortId()).put("type", "function_call")
          .put("call_id", call.path("id").asText()).put("name", call.path("function").path("name").asText()));
      texts.get(i).append(call.path("function").path("arguments").asText());
    }
    finishReason = choice.path("finish_reason").asText(null);
    for (int i = 0; i < items.size(); i++) closed.set(i, true);
    return response("length".equals(finishReason) ? "incomplete" : "completed", usage);
  }

  private int open(List<ObjectNode> events, String type) {
    ObjectNode item = Json.object().put("id", (type.equals("message") ? "msg_" : "rs_") + shortId()).put("type", type)
        .put("status", "in_progress");
    if (type.equals("message")) item.put("role", "assistant");
    item.putArray("content");
    if (type.equals("reasoning")) item.putArray("summary");
    int at = add(events, item);
    ObjectNode part = part(type, "");
    events.add(event("response.content_part.added").put("item_id", item.get("id").asText()).put("output_index", at)
        .put("content_index", 0).set("part", part));
    return at;
  }

  private int add(List<ObjectNode> events, ObjectNode item) {
    items.add(item);
    texts.add(new StringBuilder());
    closed.add(false);
    int at = items.size() - 1;
    if (events != null) events.add(event("response.output_item.added").put("output_index", at).set("item", item.deepCopy()));
    return at;
  }

  private void close(List<ObjectNode> events, int at) {
    if (closed.get(at)) return;
    closed.set(at, true);
    ObjectNode item = items.get(at);
    String itemId = item.get("id").asText();
    String type = item.get("type").asText();
    String text = texts.get(at).toString();
    if (type.equals("function_call")) {
      events.add(event("response.function_call_arguments.done").put("item_id", itemId).put("output_index", at)
          .put("arguments", text));
    } else {
      String done = type.equals("message") ? "response.output_text.done" : "response.reasoning_text.done";
      ObjectNode textDone = event(done).put("item_id", itemId).put("output_index", at).put("content_index", 0)
          .put("text", text);
      if (type.equals("message")) textDone.set("logprobs", Json.MAPPER.createArrayNode());
      events.add(textDone);
      events.add(event("response.content_part.done").put("item_id", itemId).put("output_index", at)
          .put("content_index", 0).set("part", part(type, text)));
    }
    events.add(event("response.output_item.done").put("output_index", at).set("item", finished(at)));
  }

  private ObjectNode finished(int at) {
    ObjectNode item = items.get(at).deepCopy();
    String text = texts.get(at).toString();
    item.put("status", "completed");
    switch (item.get("type").asText()) {
      case "function_call" -> item.put("arguments", text);
      case "message" -> item.putArray("content").add(part("message", text));
      default -> {
        item.putArray("summary");
        item.putArray("content").add(part("reasoning", text));
      }
    }
    return item;
  }

  private static ObjectNode part(String itemType, String text) {
    if (itemType.equals("message")) {
      ObjectNode part = Json.object().put("type", "output_text").put("text", text);
      part.putArray("annotations");
      part.putArray("logprobs");
      return part;
    }
    return Json.object().put("type", "reasoning_text").put("text", text);
  }

  private ObjectNode textDelta(String type, int at, String delta) {
    texts.get(at).append(delta);
    return event(type).put("item_id", items.get(at).get("id").asText()).put("output_index", at)
        .put("content_index", 0).put("delta", delta);
  }

  private ObjectNode event(String type) {
    return Json.object().put("type", type).put("sequence_number", sequence++);
  }

  /** The response object: the request's echoed fields, status, output items so far, usage in the API's names. */
  private ObjectNode response(String status, ObjectNode usage) {
    ObjectNode r = Json.object().put("id", id).put("object", "response").put("created_at", createdAt)
        .put("status", status).put("model", model);
    r.putNull("error");
    if (status.equals("incomplete")) {
      r.putObject("incomplete_details").put("reason", "max_output_tokens");
    } else {
      r.putNull("incomplete_details");
    }
    ArrayNode output = r.putArray("output");
    for (int i = 0; i < items.size(); i++) output.add(closed.get(i) ? finished(i) : items.get(i).deepCopy());
    r.setAll(echoed.deepCopy());
    r.putNull("previous_response_id");
    r.put("store", false); // nothing is stored: there is no retrieval
    if (usage == null) {
      r.putNull("usage");
    } else {
      ObjectNode u = r.putObject("usage");
      u.put("input_tokens", usage.path("prompt_tokens").asInt());
      u.putObject("input_tokens_details").put("cached_tokens",
          usage.path("prompt_tokens_details").path("cached_tokens").asInt());
      u.put("output_tokens", usage.path("completion_tokens").asInt());
      u.putObject("output_tokens_details").put("reasoning_tokens",
          usage.path("completion_tokens_details").path("reasoning_tokens").asInt());
      u.put("total_tokens", usage.path("total_tokens").asInt());
    }
    return r;
  }

  private static String shortId() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 24);
  }
}
