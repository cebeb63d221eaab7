package barista.server.generation;

import barista.server.http.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a chat choice's content into content and tool calls, delta by delta, as OpenAI streams them: a call's
 * first delta carries its index, id, type and name (arguments ""), later ones more of its arguments. The whole
 * response is the same parser fed the whole text, its deltas merged, so streaming and not give the same calls.
 * One parser per choice, on the event loop.
 */
abstract class ToolCallParser {
  /** What one piece of content became: text still content (or null) and tool-call deltas. */
  record Delta(String content, List<ObjectNode> calls) {
    static final Delta NONE = new Delta(null, List.of());
  }

  private int calls;

  abstract Delta feed(String text);

  /** The end of the output: whatever was held back. */
  abstract Delta finish();

  boolean calledTools() {
    return calls > 0;
  }

  /** The first delta of a new call. */
  ObjectNode open(String name, String arguments) {
    ObjectNode call = Json.object();
    call.put("index", calls++);
    call.put("id", "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
    call.put("type", "function");
    call.putObject("function").put("name", name).put("arguments", arguments);
    return call;
  }

  /** More arguments of call {@code index}. */
  static ObjectNode more(int index, String arguments) {
    ObjectNode call = Json.object();
    call.put("index", index);
    call.putObject("function").put("arguments", arguments);
    return call;
  }

  int numCalls() {
    return calls;
  }

  /** Merges deltas into whole calls (by index), as a client accumulating the stream would. */
  static ArrayNode merge(List<ObjectNode> deltas) {
    List<ObjectNode> merged = new ArrayList<>();
    for (ObjectNode d : deltas) {
      int index = d.get("index").asInt();
      while (merged.size() <= index) merged.add(null);
      ObjectNode call = merged.get(index);
      if (call == null) {
        call = Json.object();
        call.put("id", d.get("id").asText());
        call.put("type", "function");
        call.putObject("function").put("name", d.get("function").get("name").asText()).put("arguments", "");
        merged.set(index, call);
      }
      ObjectNode fn = (ObjectNode) call.get("function");
      fn.put("arguments", fn.get("arguments").asText() + d.get("function").get("arguments").asText());
    }
    ArrayNode array = Json.MAPPER.createArrayNode();
    for (ObjectNode call : merged) if (call != null) array.add(call);
    return array;
  }

  /** tool_choice naming a function: the output is its arguments. */
  static final class Named extends ToolCallParser {
    private final String name;
    private boolean opened;

    Named(String name) {
      this.name = name;
    }

    @Override
    Delta feed(String text) {
      if (text == null || text.isEmpty()) return Delta.NONE;
      if (!opened) {
        opened = true;
        return new Delta(null, List.of(open(name, text)));
      }
      return new Delta(null, List.of(more(0, text)));
    }

    @Override
    Delta finish() {
      if (opened) return Delta.NONE;
      opened = true;
      return new Delta(null, List.of(open(name, "")));
    }
  }

  /**
   * tool_choice required: the output is {@code [{"name":NAME,"parameters":ARGS},...]}, compact (the constraint
   * writes it so), read as it arrives: a call opens when its name is complete, its arguments stream as they come.
   */
  static final class Required extends ToolCallParser {
    private static final String NAME_KEY = "{\"name\":";
    private static final String PARAMETERS_KEY = ",\"parameters\":";
    private final StringBuilder pending = new StringBuilder();
    private int state; // 0 between calls, 1 name, 2 parameters key, 3 arguments
    private int depth;
    private boolean inString, escaped;

    @Override
    Delta feed(String text) {
      pending.append(text);
      List<ObjectNode> out = new ArrayList<>();
      StringBuilder args = new StringBuilder();
      int i = 0;
      while (i < pending.length()) {
        char c = pending.charAt(i);
        if (state == 0) {
          if (c == '{') {
            if (pending.length() - i < NAME_KEY.length()) break;
            i += NAME_KEY.length();
            state = 1;
          } else {
            i++; // '[', ',' or ']'
          }
        } else if (state == 1) {
          int end = stringEnd(pending, i);
          if (end < 0) break;
          String name = Json.MAPPER.convertValue(parseString(pending.substring(i, end + 1)), String.class);
          out.add(open(name, ""));
          i = end + 1;
          state = 2;
        } else if (state == 2) {
          if (pending.length() - i < PARAMETERS_KEY.length()) break;
          i += PARAMETERS_KEY.length();
          state = 3;
          depth = 0;
        } else {
          if (!inString && depth == 0 && c == '}') { // the call object closes
            flush(out, args);
            state = 0;
            i++;
            continue;
          }
          args.append(c);
          if (inString) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') inString = false;
          } else if (c == '"') {
            inString = true;
          } else if (c == '{' || c == '[') {
            depth++;
          } else if (c == '}' || c == ']') {
            depth--;
          }
          i++;
        }
      }
      flush(out, args);
      pending.delete(0, i);
      return new Delta(null, out);
    }

    private void flush(List<ObjectNode> out, StringBuilder args) {
      if (args.length() == 0) return;
      int index = numCalls() - 1;
      if (!out.isEmpty() && out.get(out.size() - 1).get("index").asInt() == index
          && out.get(out.size() - 1).has("id")) {
        ObjectNode fn = (ObjectNode) out.get(out.size() - 1).get("function");
        fn.put("arguments", fn.get("arguments").asText() + args);
      } else {
        out.add(more(index, args.toString()));
      }
      args.setLength(0);
    }

    @Override
    Delta finish() {
      return Delta.NONE;
    }

    private static int stringEnd(CharSequence s, int start) {
      boolean esc = false;
      for (int j = start + 1; j < s.length(); j++) {
        char c = s.charAt(j);
        if (esc) esc = false;
        else if (c == '\\') esc = true;
        else if (c == '"') return j;
      }
      return -1;
    }

    private static JsonNode parseString(String json) {
      try {
        return Json.MAPPER.readTree(json);
      } catch (Exception e) {
        throw new IllegalStateException("tool call name is not a JSON string: " + json, e);
      }
    }
  }

  /**
   * vLLM's deepseek_v3 parser (our own writing): content until {@code <｜tool▁calls▁begin｜>}, then calls
   * {@code <｜tool▁call▁begin｜>TYPE<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>} until
   * {@code <｜tool▁calls▁end｜>}; text after that is content again. A call opens once its name line is complete;
   * its arguments stream as they come, holding back what could be the start of the closing fence. Markers split
   * across deltas are held back until decided.
   */
  static final class DeepSeekV3 extends ToolCallParser {
    static final String BEGIN = "<｜tool▁calls▁begin｜>";
    static final String END = "<｜tool▁calls▁end｜>";
    static final String CALL_BEGIN = "<｜tool▁call▁begin｜>";
    static final String CALL_END = "<｜tool▁call▁end｜>";
    private static final String CLOSE = "\n```" + CALL_END;
    private static final Pattern HEADER = Pattern.compile(
        "\\s*<｜tool▁call▁begin｜>([^\\n]*?)<｜tool▁sep｜>([^\\n]*)\\n```(?:json)?\\n", Pattern.DOTALL);
    private final StringBuilder pending = new StringBuilder();
    private boolean inCalls;
    private boolean inArguments;

    @Override
    Delta feed(String text) {
      pending.append(text);
      StringBuilder content = new StringBuilder();
      List<ObjectNode> calls = new ArrayList<>();
      while (step(content, calls)) {
        // each step consumes a decided part of the pending text
      }
      return new Delta(content.isEmpty() ? null : content.toString(), calls);
    }

    /** Decides one part of the pending text; false when the rest must wait for more. */
    private boolean step(StringBuilder content, List<ObjectNode> calls) {
      String buffered = pending.toString();
      if (!inCalls) {
        int begin = buffered.indexOf(BEGIN);
        if (begin < 0) {
          int keep = partialSuffix(buffered, BEGIN);
          content.append(buffered, 0, buffered.length() - keep);
          pending.delete(0, buffered.length() - keep);
          return false;
        }
        content.append(buffered, 0, begin);
        pending.delete(0, begin + BEGIN.length());
        inCalls = true;
        return true;
      }
      if (inArguments) {
        int close = buffered.indexOf(CLOSE);
        int end = close >= 0 ? close : buffered.indexOf(CALL_END);
        if (end >= 0) {
          String args = close >= 0 ? buffered.substring(0, end) : stripFence(buffered.substring(0, end));
          if (!args.isEmpty()) calls.add(more(numCalls() - 1, args));
          pending.delete(0, end + (close >= 0 ? CLOSE.length() : CALL_END.length()));
          inArguments = false;
          return true;
        }
        int keep = partialSuffix(buffered, CLOSE);
        if (buffered.length() > keep) calls.add(more(numCalls() - 1, buffered.substring(0, buffered.length() - keep)));
        pending.delete(0, buffered.length() - keep);
        return false;
      }
      String trimmed = buffered.stripLeading();
      if (trimmed.startsWith(END)) {
        pending.delete(0, buffered.length() - trimmed.length() + END.length());
        inCalls = false;
        return true;
      }
      Matcher header = HEADER.matcher(buffered);
      if (header.lookingAt()) {
        calls.add(open(header.group(2).trim(), ""));
        pending.delete(0, header.end());
        inArguments = true;
        return true;
      }
      int endOfCall = buffered.indexOf(CALL_END);
      int endOfCalls = buffered.indexOf(END);
      if (endOfCall >= 0 || endOfCalls >= 0 || !couldBeHeader(trimmed)) { // not a call after all: keep the text
        int upTo = endOfCall >= 0 ? endOfCall + CALL_END.length() : endOfCalls >= 0 ? endOfCalls : buffered.length();
        content.append(buffered, 0, upTo);
        pending.delete(0, upTo);
        if (endOfCall < 0 && endOfCalls < 0) inCalls = false;
        return !pending.isEmpty();
      }
      return false;
    }

    /** Whether more text could still make this a call header (or the end marker). */
    private static boolean couldBeHeader(String trimmed) {
      if (trimmed.isEmpty()) return true;
      if (CALL_BEGIN.startsWith(trimmed) || END.startsWith(trimmed)) return true;
      if (!trimmed.startsWith(CALL_BEGIN)) return false;
      int sep = trimmed.indexOf("<｜tool▁sep｜>");
      if (sep < 0) return trimmed.indexOf('\n') < 0;
      int newline = trimmed.indexOf('\n', sep);
      if (newline < 0) return true;
      String fence = trimmed.substring(newline);
      return "\n```json\n".startsWith(fence) || "\n```\n".startsWith(fence)
          || fence.startsWith("\n```json\n") || fence.startsWith("\n```\n");
    }

    private static String stripFence(String args) {
      String s = args.stripTrailing();
      return s.endsWith("```") ? s.substring(0, s.length() - 3).stripTrailing() : s;
    }

    @Override
    Delta finish() {
      String rest = pending.toString();
      pending.setLength(0);
      if (rest.isEmpty()) return Delta.NONE;
      if (inArguments) return new Delta(null, List.of(more(numCalls() - 1, rest))); // cut short: what there is
      return new Delta(inCalls ? rest.strip().isEmpty() ? null : rest : rest, List.of());
    }

    private static int partialSuffix(String text, String marker) {
      for (int n = Math.min(marker.length() - 1, text.length()); n > 0; n--) {
        if (text.endsWith(marker.substring(0, n))) return n;
      }
      return 0;
    }
  }
}
