package barista.server.endpoints;

import barista.engine.constraint.CompileBudget;
import barista.engine.constraint.Grammar;
import barista.engine.constraint.TokenVocabulary;
import barista.server.http.ApiException;
import barista.server.model.ServedModel;
import barista.server.openai.StructuredOutput;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Compiles constraints off the event loop on {@link #COMPILER_THREADS} compiler threads, and keeps the grammars by
 * constraint, least recently used dropped beyond {@link #MAX_GRAMMARS}: agents send the same schema again and again,
 * and a grammar's masks are worth keeping. Each compile has its own budget of compile time
 * (--constraint-compile-timeout, counted from when it starts, not while it waits), checked between its steps: past
 * it the compile stops and its request gets 400 naming its own constraint; a compile whose every waiting request
 * has gone stops too. A connection compiles one request's constraint at a time, and one client (a remote address,
 * however many connections it opens) at most {@link #COMPILES_PER_CLIENT} at a time, so slow compiles of one client
 * always leave a compiler thread to everyone else; beyond that, and with the queue full, it gets 503. Thread-safe.
 */
public final class Constraints {
  static final int MAX_GRAMMARS = 32;
  static final int COMPILER_THREADS = 4;
  private static final int MAX_QUEUED_COMPILES = 64;
  /** Compiles one client may have queued or running; a joined compile (the same constraint) is not counted. */
  static final int COMPILES_PER_CLIENT = COMPILER_THREADS - 1;

  private final long budgetNanos;
  private final ThreadPoolExecutor compiler = new ThreadPoolExecutor(COMPILER_THREADS, COMPILER_THREADS, 60,
      TimeUnit.SECONDS, new ArrayBlockingQueue<>(MAX_QUEUED_COMPILES), r -> {
        Thread t = new Thread(r, "barista-constraint-compiler");
        t.setDaemon(true);
        return t;
      });
  private final Map<String, Integer> compilesByClient = new java.util.HashMap<>(); // guarded by grammars
  private final Map<String, Compile> grammars = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Compile> eldest) {
      if (size() <= MAX_GRAMMARS) return false;
      eldest.getValue().answer.thenAccept(Grammar::release); // its masks leave the shared budget
      return true;
    }
  };

  /** One constraint's compile: what its requests wait on, its budget, and how many requests still wait. */
  private static final class Compile {
    final CompletableFuture<Grammar> answer;
    final CompileBudget budget;
    final AtomicInteger waiting = new AtomicInteger(1);

    Compile(CompletableFuture<Grammar> answer, CompileBudget budget) {
      this.answer = answer;
      this.budget = budget;
    }
  }

  /** What a request waits on: the grammar, and a way to say it no longer does (its client is gone). */
  public record Pending(CompletableFuture<Grammar> grammar, Runnable abandon) {}

  public Constraints(double compileTimeoutSeconds) {
    this.budgetNanos = (long) (compileTimeoutSeconds * 1e9);
    compiler.allowCoreThreadTimeOut(true);
    // On a thread of its own, not a compiler's: the first client's schema then compiles at the JIT's speed.
    Thread warmUp = new Thread(Grammar::warmUpCompiler, "barista-constraint-warm-up");
    warmUp.setDaemon(true);
    warmUp.start();
  }

  /**
   * The grammar of a constraint over the model's vocabulary, done at once when it is cached; fails with an
   * ApiException (400 when it cannot be compiled within its budget, 503 when too many are compiling, overall or for
   * this client).
   *
   * @param client who asks (the remote address), for the per-client bound; null: not bounded per client
   */
  public Pending grammar(StructuredOutput spec, ServedModel model, String client) {
    CompletableFuture<Grammar> compiled = new CompletableFuture<>();
    // What callers get, also while it compiles: errors already turned into the client's ApiException.
    CompletableFuture<Grammar> answer = compiled.handle((g, e) -> {
      if (e == null) return g;
      throw new CompletionException(error(spec, e));
    });
    Compile compile = new Compile(answer, new CompileBudget(budgetNanos));
    synchronized (grammars) {
      Compile known = grammars.get(spec.key());
      if (known != null && !known.answer.isCompletedExceptionally()) {
        known.waiting.incrementAndGet();
        return pending(known);
      }
      if (client != null) {
        int running = compilesByClient.getOrDefault(client, 0);
        if (running >= COMPILES_PER_CLIENT) {
          throw ApiException.overloaded("this client has " + running + " output constraints compiling; retry when "
              + "one is done");
        }
        compilesByClient.put(client, running + 1);
      }
      grammars.put(spec.key(), compile);
    }
    answer.whenComplete((g, e) -> {
      if (client != null) {
        synchronized (grammars) {
          compilesByClient.computeIfPresent(client, (k, n) -> n == 1 ? null : n - 1);
        }
      }
      if (e != null) forget(spec, compile);
    });
    try {
      compiler.execute(() -> {
        try {
          compiled.complete(compile.budget.run(() -> compile(spec, model)));
        } catch (Throwable t) {
          compiled.completeExceptionally(t);
        }
      });
    } catch (RejectedExecutionException e) {
      ApiException full = ApiException.overloaded("too many output constraints are being compiled; retry later");
      compiled.completeExceptionally(full); // frees the client's place; a request that joined gets the same answer
      throw full;
    }
    return pending(compile);
  }

  private static Pending pending(Compile compile) {
    AtomicInteger once = new AtomicInteger();
    return new Pending(compile.answer, () -> {
      if (once.getAndIncrement() == 0 && compile.waiting.decrementAndGet() == 0 && !compile.answer.isDone()) {
        compile.budget.cancel(); // nobody waits for it any more: stop spending CPU on it
      }
    });
  }

  private void forget(StructuredOutput spec, Compile compile) {
    synchronized (grammars) {
      grammars.remove(spec.key(), compile);
    }
  }

  private ApiException error(StructuredOutput spec, Throwable e) {
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof ApiException api) return api;
    if (cause instanceof CompileBudget.Stopped stopped) {
      if (stopped.cancelled()) return ApiException.overloaded("the constraint's compile was cancelled; retry");
      return ApiException.badRequest(spec.param() + ": this constraint did not compile within its budget of "
          + budgetNanos / 1e9 + " s of compile time (--constraint-compile-timeout); simplify it", spec.param());
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
