package barista.server.model;

import java.util.List;
import java.util.Map;

/**
 * One message of a chat request after its content parts were joined into text.
 *
 * @param content null only for an assistant message that carries tool calls
 * @param toolCalls an assistant message's tool calls as the template reads them ({id, type, function: {name,
 *     arguments}}, arguments a JSON string), or null
 * @param toolCallId a tool message's tool_call_id, or null
 */
public record ChatMessage(String role, String content, List<Map<String, Object>> toolCalls, String toolCallId) {

  public ChatMessage(String role, String content) {
    this(role, content, null, null);
  }

  /** The message as chat templates read it. */
  public Map<String, Object> toTemplateMap() {
    Map<String, Object> map = new java.util.HashMap<>();
    map.put("role", role);
    map.put("content", content);
    if (toolCalls != null) map.put("tool_calls", toolCalls);
    if (toolCallId != null) map.put("tool_call_id", toolCallId);
    return map;
  }
}
