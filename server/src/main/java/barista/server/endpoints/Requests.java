package barista.server.endpoints;

import barista.engine.constraint.Grammar;
import barista.engine.sampling.RefusedRequestException;
import barista.engine.sampling.SamplingParams;
import barista.server.http.ApiException;
import barista.server.http.Exchange;
import barista.server.generation.GenerationSession;
import barista.server.generation.ResponseWriter;
import barista.server.generation.ToolOutput;
import barista.server.openai.CommonFields;
import barista.server.openai.FieldPolicy;
import barista.server.openai.StructuredOutput;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Steps every model endpoint takes: log the body if allowed, resolve the model name, check token ids and params. */
final class Requests {
  private static final Logger log = LoggerFactory.getLogger(Requests.class);
  /** Short model names already logged (with the served name they stand for), so each is logged once. */
  private static final Set<String> SHORT_NAMES_LOGGED = ConcurrentHashMap.newKeySet();

  private Requests() {}

  static ObjectNode body(Exchange exchange, ServerContext server) {
    ObjectNode body = exchange.jsonBody(server.promptBound().bodyReader(), server.promptBound()::tooLong);
    if (server.options().logRequestBodies) log.info("Request {} {}: {}", exchange.request().method(), exchange.path(), body);
    return body;
  }

  /** Fields nobody reads are ignored and logged once per name (FieldPolicy), as vLLM does. */
  static void ignoreUnknown(List<String> unknownFields) {
    barista.server.openai.FieldPolicy.ignoreUnknown(unknownFields);
  }

  /**
   * What vLLM's extras ask of a prompt: truncate_prompt_tokens keeps its last tokens, allowed_token_ids are checked
   * against the vocabulary, bad_words become token sequences.
   */
  static int[] applyExtras(int[] promptIds, CommonFields common, ServerContext server) {
    FieldPolicy.Extras extras = common.extras();
    if (extras.allowedTokenIds() != null) {
      checkTokenIds(extras.allowedTokenIds().stream().mapToInt(Integer::intValue).toArray(), server,
          "allowed_token_ids");
    }
    if (extras.badWords() != null) {
      common.params().badWords(FieldPolicy.badWordTokens(extras.badWords(), w -> server.model().encode(w, false)));
    }
    Integer keep = extras.truncatePromptTokens();
    if (keep != null && keep == -1) keep = server.model().maxModelLen();
    return FieldPolicy.truncate(promptIds, keep);
  }

  /**
   * The chat prompt: the template applied to the messages (with the tool definitions when a tool may be called);
   * under continue_final_message cut right after the final message's content, so the output continues it (as vLLM
   * and transformers' continue_final_message do).
   */
  static String renderChat(ServerContext server, barista.server.openai.ChatRequest chat) {
    return renderChat(server, chat, chat.messages());
  }

  /** As above, with the request's messages as given (those with special-token strings escaped, say). */
  static String renderChat(ServerContext server, barista.server.openai.ChatRequest chat,
      java.util.List<barista.server.model.ChatMessage> messages) {
    String prompt;
    try {
      barista.server.openai.Tools tools = chat.tools();
      prompt = server.model().renderChat(messages, chat.addGenerationPrompt(), chat.templateKwargs(),
          tools == null || tools.choice() == barista.server.openai.Tools.Choice.NONE ? null : tools.definitions());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("The chat template rejected the messages: " + e.getMessage(), "messages");
    }
    if (!chat.continueFinalMessage()) return prompt;
    String last = messages.get(messages.size() - 1).content();
    String shown = last;
    int at = prompt.lastIndexOf(shown);
    if (at < 0) { // a template that trims what it shows
      shown = last.strip();
      at = prompt.lastIndexOf(shown);
    }
    if (at < 0) {
      throw ApiException.badRequest("continue_final_message: the chat template does not show the final message's "
          + "content", "continue_final_message");
    }
    return prompt.substring(0, at + shown.length());
  }

  /** The response id: the client's request_id after the API's prefix when it gave one (as vLLM), else a new one. */
  static String responseId(String idPrefix, CommonFields common) {
    String requestId = common.extras().requestId();
    return idPrefix + (requestId == null ? UUID.randomUUID().toString().replace("-", "") : requestId);
  }

  /** The response's shape from the fields every generating request has, and those of its API. */
  static ResponseWriter.Shape shape(CommonFields common, boolean logprobs, boolean parseReasoning, ToolOutput tools,
      int bestOf) {
    return new ResponseWriter.Shape(common.stream(), common.includeUsage(), common.continuousUsage(), common.n(),
        logprobs, parseReasoning, tools, bestOf, common.extras().returnTokensAsTokenIds());
  }

  /**
   * Once the constraint has compiled (on the event loop, see {@link #withGrammar}), starts the generation of
   * {@code prompts} under it, its response written by {@code writers}.
   */
  static void generate(Exchange exchange, ServerContext server, CommonFields common, String idPrefix, String model,
      StructuredOutput constraint, List<GenerationSession.Prompt> prompts, ResponseWriter.Shape shape,
      ResponseWriter.Factory writers) {
    withGrammar(exchange, server, constraint, grammar -> new GenerationSession(exchange, server.generation(),
        responseId(idPrefix, common), model, prompts.stream().map(p -> p.withGrammar(grammar)).toList(), shape,
        common.priority(), writers).start());
  }

  /**
   * The served name a request asked for (the first one when it named none). A name equal to the last path segment
   * of exactly one served name (DeepSeek-R1-Distill-Qwen-1.5B for deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B or
   * /models/DeepSeek-R1-Distill-Qwen-1.5B) means that one, logged the first time; anything else is a 404.
   */
  static String modelName(ServerContext server, String requested) {
    if (requested == null) return server.defaultModelName();
    List<String> served = server.model().servedNames();
    if (served.contains(requested)) return requested;
    List<String> matches = served.stream().filter(name -> lastSegment(name).equals(requested)).toList();
    if (matches.size() == 1 && !requested.isEmpty()) {
      String name = matches.get(0);
      if (SHORT_NAMES_LOGGED.add(requested + "\n" + name)) {
        log.info("Requests for model `{}` are served by `{}` (the last segment of its name)", requested, name);
      }
      return name;
    }
    throw ApiException.notFound("The model `" + requested + "` does not exist.");
  }

  private static String lastSegment(String name) {
    String trimmed = name.replaceAll("[/\\\\]+$", "");
    int slash = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
    return trimmed.substring(slash + 1);
  }

  static int[] checkTokenIds(int[] ids, ServerContext server, String field) {
    int vocab = server.model().vocabSize();
    for (int id : ids) {
      if (id < 0 || id >= vocab) {
        throw ApiException.badRequest(field + " has token id " + id + " outside the vocabulary [0, " + vocab + ")",
            field);
      }
    }
    return ids;
  }

  /**
   * Runs {@code then} with the request's grammar (null when it has no constraint) on the connection's event loop,
   * once the compiler threads have made it (at the loop's next turn when it is cached), unless the client has gone
   * by then. Errors, also those {@code then} throws, are sent as the response.
   */
  static void withGrammar(Exchange exchange, ServerContext server, StructuredOutput constraint,
      java.util.function.Consumer<Grammar> then) {
    if (constraint == null) {
      exchange.onEventLoop(() -> then.accept(null));
      return;
    }
    Constraints.Pending pending = server.constraints().grammar(constraint, server.model(), client(exchange));
    exchange.onCancel(pending.abandon()); // a client gone while its constraint compiles stops the compile
    pending.grammar().whenComplete((g, e) -> exchange.onEventLoop(() -> then.accept(join(pending.grammar()))));
  }

  /** The remote address a request came from, the unit of per-client bounds; null when unknown. */
  private static String client(Exchange exchange) {
    java.net.SocketAddress remote = exchange.context().channel().remoteAddress();
    return remote instanceof java.net.InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress().getHostAddress() : null;
  }

  private static Grammar join(java.util.concurrent.CompletableFuture<Grammar> grammar) {
    try {
      return grammar.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw e;
    }
  }

  static SamplingParams validated(SamplingParams.Builder params) {
    try {
      return params.build().validate();
    } catch (RefusedRequestException e) {
      throw ApiException.badRequest(e.getMessage(), e.what());
    }
  }
}
