package barista.server.endpoints;

import barista.engine.sampling.ReasoningBudget;
import barista.engine.sampling.SamplingParams;
import barista.server.generation.ChatWriter;
import barista.server.generation.GenerationSession;
import barista.server.generation.ResponseWriter;
import barista.server.generation.ToolOutput;
import barista.server.http.Exchange;
import barista.server.model.SpecialTokenEscape;
import barista.server.openai.ChatRequest;
import barista.server.openai.CommonFields;
import barista.server.openai.ContextLimit;
import barista.server.openai.StructuredOutput;
import barista.server.openai.Tools;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** POST /v1/chat/completions: apply the chat template, then generate like a completion with one prompt. */
public final class ChatCompletionHandler extends ModelEndpoint {
  public ChatCompletionHandler(ServerContext server) {
    super(server);
  }

  private static ToolOutput toolOutput(Tools tools) {
    if (tools == null) return null;
    return switch (tools.choice()) {
      case NONE -> null;
      case REQUIRED -> ToolOutput.REQUIRED;
      case NAMED -> ToolOutput.named(tools.named());
      case AUTO -> ToolOutput.DEEPSEEK_V3; // the one --tool-call-parser there is
    };
  }

  @Override
  public void handle(Exchange exchange) {
    serve(exchange, Requests.body(exchange, server), ChatWriter::new);
  }

  /** Serves a chat body, its response shaped by {@code writers} (ResponsesHandler's body in the Responses shape). */
  void serve(Exchange exchange, ObjectNode body, ResponseWriter.Factory writers) {
    ChatRequest request = ChatRequest.parse(body, server.requestPolicy());
    Requests.ignoreUnknown(request.unknownFields());
    CommonFields common = request.common();
    String model = Requests.modelName(server, common.model());
    long textBytes = 0;
    for (barista.server.model.ChatMessage message : request.messages()) {
      textBytes += barista.server.openai.PromptBound.utf8Length(message.content());
    }
    server.promptBound().check(textBytes, server.model().maxModelLen(), "messages");
    SpecialTokenEscape escape =
        SpecialTokenEscape.of(server.model(), request.messages(), server.options().escapeSpecialTokensInContent);
    String prompt = Requests.renderChat(server, request, escape.messages());
    int[] tokenIds = Requests.applyExtras(escape.encode(prompt, false), common, server);
    int maxTokens = ContextLimit.maxTokens(tokenIds.length, request.maxTokens(), server.model().maxModelLen(),
        "messages");
    if (request.reasoningBudget() != null) common.params().reasoningBudget(reasoningBudget(request.reasoningBudget()));
    SamplingParams params = Requests.validated(common.params().maxTokens(maxTokens));
    StructuredOutput constraint = request.constraint();
    // A constrained output is all answer: it never opens a reasoning block, so it is not split.
    boolean parseReasoning = server.options().reasoningParser != null && constraint == null;
    ResponseWriter.Shape shape = Requests.shape(common, request.logprobs(), parseReasoning,
        toolOutput(request.tools()), common.n());
    Requests.generate(exchange, server, common, ChatWriter.ID_PREFIX, model, constraint,
        List.of(new GenerationSession.Prompt(tokenIds, params, request.echoedText(), null)), shape, writers);
  }

  /**
   * A spent budget appends "\n</think>\n\n": the thinking closed on its own line, a blank line, then the answer.
   * Encoded piece by piece, so the forced tokens hold {@code </think>} exactly as the model's own would.
   */
  private ReasoningBudget reasoningBudget(int maxTokens) {
    int[] end = server.model().encode("</think>", false);
    int[] newline = server.model().encode("\n", false);
    int[] blankLine = server.model().encode("\n\n", false);
    int[] forced = new int[newline.length + end.length + blankLine.length];
    System.arraycopy(newline, 0, forced, 0, newline.length);
    System.arraycopy(end, 0, forced, newline.length, end.length);
    System.arraycopy(blankLine, 0, forced, newline.length + end.length, blankLine.length);
    return new ReasoningBudget(maxTokens, end, forced);
  }
}
