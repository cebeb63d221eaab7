package barista.server.generation;

import barista.scheduler.RequestOutput;
import barista.server.model.ServedModel;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A text_completion choice; with echo the prompt text comes first, and text offsets of logprobs count it. With echo
 * and logprobs the prompt's tokens lead the logprobs too (their logprobs arrive with the first output, so a stream
 * sends the echoed text then, not ahead).
 */
final class CompletionChoice extends Choice {
  private final ServedModel model;
  private final boolean logprobs;
  private final String echo; // null: no echo
  private final StringBuilder text = new StringBuilder();
  private final Logprobs.Completion accumulated;
  private int textOffset;

  CompletionChoice(int index, int promptIndex, String engineRequestId, GenerationSession.Prompt prompt,
      ServedModel model, boolean logprobs) {
    super(index, promptIndex, engineRequestId, prompt.tokenIds().length);
    this.model = model;
    this.logprobs = logprobs;
    this.echo = prompt.echo();
    this.accumulated = logprobs ? new Logprobs.Completion(model) : null;
    if (echo != null) {
      text.append(echo);
      textOffset = echo.length();
    }
  }

  @Override
  ObjectNode openingDelta() {
    if (echo == null || echo.isEmpty() || logprobs) return null;
    ObjectNode choice = node();
    choice.put("text", echo);
    choice.putNull("logprobs");
    choice.putNull("finish_reason");
    return choice;
  }

  @Override
  ObjectNode streamDelta(RequestOutput out) {
    boolean echoNow = echo != null && logprobs && out.promptLogprobs() != null;
    boolean hasLogprobs = logprobs && (!out.logprobs().isEmpty() || echoNow);
    if (out.newText().isEmpty() && !hasLogprobs && !out.finished()) return null;
    ObjectNode choice = node();
    choice.put("text", echoNow ? echo + out.newText() : out.newText());
    ObjectNode tokenLogprobs = null;
    if (hasLogprobs) {
      Logprobs.Completion delta = new Logprobs.Completion(model);
      if (echoNow) delta.appendPrompt(out.promptLogprobs(), 0);
      textOffset = delta.append(out.logprobs(), textOffset);
      tokenLogprobs = delta.node();
    }
    return withLogprobsAndFinish(choice, tokenLogprobs);
  }

  @Override
  void accumulate(RequestOutput out) {
    text.append(out.newText());
    if (logprobs && echo != null && out.promptLogprobs() != null) accumulated.appendPrompt(out.promptLogprobs(), 0);
    if (logprobs) textOffset = accumulated.append(out.logprobs(), textOffset);
  }

  @Override
  ObjectNode complete() {
    ObjectNode choice = node();
    choice.put("text", text.toString());
    return withLogprobsAndFinish(choice, logprobs ? accumulated.node() : null,
        promptLogprobs == null ? null : Logprobs.prompt(promptLogprobs, model));
  }
}
