package barista.engine.constraint;

import java.util.function.Supplier;

/**
 * The time one constraint compile may take, and a flag to stop it early (its request is gone). Compile work on the
 * calling thread checks it between steps ({@link Automata#minimize}: every new automaton state), so a compile stops
 * within a step of its budget being spent or its cancellation. Thread-safe.
 */
public final class CompileBudget {
  private static final ThreadLocal<CompileBudget> CURRENT = new ThreadLocal<>();
  private final long budgetNanos;
  private volatile long deadlineNanos;
  private volatile boolean cancelled;

  /** A budget of {@code budgetNanos} of compile time, counted from when {@link #run} starts (not while queued). */
  public CompileBudget(long budgetNanos) {
    this.budgetNanos = budgetNanos;
  }

  public long budgetNanos() {
    return budgetNanos;
  }

  /** Runs compile work on this thread under this budget (cancelled before it starts: it does not start). */
  public <T> T run(Supplier<T> work) {
    deadlineNanos = System.nanoTime() + budgetNanos;
    if (cancelled) throw new Stopped(true);
    CompileBudget outer = CURRENT.get();
    CURRENT.set(this);
    try {
      return work.get();
    } finally {
      if (outer == null) {
        CURRENT.remove();
      } else {
        CURRENT.set(outer);
      }
    }
  }

  /** Stops the compile at its next step (it fails with {@link Stopped}, cancelled). */
  public void cancel() {
    cancelled = true;
  }

  /** Throws {@link Stopped} when the compile running on this thread is cancelled or out of time. */
  static void check() {
    CompileBudget budget = CURRENT.get();
    if (budget == null) return;
    if (budget.cancelled) throw new Stopped(true);
    if (System.nanoTime() - budget.deadlineNanos > 0) throw new Stopped(false);
  }

  /** A compile stopped before it finished: cancelled, or its budget spent. */
  public static final class Stopped extends RuntimeException {
    private final boolean cancelled;

    Stopped(boolean cancelled) {
      super(cancelled ? "the compile was cancelled" : "the compile ran out of time", null, false, false);
      this.cancelled = cancelled;
    }

    public boolean cancelled() {
      return cancelled;
    }
  }
}
