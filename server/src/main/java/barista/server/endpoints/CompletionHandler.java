package barista.server.endpoints;

import barista.engine.sampling.SamplingParams;
import barista.server.model.ServedModel;
import barista.server.generation.CompletionWriter;
import barista.server.generation.GenerationSession;
import barista.server.generation.ResponseWriter;
import barista.server.http.Exchange;
import barista.server.openai.CommonFields;
import barista.server.openai.CompletionRequest;
import barista.server.openai.ContextLimit;
import java.util.ArrayList;
import java.util.List;

/** POST /v1/completions: every prompt (text or token ids) gets n choices, numbered prompt by prompt. */
public final class CompletionHandler extends ModelEndpoint {
  public CompletionHandler(ServerContext server) {
    super(server);
  }

  @Override
  public void handle(Exchange exchange) {
    CompletionRequest request = CompletionRequest.parse(Requests.body(exchange, server), server.requestPolicy());
    Requests.ignoreUnknown(request.unknownFields());
    CommonFields common = request.common();
    String model = Requests.modelName(server, common.model());
    ServedModel served = server.model();
    List<GenerationSession.Prompt> prompts = new ArrayList<>();
    for (CompletionRequest.PromptInput input : request.prompts()) {
      if (input.text() != null) {
        server.promptBound().check(barista.server.openai.PromptBound.utf8Length(input.text()), served.maxModelLen(),
            "prompt");
      }
    }
    for (CompletionRequest.PromptInput input : request.prompts()) {
      int[] tokenIds = Requests.applyExtras(input.text() != null ? served.encode(input.text(),
          request.addSpecialTokens()) : Requests.checkTokenIds(input.tokenIds(), server, "prompt"), common, server);
      int maxTokens = ContextLimit.maxTokens(tokenIds.length, request.maxTokens(), served.maxModelLen(), "prompt");
      String echo = !request.echo() ? null : input.text() != null ? input.text() : served.decode(tokenIds, false);
      SamplingParams.Builder params = common.params().maxTokens(maxTokens);
      // Ranking candidates needs each token's logprob; the response shows them only when asked for.
      if (request.bestOf() > common.n() && !request.logprobs()) params.logprobs(0);
      prompts.add(new GenerationSession.Prompt(tokenIds, Requests.validated(params), echo, null));
    }
    ResponseWriter.Shape shape = Requests.shape(common, request.logprobs(), false, null, request.bestOf());
    Requests.generate(exchange, server, common, CompletionWriter.ID_PREFIX, model, common.structuredOutput(), prompts,
        shape, CompletionWriter::new);
  }
}
