package barista.server.http;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;

/**
 * A warning for events that may come by the thousand (a flood of connections): the first is logged at once, then at
 * most one line per interval, saying how many events it stands for. Safe from any thread.
 */
final class RateLimitedWarning {
  private final Logger log;
  private final long intervalNanos;
  private final AtomicLong unlogged = new AtomicLong();
  private final AtomicLong nextLineNanos;

  RateLimitedWarning(Logger log, long interval, TimeUnit unit) {
    this.log = log;
    this.intervalNanos = unit.toNanos(interval);
    this.nextLineNanos = new AtomicLong(System.nanoTime());
  }

  /** Counts one event; logs {@code message} (an SLF4J pattern) with the count appended when a line is due. */
  void event(String message, Object... args) {
    unlogged.incrementAndGet();
    long now = System.nanoTime();
    long next = nextLineNanos.get();
    if (now - next < 0 || !nextLineNanos.compareAndSet(next, now + intervalNanos)) return;
    long events = unlogged.getAndSet(0);
    if (log.isWarnEnabled()) {
      String interval = TimeUnit.NANOSECONDS.toSeconds(intervalNanos) + " s";
      log.warn(message + (events > 1 ? " (" + events + " times; at most one line per " + interval + ")" : ""), args);
    }
  }
}
