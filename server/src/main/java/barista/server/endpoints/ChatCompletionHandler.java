package barista.server.endpoints;

import barista.engine.constraint.Grammar;
import barista.engine.sampling.SamplingParams;
import barista.server.ServerContext;
import barista.server.generation.GenerationSession;
import barista.server.http.ApiException;
import barista.server.http.Endpoint;
import barista.server.http.Exchange;
import barista.server.openai.ChatRequest;
import barista.server.openai.CommonFields;
import barista.server.openai.ContextLimit;
import java.util.List;

/** POST /v1/chat/completions: apply the chat template, then generate like a completion with one prompt. */
public final class ChatCompletionHandler implements Endpoint {
  private final ServerContext server;

  public ChatCompletionHandler(ServerContext server) {
    this.server = server;
  }

  @Override
  public void handle(Exchange exchange) {
    ChatRequest request = ChatRequest.parse(Requests.body(exchange, server),
        server.model().defaultSamplingParams(), server.options());
    Requests.logUnknown(exchange, request.unknownFields());
    CommonFields common = request.common();
    String model = Requests.modelName(server, common.model());
    String prompt;
    try {
      prompt = server.model().renderChat(request.messages(), request.addGenerationPrompt(), request.templateKwargs());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("The chat template rejected the messages: " + e.getMessage(), "messages");
    }
    int[] tokenIds = server.model().encode(prompt, false);
    int maxTokens = ContextLimit.maxTokens(tokenIds.length, request.maxTokens(), server.model().maxModelLen(),
        "messages");
    SamplingParams params = Requests.validated(common.params().maxTokens(maxTokens));
    Grammar grammar = common.structuredOutput() == null ? null
        : server.constraints().grammar(common.structuredOutput(), server.model());
    GenerationSession.Shape shape = new GenerationSession.Shape(common.stream(), common.includeUsage(),
        common.continuousUsage(), common.n(), request.logprobs(), server.options().reasoningParser != null);
    new GenerationSession(exchange, server, GenerationSession.Api.CHAT,
        GenerationSession.newId(GenerationSession.Api.CHAT), model,
        List.of(new GenerationSession.Prompt(tokenIds, params, null, grammar)), shape, common.priority()).start();
  }
}
