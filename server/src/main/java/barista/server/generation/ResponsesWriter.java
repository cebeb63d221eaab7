package barista.server.generation;

import barista.server.model.ServedModel;
import barista.server.http.Exchange;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * POST /v1/responses' answer: a chat generation of one choice, in the Responses API's shape ({@link ResponsesFormat}),
 * whole or as its event sequence.
 */
public final class ResponsesWriter extends ResponseWriter {
  private final ResponsesFormat format;

  public ResponsesWriter(Exchange exchange, ServedModel served, String id, String model, Shape shape,
      ResponsesFormat format) {
    super(exchange, served, id, model, shape);
    this.format = format;
  }

  @Override
  Choice newChoice(int index, int promptIndex, String engineRequestId, GenerationSession.Prompt prompt) {
    return new ChatChoice(index, engineRequestId, prompt, names, shape);
  }

  @Override
  void sendOpening() {
    for (ObjectNode event : format.opening()) exchange.sendEvent(Json.bytes(event));
  }

  @Override
  void sendDelta(ObjectNode choiceDelta) {
    for (ObjectNode event : format.delta(choiceDelta)) exchange.sendEvent(Json.bytes(event));
  }

  @Override
  void finish() {
    if (shape.stream()) {
      for (ObjectNode event : format.finish(usage())) exchange.sendEvent(Json.bytes(event));
      exchange.endEventStream();
    } else {
      ObjectNode response = header("chat.completion");
      response.putArray("choices").add(choices().get(0).complete());
      exchange.sendJson(HttpResponseStatus.OK, format.whole(response, usage()));
    }
  }
}
