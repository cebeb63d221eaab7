package barista.server;

import barista.engine.constraint.Grammar;
import barista.engine.constraint.TokenVocabulary;
import barista.server.http.ApiException;
import barista.server.openai.StructuredOutput;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Compiles constraints off the event loop (a schema can take seconds to become a DFA) on two compiler threads, and
 * keeps the grammars by constraint, least recently used dropped beyond {@link #MAX_GRAMMARS}: agents send the same
 * schema again and again, and a grammar's masks are worth keeping. A compile that takes longer than
 * {@link #COMPILE_TIMEOUT_SECONDS} answers 400 (brics cannot be interrupted: its thread finishes in the
 * background). Thread-safe.
 */
public final class Constraints {
  static final int MAX_GRAMMARS = 32;
  static final int COMPILE_TIMEOUT_SECONDS = 10;

  private final ThreadPoolExecutor compiler = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS,
      new ArrayBlockingQueue<>(64), r -> {
        Thread t = new Thread(r, "barista-constraint-compiler");
        t.setDaemon(true);
        return t;
      });
  private final Map<String, CompletableFuture<Grammar>> grammars = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<Grammar>> eldest) {
      if (size() <= MAX_GRAMMARS) return false;
      eldest.getValue().thenAccept(Grammar::release); // its masks leave the shared budget
      return true;
    }
  };

  public Constraints() {
    compiler.allowCoreThreadTimeOut(true);
  }

  /**
   * The grammar of a constraint over the model's vocabulary, done at once when it is cached; fails with an
   * ApiException (400 when it cannot be compiled, 503 when too many are compiling).
   */
  public CompletableFuture<Grammar> grammar(StructuredOutput spec, ServedModel model) {
    CompletableFuture<Grammar> compiled = new CompletableFuture<>();
    // What callers get, also while it compiles: errors already turned into the client's ApiException.
    CompletableFuture<Grammar> answer = compiled.handle((g, e) -> {
      if (e == null) return g;
      throw new CompletionException(error(spec, e));
    });
    synchronized (grammars) {
      CompletableFuture<Grammar> known = grammars.get(spec.key());
      if (known != null && !known.isCompletedExceptionally()) return known;
      grammars.put(spec.key(), answer);
    }
    answer.whenComplete((g, e) -> {
      if (e != null) forget(spec, answer);
    });
    try {
      compiler.execute(() -> {
        try {
          compiled.complete(compile(spec, model));
        } catch (Throwable t) {
          compiled.completeExceptionally(t);
        }
      });
    } catch (RejectedExecutionException e) {
      forget(spec, answer);
      throw ApiException.overloaded("too many output constraints are being compiled; retry later");
    }
    compiled.orTimeout(COMPILE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    return answer;
  }

  private void forget(StructuredOutput spec, CompletableFuture<Grammar> f) {
    synchronized (grammars) {
      grammars.remove(spec.key(), f);
    }
  }

  private static ApiException error(StructuredOutput spec, Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof ApiException api) return api;
    if (cause instanceof TimeoutException) {
      return ApiException.badRequest(spec.param() + ": the constraint did not compile within "
          + COMPILE_TIMEOUT_SECONDS + " s; simplify it", spec.param());
    }
    if (cause instanceof IllegalArgumentException) {
      return ApiException.badRequest(spec.param() + ": " + cause.getMessage(), spec.param());
    }
    if (cause instanceof StackOverflowError || cause instanceof OutOfMemoryError) {
      return ApiException.badRequest(spec.param() + ": the constraint is too complex to compile", spec.param());
    }
    return ApiException.internal("Internal error compiling " + spec.param() + ": " + cause);
  }

  private static Grammar compile(StructuredOutput spec, ServedModel model) {
    dk.brics.automaton.Automaton automaton = spec.automaton(); // a bad schema is the client's error on any model
    TokenVocabulary vocabulary = model.constraintVocabulary();
    if (vocabulary == null) {
      throw ApiException.badRequest("structured output is not available for this model", spec.param());
    }
    return Grammar.compile(automaton, vocabulary);
  }
}
