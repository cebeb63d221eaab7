package barista.server;

import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT start a graceful stop instead of the JVM's shutdown: the JVM would run its hooks and exit
 * with 143, which systemd counts as a failure; handled here, {@code serve} drains and returns 0. A second signal
 * during the drain (a second Ctrl-C) exits at once with 1.
 */
final class StopSignals {
  private static final Logger log = LoggerFactory.getLogger(StopSignals.class);

  private StopSignals() {}

  /**
   * Runs {@code stop} on its own thread on the first SIGTERM or SIGINT. (sun.misc.Signal, in jdk.unsupported, is
   * the only way to handle a signal in Java 17; javac warns about it.)
   */
  static void onFirst(Runnable stop) {
    AtomicBoolean stopping = new AtomicBoolean();
    for (String name : new String[] {"TERM", "INT"}) {
      Signal.handle(new Signal(name), signal -> {
        if (!stopping.compareAndSet(false, true)) {
          log.warn("SIG{} again: exiting without waiting for running requests", signal.getName());
          Runtime.getRuntime().halt(1);
          return;
        }
        log.info("SIG{} received: shutting down gracefully", signal.getName());
        new Thread(stop, "barista-stop").start();
      });
    }
  }
}
