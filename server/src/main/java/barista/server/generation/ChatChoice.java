package barista.server.generation;

import barista.scheduler.FinishReason;
import barista.scheduler.RequestOutput;
import barista.server.model.ServedModel;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** A chat.completion choice: message (or stream delta) with content and, under a reasoning parser, reasoning_content. */
final class ChatChoice extends Choice {
  private final ServedModel model;
  private final boolean logprobs;
  private final ReasoningParser reasoningParser; // null: all text is content
  private final StringBuilder content = new StringBuilder();
  private final StringBuilder reasoning = new StringBuilder();
  private final ArrayNode logprobContent = Json.MAPPER.createArrayNode();
  private final ToolCallParser toolParser; // null: no tools to read out of the content
  private final List<ObjectNode> toolDeltas = new ArrayList<>();
  private final int[] thinkEnd; // the tokens of </think>, under a reasoning parser
  private int tokensSeen;
  private int thinkEndMatched; // how many of thinkEnd the latest tokens match
  private boolean thinking = true;
  private final String echo; // chat echo: the final message's content, which the answer starts with; or null

  ChatChoice(int index, String engineRequestId, GenerationSession.Prompt prompt, ServedModel model,
      ResponseWriter.Shape shape) {
    super(index, 0, engineRequestId, prompt.tokenIds().length);
    this.echo = prompt.echo();
    this.model = model;
    this.logprobs = shape.logprobs();
    this.reasoningParser = shape.parseReasoning() ? new ReasoningParser() : null;
    this.toolParser = shape.tools() == null ? null : shape.tools().parser();
    this.thinkEnd = shape.parseReasoning() ? model.encode("</think>", false) : new int[0];
  }

  /**
   * Counts the thinking tokens for usage: every output token before {@code </think>}, as the engine's reasoning
   * budget counts them (and as the parser splits the text).
   */
  @Override
  void record(RequestOutput out) {
    super.record(out);
    if (reasoningParser == null || thinkEnd.length == 0) return;
    for (int token : out.newTokenIds()) {
      if (!thinking) break;
      tokensSeen++;
      thinkEndMatched = token == thinkEnd[thinkEndMatched] ? thinkEndMatched + 1 : token == thinkEnd[0] ? 1 : 0;
      if (thinkEndMatched == thinkEnd.length) {
        thinking = false;
        reasoningTokens = tokensSeen - thinkEnd.length;
      }
    }
    if (thinking) reasoningTokens = tokensSeen;
  }

  @Override
  ObjectNode openingDelta() {
    ObjectNode choice = node();
    ObjectNode delta = choice.putObject("delta");
    delta.put("role", "assistant");
    delta.put("content", echo == null ? "" : echo);
    choice.putNull("logprobs");
    choice.putNull("finish_reason");
    return choice;
  }

  @Override
  ObjectNode streamDelta(RequestOutput out) {
    ReasoningParser.Split split = split(out);
    ObjectNode choice = node();
    ObjectNode delta = choice.putObject("delta");
    if (split.reasoning() != null) delta.put("reasoning_content", split.reasoning());
    String content = split.content();
    if (toolParser != null) {
      ToolCallParser.Delta tools = tools(content, out.finished());
      content = tools.content();
      if (!tools.calls().isEmpty()) delta.putArray("tool_calls").addAll(tools.calls());
    }
    if (content != null) delta.put("content", content);
    boolean hasLogprobs = logprobs && !out.logprobs().isEmpty();
    if (delta.isEmpty() && !hasLogprobs && !out.finished()) return null;
    ObjectNode tokenLogprobs = null;
    if (hasLogprobs) {
      tokenLogprobs = Json.object();
      Logprobs.appendChat(tokenLogprobs.putArray("content"), out.logprobs(), model);
    }
    return withLogprobsAndFinish(choice, tokenLogprobs);
  }

  @Override
  void accumulate(RequestOutput out) {
    ReasoningParser.Split split = split(out);
    if (split.reasoning() != null) reasoning.append(split.reasoning());
    if (split.content() != null) content.append(split.content());
    if (logprobs) Logprobs.appendChat(logprobContent, out.logprobs(), model);
  }

  @Override
  ObjectNode complete() {
    ObjectNode choice = node();
    ObjectNode message = choice.putObject("message");
    message.put("role", "assistant");
    // Under a reasoning parser an answer cut short inside the reasoning has no content at all, as in vLLM.
    String text = reasoningParser != null && content.isEmpty() ? null : content.toString();
    if (toolParser != null) {
      ToolCallParser.Delta tools = tools(content.toString(), true);
      text = tools.content();
      if (toolParser.calledTools()) message.set("tool_calls", ToolCallParser.merge(toolDeltas));
    }
    message.put("content", echo == null ? text : echo + (text == null ? "" : text));
    message.put("reasoning_content", reasoning.isEmpty() ? null : reasoning.toString());
    return withLogprobsAndFinish(choice, logprobs ? Json.object().set("content", logprobContent) : null);
  }

  /** Content through the tool parser (and its held-back rest at the end); keeps the call deltas for the finish. */
  private ToolCallParser.Delta tools(String content, boolean finished) {
    ToolCallParser.Delta d = content == null ? ToolCallParser.Delta.NONE : toolParser.feed(content);
    if (finished) {
      ToolCallParser.Delta rest = toolParser.finish();
      List<ObjectNode> calls = new ArrayList<>(d.calls());
      calls.addAll(rest.calls());
      d = new ToolCallParser.Delta(join(d.content(), rest.content()), calls);
    }
    toolDeltas.addAll(d.calls());
    return d;
  }

  /** As OpenAI: a choice that ended by calling tools finishes with "tool_calls". */
  @Override
  String apiFinishReason() {
    if (toolParser != null && toolParser.calledTools() && finishReason == FinishReason.STOP) return "tool_calls";
    return super.apiFinishReason();
  }

  private ReasoningParser.Split split(RequestOutput out) {
    if (reasoningParser == null) return new ReasoningParser.Split(null, out.newText().isEmpty() ? null : out.newText());
    ReasoningParser.Split split = reasoningParser.feed(out.newText());
    if (!out.finished()) return split;
    ReasoningParser.Split rest = reasoningParser.finish();
    return new ReasoningParser.Split(join(split.reasoning(), rest.reasoning()), split.content());
  }

  private static String join(String a, String b) {
    if (a == null) return b;
    return b == null ? a : a + b;
  }
}
