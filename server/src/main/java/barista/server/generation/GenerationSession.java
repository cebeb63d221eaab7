package barista.server.generation;

import barista.engine.constraint.Grammar;
import barista.engine.sampling.InvalidSamplingParamException;
import barista.engine.sampling.SamplingParams;
import barista.scheduler.EngineOverloadedException;
import barista.server.metrics.ServerMetrics;
import barista.scheduler.GenerationRequest;
import barista.scheduler.OutputListener;
import barista.scheduler.RequestOutput;
import barista.server.ServedModel;
import barista.server.ServerContext;
import barista.server.http.ApiException;
import barista.server.http.Exchange;
import barista.server.http.Json;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chat or completions request in flight: its choices (prompts x n, each its own engine request), their
 * outputs handed from the engine thread to the connection's event loop, and the response, streamed as
 * server-sent events or sent whole when every choice has finished. Everything but the listener runs on the
 * event loop, so no state here is shared between threads.
 */
public final class GenerationSession {
  private static final Logger log = LoggerFactory.getLogger(GenerationSession.class);
  private static final byte[] DONE = "[DONE]".getBytes(StandardCharsets.US_ASCII);

  /** The two OpenAI APIs served here: id prefix and object names. */
  public enum Api {
    CHAT("chatcmpl-", "chat.completion", "chat.completion.chunk"),
    COMPLETION("cmpl-", "text_completion", "text_completion");

    final String idPrefix;
    final String object;
    final String chunkObject;

    Api(String idPrefix, String object, String chunkObject) {
      this.idPrefix = idPrefix;
      this.object = object;
      this.chunkObject = chunkObject;
    }

    public String idPrefix() {
      return idPrefix;
    }
  }

  /**
   * One prompt: its token ids, its sampling params (max_tokens resolved), the text echoed before the output, and the
   * grammar its output must follow (or null).
   */
  public record Prompt(int[] tokenIds, SamplingParams params, String echo, Grammar grammar) {
    public Prompt(int[] tokenIds, SamplingParams params, String echo) {
      this(tokenIds, params, echo, null);
    }
  }

  /** Completion tokens (a sixteenth with logprobs) from which a non-streamed response is serialized off the loop. */
  static final int LARGE_RESPONSE_TOKENS = 2048;

  /**
   * How the response is shaped.
   *
   * @param tools how tool calls are read out of chat content, or null when they are not
   * @param bestOf candidates generated per prompt (at least n); above n, only the n with the highest cumulative
   *     logprob are returned (completions, not streamed)
   * @param tokenIdNames logprobs name tokens "token_id:N" (vLLM's return_tokens_as_token_ids)
   */
  public record Shape(boolean stream, boolean includeUsage, boolean continuousUsage, int n, boolean logprobs,
      boolean parseReasoning, ToolOutput tools, int bestOf, boolean tokenIdNames) {

    public Shape(boolean stream, boolean includeUsage, boolean continuousUsage, int n, boolean logprobs,
        boolean parseReasoning, ToolOutput tools, int bestOf) {
      this(stream, includeUsage, continuousUsage, n, logprobs, parseReasoning, tools, bestOf, false);
    }

    public Shape withTokenIdNames(boolean names) {
      return new Shape(stream, includeUsage, continuousUsage, n, logprobs, parseReasoning, tools, bestOf, names);
    }

    public Shape(boolean stream, boolean includeUsage, boolean continuousUsage, int n, boolean logprobs,
        boolean parseReasoning) {
      this(stream, includeUsage, continuousUsage, n, logprobs, parseReasoning, null, n);
    }

    /** A chat response's shape: one candidate per choice. */
    public Shape(boolean stream, boolean includeUsage, boolean continuousUsage, int n, boolean logprobs,
        boolean parseReasoning, ToolOutput tools) {
      this(stream, includeUsage, continuousUsage, n, logprobs, parseReasoning, tools, n);
    }

    /** A completion response's shape: no tools. */
    public Shape(boolean stream, boolean includeUsage, boolean continuousUsage, int n, boolean logprobs,
        boolean parseReasoning, int bestOf) {
      this(stream, includeUsage, continuousUsage, n, logprobs, parseReasoning, null, bestOf);
    }
  }

  /** Where a chat response's tool calls come from. */
  public record ToolOutput(String kind, String function) {
    public static final ToolOutput REQUIRED = new ToolOutput("required", null);
    public static final ToolOutput DEEPSEEK_V3 = new ToolOutput("deepseek_v3", null);

    public static ToolOutput named(String function) {
      return new ToolOutput("named", function);
    }

    ToolCallParser parser() {
      return switch (kind) {
        case "named" -> new ToolCallParser.Named(function);
        case "required" -> new ToolCallParser.Required();
        default -> new ToolCallParser.DeepSeekV3();
      };
    }
  }

  private final Exchange exchange;
  private final ServerContext server;
  private final EventLoop eventLoop;
  private final Api api;
  private final String id;
  private final String model;
  private final long created = System.currentTimeMillis() / 1000;
  private final Shape shape;
  private final int priority;
  private final List<Prompt> prompts;
  private final List<Choice> choices = new ArrayList<>();
  private final ServedModel names; // the model as logprobs name its tokens
  private ScheduledFuture<?> timeout;
  private int unfinished;
  private boolean done;
  private ResponsesFormat responses; // null: the chat or completions shape; else the Responses API's

  public GenerationSession(Exchange exchange, ServerContext server, Api api, String id, String model,
      List<Prompt> prompts, Shape shape, int priority) {
    this.exchange = exchange;
    this.server = server;
    this.eventLoop = exchange.context().channel().eventLoop();
    this.api = api;
    this.id = id;
    this.model = model;
    this.prompts = List.copyOf(prompts);
    this.shape = shape;
    this.priority = priority;
    names = shape.tokenIdNames() ? new TokenIdNames(server.model()) : server.model();
    for (int p = 0; p < prompts.size(); p++) {
      for (int j = 0; j < shape.bestOf(); j++) {
        int index = p * shape.bestOf() + j;
        // A client's request_id may repeat: a serial keeps its requests' engine ids apart.
        String engineId = id + "-" + index + (id.matches(".*-[0-9a-f]{32}") ? "" : "-" + SESSIONS.incrementAndGet());
        int promptTokens = prompts.get(p).tokenIds().length;
        choices.add(api == Api.CHAT
            ? new ChatChoice(index, engineId, promptTokens, names, shape.logprobs(), shape.parseReasoning(),
                shape.tools() == null ? null : shape.tools().parser(), prompts.get(p).echo())
            : new CompletionChoice(index, p, engineId, promptTokens, names, shape.logprobs(),
                prompts.get(p).echo()));
      }
    }
    unfinished = choices.size();
  }

  private static final java.util.concurrent.atomic.AtomicLong SESSIONS = new java.util.concurrent.atomic.AtomicLong();

  /** Shapes the response as the Responses API's (a chat session of one choice), before {@link #start}. */
  public GenerationSession inResponsesShape(ResponsesFormat format) {
    this.responses = format;
    return this;
  }

  public static String newId(Api api) {
    return api.idPrefix + java.util.UUID.randomUUID().toString().replace("-", "");
  }

  /** As vLLM, the j-th of n choices of a seeded request samples with seed + j: reproducible, yet not n copies. */
  private static SamplingParams choiceParams(SamplingParams params, int j) {
    return params.seed() == null || j == 0 ? params : params.toBuilder().seed(params.seed() + j).build();
  }

  /**
   * Submits every choice to the engine as one batch; throws ApiException (400, 503) with nothing sent and nothing
   * queued when the engine refuses it. Then the response begins.
   */
  public void start() {
    if (server.sessions().draining()) {
      throw ApiException.overloaded("The server is shutting down; retry on another instance");
    }
    List<GenerationRequest> requests = new ArrayList<>(choices.size());
    List<OutputListener> listeners = new ArrayList<>(choices.size());
    for (int i = 0; i < choices.size(); i++) {
      Choice choice = choices.get(i);
      Prompt prompt = prompts.get(choice.promptIndex);
      requests.add(new GenerationRequest(
          choice.engineRequestId, prompt.tokenIds(), choiceParams(prompt.params(), i % shape.bestOf()), priority,
          exchange.arrivalNanos(), prompt.grammar()));
      listeners.add(listener(choice));
    }
    try {
      server.engine().submitAll(requests, listeners); // all or none: a refused batch takes no client's place
    } catch (EngineOverloadedException e) {
      throw ApiException.overloaded("The server is overloaded, retry later: " + e.getMessage());
    } catch (InvalidSamplingParamException e) {
      throw ApiException.badRequest(e.getMessage(), e.field());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage(), null);
    }
    server.sessions().add(this);
    exchange.onCancel(this::clientGone);
    double timeoutSeconds = server.options().requestTimeoutSeconds;
    if (timeoutSeconds > 0) {
      timeout = eventLoop.schedule(this::abortUnfinished, (long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS);
    }
    if (shape.stream()) {
      exchange.startEventStream();
      if (responses != null) for (ObjectNode event : responses.opening()) exchange.sendEvent(Json.bytes(event));
      for (Choice choice : choices) {
        ObjectNode opening = choice.openingDelta();
        if (opening != null) sendChunk(opening);
      }
    }
  }

  /** Runs on the engine thread: only hands the output to the event loop. */
  private OutputListener listener(Choice choice) {
    return out -> {
      try {
        eventLoop.execute(() -> onOutput(choice, out));
      } catch (RejectedExecutionException e) {
        server.engine().abort(out.requestId()); // the server is shutting down
      }
    };
  }

  private void onOutput(Choice choice, RequestOutput out) {
    if (done || choice.finished()) return;
    try {
      long now = System.nanoTime();
      recordTiming(choice, out, now);
      choice.record(out);
      if (shape.stream()) {
        ObjectNode delta = choice.streamDelta(out);
        if (delta != null) sendChunk(delta);
      } else {
        choice.accumulate(out);
      }
      if (out.finished()) {
        // max_tokens as the handler resolved it (ContextLimit: the rest of the context when the request set none)
        server.metrics().finished(out.finishReason(), choice.promptTokens, choice.completionTokens,
            prompts.get(choice.promptIndex).params().maxTokens(), new ServerMetrics.RequestTimes(
                exchange.arrivalNanos(), out.queuedNanos(), out.scheduledNanos(), choice.firstTokenNanos,
                choice.lastTokenNanos, now));
        if (--unfinished == 0) complete();
      }
    } catch (RuntimeException e) {
      if (!done) fail(e);
    }
  }

  private void recordTiming(Choice choice, RequestOutput out, long now) {
    int tokens = out.newTokenIds().length;
    if (tokens == 0) return;
    server.metrics().generatedTokens(tokens);
    if (choice.firstTokenNanos == 0) {
      choice.firstTokenNanos = now;
      server.metrics().firstToken(now - exchange.arrivalNanos());
    } else {
      server.metrics().interToken(now - choice.lastTokenNanos);
    }
    choice.lastTokenNanos = now;
  }

  private void complete() {
    end(null); // before the last write, so a client that has the response sees the request gone
    server.metrics().apiRequestFinished(shape.n());
    try {
      writeCompletion();
    } catch (RuntimeException e) { // a bug building the response: the client gets an error, not a hung request
      log.error("Bug while completing {}", id, e);
      sendInternalError(e);
    }
  }

  private void writeCompletion() {
    if (responses != null) {
      if (shape.stream()) {
        for (ObjectNode event : responses.finish(usage())) exchange.sendEvent(Json.bytes(event));
        exchange.endEventStream();
      } else {
        ObjectNode response = header(api.object);
        response.putArray("choices").add(choices.get(0).complete());
        exchange.sendJson(HttpResponseStatus.OK, responses.whole(response, usage()));
      }
      return;
    }
    if (shape.stream()) {
      if (shape.includeUsage()) {
        ObjectNode chunk = chunk();
        chunk.putArray("choices");
        chunk.set("usage", usage());
        exchange.sendEvent(Json.bytes(chunk));
      }
      exchange.sendEvent(DONE);
      exchange.endEventStream();
    } else {
      ObjectNode response = header(api.object);
      ArrayNode array = response.putArray("choices");
      List<Choice> returned = returned();
      for (Choice choice : returned) array.add(choice.complete());
      // vLLM's chat response carries the prompt's logprobs once, beside the choices (they share the prompt).
      if (api == Api.CHAT && returned.get(0).promptLogprobs != null) {
        response.set("prompt_logprobs", Logprobs.prompt(returned.get(0).promptLogprobs, names));
      }
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

  private void sendChunk(ObjectNode choice) {
    if (responses != null) {
      for (ObjectNode event : responses.delta(choice)) exchange.sendEvent(Json.bytes(event));
      return;
    }
    ObjectNode chunk = chunk();
    chunk.putArray("choices").add(choice);
    if (shape.continuousUsage()) chunk.set("usage", usage());
    exchange.sendEvent(Json.bytes(chunk));
  }

  private ObjectNode chunk() {
    return header(api.chunkObject);
  }

  private ObjectNode header(String object) {
    ObjectNode node = Json.object();
    node.put("id", id);
    node.put("object", object);
    node.put("created", created);
    node.put("model", model);
    node.put("system_fingerprint", barista.server.Version.FINGERPRINT);
    return node;
  }

  /**
   * The choices of the response: all of them, or with best_of above n each prompt's n candidates of the highest
   * cumulative logprob, most likely first and numbered again (vLLM V0's ranking; earlier candidates win ties).
   */
  private List<Choice> returned() {
    if (shape.bestOf() == shape.n()) return choices;
    List<Choice> returned = new ArrayList<>();
    for (int p = 0; p < prompts.size(); p++) {
      List<Choice> candidates = new ArrayList<>(choices.subList(p * shape.bestOf(), (p + 1) * shape.bestOf()));
      candidates.sort(java.util.Comparator.comparingDouble((Choice c) -> -c.cumulativeLogprob));
      for (int j = 0; j < shape.n(); j++) {
        Choice chosen = candidates.get(j);
        chosen.index = p * shape.n() + j;
        returned.add(chosen);
      }
    }
    return returned;
  }

  private ObjectNode usage() {
    return usage(choices);
  }

  /**
   * Prompt tokens count once per prompt however many choices share it, as in OpenAI's usage; completion tokens are
   * those of the returned choices (as vLLM counted best_of).
   */
  private ObjectNode usage(List<Choice> counted) {
    int prompt = 0;
    int cached = 0;
    int completion = 0;
    int reasoning = 0;
    java.util.Set<Integer> promptsCounted = new java.util.HashSet<>();
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

  /** A bug after the request was accepted: the client gets an error (as an event once streaming), the rest is aborted. */
  private void fail(RuntimeException e) {
    log.error("Bug while serving {}", id, e);
    for (Choice choice : choices) {
      if (!choice.finished()) server.engine().abort(choice.engineRequestId);
    }
    end("error");
    sendInternalError(e);
  }

  private void sendInternalError(RuntimeException e) {
    ApiException error = ApiException.internal("Internal error: " + e);
    if (exchange.isStreaming()) {
      exchange.sendEvent(Json.bytes(Json.errorBody(error)));
      exchange.sendEvent(DONE);
      exchange.endEventStream();
    } else {
      exchange.sendError(error);
    }
  }

  /** Aborts every unfinished choice; each ends with finish_reason "abort" and the response completes. */
  private void abortUnfinished() {
    for (Choice choice : choices) {
      if (done) return;
      if (choice.finished()) continue;
      server.engine().abort(choice.engineRequestId);
      onOutput(choice, RequestOutput.abort(choice.engineRequestId, choice.promptTokens, choice.cachedPromptTokens,
          choice.completionTokens, 0, 0));
    }
  }

  /** For shutdown, from any thread. */
  void abortSoon() {
    eventLoop.execute(this::abortUnfinished);
  }

  private void clientGone() {
    if (done) return;
    for (Choice choice : choices) {
      if (!choice.finished()) server.engine().abort(choice.engineRequestId);
    }
    end("client disconnected");
  }

  private void end(String problem) {
    done = true;
    if (timeout != null) timeout.cancel(false);
    server.sessions().remove(this);
    if (server.options().disableLogRequests) return;
    int completion = choices.stream().mapToInt(c -> c.completionTokens).sum();
    String finish = problem != null ? problem : choices.stream().map(c -> c.finishReason.apiName()).distinct()
        .reduce((a, b) -> a + "," + b).orElse("");
    log.info("Finished request {}: prompt_tokens={} completion_tokens={} finish_reason={} latency={}s", id,
        prompts.stream().mapToInt(p -> p.tokenIds().length).sum(), completion, finish,
        String.format("%.3f", (System.nanoTime() - exchange.arrivalNanos()) / 1e9));
  }
}
