package barista.server.generation;

import barista.engine.constraint.Grammar;
import barista.engine.sampling.RefusedRequestException;
import barista.engine.sampling.SamplingParams;
import barista.scheduler.EngineOverloadedException;
import barista.scheduler.GenerationRequest;
import barista.scheduler.OutputListener;
import barista.scheduler.RequestOutput;
import barista.server.http.ApiException;
import barista.server.http.Exchange;
import barista.server.http.Json;
import barista.server.metrics.ServerMetrics;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One generating request in flight: its choices (prompts x candidates, each its own engine request), their outputs
 * handed from the engine thread to the connection's event loop, metrics, the request timeout, aborts and the log
 * line. How the response looks is its {@link ResponseWriter}'s. Everything but the listener runs on the event loop,
 * so no state here is shared between threads.
 */
public final class GenerationSession {
  private static final Logger log = LoggerFactory.getLogger(GenerationSession.class);
  private static final AtomicLong SESSIONS = new AtomicLong();

  /**
   * One prompt: its token ids, its sampling params (max_tokens resolved), the text echoed before the output, and the
   * grammar its output must follow (or null).
   */
  public record Prompt(int[] tokenIds, SamplingParams params, String echo, Grammar grammar) {
    public Prompt withGrammar(Grammar constraint) {
      return new Prompt(tokenIds, params, echo, constraint);
    }
  }

  private final Exchange exchange;
  private final GenerationContext context;
  private final EventLoop eventLoop;
  private final String id;
  private final ResponseWriter.Shape shape;
  private final int priority;
  private final List<Prompt> prompts;
  private final ResponseWriter writer;
  private final List<Choice> choices;
  private ScheduledFuture<?> timeout;
  private int unfinished;
  private boolean done;

  /** @param writers the API's response writer, made for this response's id, model and shape */
  public GenerationSession(Exchange exchange, GenerationContext context, String id, String model, List<Prompt> prompts,
      ResponseWriter.Shape shape, int priority, ResponseWriter.Factory writers) {
    this.exchange = exchange;
    this.context = context;
    this.eventLoop = exchange.context().channel().eventLoop();
    this.id = id;
    this.prompts = List.copyOf(prompts);
    this.shape = shape;
    this.priority = priority;
    this.writer = writers.create(exchange, context.model(), id, model, shape);
    for (int p = 0; p < prompts.size(); p++) {
      for (int j = 0; j < shape.bestOf(); j++) {
        int index = p * shape.bestOf() + j;
        // A client's request_id may repeat: a serial keeps its requests' engine ids apart.
        String engineId = id + "-" + index + (id.matches(".*-[0-9a-f]{32}") ? "" : "-" + SESSIONS.incrementAndGet());
        writer.addChoice(index, p, engineId, prompts.get(p));
      }
    }
    choices = writer.choices();
    unfinished = choices.size();
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
    if (context.sessions().draining()) {
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
      context.engine().submitAll(requests, listeners); // all or none: a refused batch takes no client's place
    } catch (EngineOverloadedException e) {
      throw ApiException.overloaded("The server is overloaded, retry later: " + e.getMessage());
    } catch (RefusedRequestException e) {
      throw ApiException.badRequest(e.getMessage(), e.what());
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage(), null);
    }
    context.sessions().add(this);
    exchange.onCancel(this::clientGone);
    double timeoutSeconds = context.requestTimeoutSeconds();
    if (timeoutSeconds > 0) {
      timeout = eventLoop.schedule(this::abortUnfinished, (long) (timeoutSeconds * 1000), TimeUnit.MILLISECONDS);
    }
    writer.begin();
  }

  /** Runs on the engine thread: only hands the output to the event loop. */
  private OutputListener listener(Choice choice) {
    return out -> {
      try {
        eventLoop.execute(() -> onOutput(choice, out));
      } catch (RejectedExecutionException e) {
        context.engine().abort(out.requestId()); // the server is shutting down
      }
    };
  }

  private void onOutput(Choice choice, RequestOutput out) {
    if (done || choice.finished()) return;
    try {
      long now = System.nanoTime();
      recordTiming(choice, out, now);
      choice.record(out);
      writer.output(choice, out);
      if (out.finished()) {
        // max_tokens as the handler resolved it (ContextLimit: the rest of the context when the request set none)
        context.metrics().finished(out.finishReason(), choice.promptTokens, choice.completionTokens,
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
    context.metrics().generatedTokens(tokens);
    if (choice.firstTokenNanos == 0) {
      choice.firstTokenNanos = now;
      context.metrics().firstToken(now - exchange.arrivalNanos());
    } else {
      context.metrics().interToken(now - choice.lastTokenNanos);
    }
    choice.lastTokenNanos = now;
  }

  private void complete() {
    end(null); // before the last write, so a client that has the response sees the request gone
    context.metrics().apiRequestFinished(shape.n());
    try {
      writer.finish();
    } catch (RuntimeException e) { // a bug building the response: the client gets an error, not a hung request
      log.error("Bug while completing {}", id, e);
      sendInternalError(e);
    }
  }

  /** A bug after the request was accepted: the client gets an error (as an event once streaming), the rest is aborted. */
  private void fail(RuntimeException e) {
    log.error("Bug while serving {}", id, e);
    abortEngineRequests();
    end("error");
    sendInternalError(e);
  }

  private void sendInternalError(RuntimeException e) {
    ApiException error = ApiException.internal("Internal error: " + e);
    if (exchange.isStreaming()) {
      exchange.sendEvent(Json.bytes(Json.errorBody(error)));
      exchange.sendEvent(ResponseWriter.DONE);
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
      context.engine().abort(choice.engineRequestId);
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
    abortEngineRequests();
    end("client disconnected");
  }

  private void abortEngineRequests() {
    for (Choice choice : choices) {
      if (!choice.finished()) context.engine().abort(choice.engineRequestId);
    }
  }

  private void end(String problem) {
    done = true;
    if (timeout != null) timeout.cancel(false);
    context.sessions().remove(this);
    if (!context.logRequests()) return;
    int completion = choices.stream().mapToInt(c -> c.completionTokens).sum();
    String finish = problem != null ? problem : choices.stream().map(c -> c.finishReason.apiName()).distinct()
        .reduce((a, b) -> a + "," + b).orElse("");
    log.info("Finished request {}: prompt_tokens={} completion_tokens={} finish_reason={} latency={}s", id,
        prompts.stream().mapToInt(p -> p.tokenIds().length).sum(), completion, finish,
        String.format("%.3f", (System.nanoTime() - exchange.arrivalNanos()) / 1e9));
  }
}
