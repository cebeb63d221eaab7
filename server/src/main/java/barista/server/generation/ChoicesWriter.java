package barista.server.generation;

import barista.server.model.ServedModel;
import barista.server.http.Exchange;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.List;

/**
 * The shape the chat completions and completions APIs share: a whole response object with its choices and usage,
 * or a stream of chunks, each with one choice's delta, ending with an optional usage chunk and {@code [DONE]}.
 */
abstract class ChoicesWriter extends ResponseWriter {
  /** Completion tokens (a sixteenth with logprobs) from which a non-streamed response is serialized off the loop. */
  static final int LARGE_RESPONSE_TOKENS = 2048;
  private final String object;
  private final String chunkObject;

  ChoicesWriter(Exchange exchange, ServedModel served, String id, String model, Shape shape, String object,
      String chunkObject) {
    super(exchange, served, id, model, shape);
    this.object = object;
    this.chunkObject = chunkObject;
  }

  /** The choices the whole response returns (all of them by default), numbered as returned. */
  List<Choice> returned() {
    return choices();
  }

  /** Fields of the whole response beside its choices (none by default). */
  void besideChoices(ObjectNode response, List<Choice> returned) {}

  @Override
  final void sendDelta(ObjectNode choiceDelta) {
    ObjectNode chunk = header(chunkObject);
    chunk.putArray("choices").add(choiceDelta);
    if (shape.continuousUsage()) chunk.set("usage", usage());
    exchange.sendEvent(Json.bytes(chunk));
  }

  @Override
  final void finish() {
    if (shape.stream()) {
      if (shape.includeUsage()) {
        ObjectNode chunk = header(chunkObject);
        chunk.putArray("choices");
        chunk.set("usage", usage());
        exchange.sendEvent(Json.bytes(chunk));
      }
      exchange.sendEvent(DONE);
      exchange.endEventStream();
      return;
    }
    ObjectNode response = header(object);
    ArrayNode array = response.putArray("choices");
    List<Choice> returned = returned();
    for (Choice choice : returned) array.add(choice.complete());
    besideChoices(response, returned);
    response.set("usage", usage(returned));
    int tokens = returned.stream().mapToInt(c -> c.completionTokens + (c.promptLogprobs == null ? 0
        : c.promptTokens)).sum();
    boolean perTokenObjects = shape.logprobs() || returned.get(0).promptLogprobs != null;
    if (tokens >= (perTokenObjects ? LARGE_RESPONSE_TOKENS / 16 : LARGE_RESPONSE_TOKENS)) {
      exchange.sendJsonSerializedOffLoop(HttpResponseStatus.OK, response); // megabytes of JSON: not on the loop
    } else {
      exchange.sendJson(HttpResponseStatus.OK, response);
    }
  }
}
