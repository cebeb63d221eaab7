package barista.server.generation;

import barista.server.model.ServedModel;
import barista.server.http.Exchange;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** POST /v1/chat/completions' response: chat.completion, or chat.completion.chunk events. */
public final class ChatWriter extends ChoicesWriter {
  public static final String ID_PREFIX = "chatcmpl-";

  public ChatWriter(Exchange exchange, ServedModel served, String id, String model, Shape shape) {
    super(exchange, served, id, model, shape, "chat.completion", "chat.completion.chunk");
  }

  @Override
  Choice newChoice(int index, int promptIndex, String engineRequestId, GenerationSession.Prompt prompt) {
    return new ChatChoice(index, engineRequestId, prompt, names, shape);
  }

  /** vLLM's chat response carries the prompt's logprobs once, beside the choices (they share the prompt). */
  @Override
  void besideChoices(ObjectNode response, List<Choice> returned) {
    if (returned.get(0).promptLogprobs != null) {
      response.set("prompt_logprobs", Logprobs.prompt(returned.get(0).promptLogprobs, names));
    }
  }
}
