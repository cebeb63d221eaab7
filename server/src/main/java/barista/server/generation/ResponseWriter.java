package barista.server.generation;

import barista.server.model.ServedModel;
import barista.server.model.Version;
import barista.server.http.Exchange;
import barista.server.http.Json;
import barista.scheduler.RequestOutput;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How one API shapes a generation's response: the kind of its choices, the stream's events and the whole response.
 * A {@link GenerationSession} runs the request and calls its writer on the connection's event loop; a new generating
 * endpoint adds a writer, not a case in the session.
 */
public abstract class ResponseWriter {
  static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);

  /** Makes the writer of one response, once the handler knows its id, model and shape. */
  @FunctionalInterface
  public interface Factory {
    ResponseWriter create(Exchange exchange, ServedModel served, String id, String model, Shape shape);
  }

  /**
   * How the response is shaped.
   *
   * @param tools how tool calls are read out of chat content, or null when they are not
   * @param bestOf candidates generated per prompt (at least n); above n, only the n with the highest cumulative
   *     logprob are returned (completions, not streamed)
   * @param tokenIdNames logprobs name tokens "token_id:N" (vLLM's return_tokens_as_token_ids)
   */
  public record Shape(boolean stream, boolean includeUsage, boolean continuousUsage, int n, boolean logprobs,
      boolean parseReasoning, ToolOutput tools, int bestOf, boolean tokenIdNames) {}

  final Exchange exchange;
  final String id;
  final String model;
  final long created = System.currentTimeMillis() / 1000;
  final Shape shape;
  final ServedModel names; // the model as logprobs name its tokens
  private final List<Choice> choices = new ArrayList<>();

  ResponseWriter(Exchange exchange, ServedModel served, String id, String model, Shape shape) {
    this.exchange = exchange;
    this.id = id;
    this.model = model;
    this.shape = shape;
    this.names = shape.tokenIdNames() ? new TokenIdNames(served) : served;
  }

  /** A choice of this API's kind, for one candidate of one prompt. */
  abstract Choice newChoice(int index, int promptIndex, String engineRequestId, GenerationSession.Prompt prompt);

  /** Events sent before the choices' opening deltas on a stream (none by default). */
  void sendOpening() {}

  /** Sends one choice's stream delta (a chat or completion chunk's choice). */
  abstract void sendDelta(ObjectNode choiceDelta);

  /** Every choice has finished: ends the stream, or sends the whole response. */
  abstract void finish();

  /** Adds a choice to the response. */
  final void addChoice(int index, int promptIndex, String engineRequestId, GenerationSession.Prompt prompt) {
    choices.add(newChoice(index, promptIndex, engineRequestId, prompt));
  }

  /** The response's choices, every candidate of every prompt, in order. */
  final List<Choice> choices() {
    return Collections.unmodifiableList(choices);
  }

  /** Once the engine has taken every choice: a stream's first events. */
  final void begin() {
    if (!shape.stream()) return;
    exchange.startEventStream();
    sendOpening();
    for (Choice choice : choices) {
      ObjectNode opening = choice.openingDelta();
      if (opening != null) sendDelta(opening);
    }
  }

  /** One output of a choice, already recorded: streamed at once, or kept for the whole response. */
  final void output(Choice choice, RequestOutput out) {
    if (!shape.stream()) {
      choice.accumulate(out);
      return;
    }
    ObjectNode delta = choice.streamDelta(out);
    if (delta != null) sendDelta(delta);
  }

  final ObjectNode header(String object) {
    ObjectNode node = Json.object();
    node.put("id", id);
    node.put("object", object);
    node.put("created", created);
    node.put("model", model);
    node.put("system_fingerprint", Version.FINGERPRINT);
    return node;
  }

  final ObjectNode usage() {
    return usage(choices);
  }

  /**
   * Prompt tokens count once per prompt however many choices share it, as in OpenAI's usage; completion tokens are
   * those of the returned choices (as vLLM counted best_of).
   */
  final ObjectNode usage(List<Choice> counted) {
    int prompt = 0;
    int cached = 0;
    int completion = 0;
    int reasoning = 0;
    Set<Integer> promptsCounted = new HashSet<>();
    for (Choice choice : counted) {
      completion += choice.completionTokens;
      reasoning += choice.reasoningTokens;
      if (promptsCounted.add(choice.promptIndex)) {
        prompt += choice.promptTokens;
        cached += choice.cachedPromptTokens;
      }
    }
    ObjectNode usage = Json.object();
    usage.put("prompt_tokens", prompt);
    usage.put("total_tokens", prompt + completion);
    usage.put("completion_tokens", completion);
    usage.putObject("prompt_tokens_details").put("cached_tokens", cached);
    if (shape.parseReasoning()) usage.putObject("completion_tokens_details").put("reasoning_tokens", reasoning);
    return usage;
  }
}
