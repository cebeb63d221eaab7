package barista.server.generation;

import barista.server.model.ServedModel;
import barista.server.http.Exchange;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** POST /v1/completions' response: text_completion, whole or as events; best_of candidates ranked. */
public final class CompletionWriter extends ChoicesWriter {
  public static final String ID_PREFIX = "cmpl-";

  public CompletionWriter(Exchange exchange, ServedModel served, String id, String model, Shape shape) {
    super(exchange, served, id, model, shape, "text_completion", "text_completion");
  }

  @Override
  Choice newChoice(int index, int promptIndex, String engineRequestId, GenerationSession.Prompt prompt) {
    return new CompletionChoice(index, promptIndex, engineRequestId, prompt, names, shape.logprobs());
  }

  /**
   * All the choices, or with best_of above n each prompt's n candidates of the highest cumulative logprob, most
   * likely first and numbered again (vLLM V0's ranking; earlier candidates win ties).
   */
  @Override
  List<Choice> returned() {
    List<Choice> choices = choices();
    if (shape.bestOf() == shape.n()) return choices;
    List<Choice> returned = new ArrayList<>();
    for (int p = 0; p < choices.size() / shape.bestOf(); p++) {
      List<Choice> candidates = new ArrayList<>(choices.subList(p * shape.bestOf(), (p + 1) * shape.bestOf()));
      candidates.sort(Comparator.comparingDouble((Choice c) -> -c.cumulativeLogprob));
      for (int j = 0; j < shape.n(); j++) {
        Choice chosen = candidates.get(j);
        chosen.index = p * shape.n() + j;
        returned.add(chosen);
      }
    }
    return returned;
  }
}
