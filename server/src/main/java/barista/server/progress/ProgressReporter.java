package barista.server.progress;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Progress of long command-line work on stderr. On a terminal, one bar redrawn in place (carriage return and
 * erase-line, at most ten times a second), as tqdm draws {@code vllm bench serve}'s; elsewhere (a log file, a pipe,
 * journald), plain lines without control characters, the first at once, then one every few seconds, and the last.
 * Thread-safe.
 */
public final class ProgressReporter {
  /** How progress is shown: a bar redrawn in place, or plain periodic lines. */
  public enum Style { BAR, LINES }

  private static final long BAR_REDRAW_NANOS = 100_000_000L;
  private static final long LINE_INTERVAL_NANOS = 5_000_000_000L;
  private static final int BAR_WIDTH = 30;

  private final PrintStream out;
  private final Style style;
  private final String title;
  private final LongSupplier clock;
  private final long lineIntervalNanos;
  private final long start;
  private long lastShown = Long.MIN_VALUE;
  private int lastWidth;
  private boolean finished;
  private long lastDone;
  private long lastTotal;
  private String lastDetail = "";
  private boolean lastUpdateShown;

  ProgressReporter(PrintStream out, Style style, String title, LongSupplier clock, long lineIntervalNanos) {
    this.out = out;
    this.style = style;
    this.title = title;
    this.clock = clock;
    this.lineIntervalNanos = lineIntervalNanos;
    this.start = clock.getAsLong();
  }

  /** Progress on stderr, as a bar when stderr is a terminal. */
  public static ProgressReporter onStderr(String title) {
    return new ProgressReporter(System.err, stderrIsTerminal() ? Style.BAR : Style.LINES, title, System::nanoTime,
        LINE_INTERVAL_NANOS);
  }

  /**
   * Whether stderr is a terminal that understands carriage return and erase-line: on Linux, where file descriptor
   * 2 points (a pseudo-terminal or a console); elsewhere, whether the JVM has a console. TERM=dumb never is.
   */
  static boolean stderrIsTerminal() {
    if ("dumb".equals(System.getenv("TERM"))) return false;
    Path fd = Path.of("/proc/self/fd/2");
    if (Files.isSymbolicLink(fd)) {
      try {
        String target = Files.readSymbolicLink(fd).toString();
        return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
      } catch (java.io.IOException | UnsupportedOperationException e) {
        return false;
      }
    }
    return System.console() != null;
  }

  public Style style() {
    return style;
  }

  /**
   * @param done units finished, of {@code total}
   * @param detail what the units are and how fast they go, e.g. "12/32 requests, 3.1 req/s"
   */
  public synchronized void update(long done, long total, String detail) {
    if (finished) return;
    lastDone = done;
    lastTotal = total;
    lastDetail = detail;
    long now = clock.getAsLong();
    boolean complete = total > 0 && done >= total;
    long interval = style == Style.BAR ? BAR_REDRAW_NANOS : lineIntervalNanos;
    lastUpdateShown = false;
    if (!complete && lastShown != Long.MIN_VALUE && now - lastShown < interval) return;
    lastShown = now;
    lastUpdateShown = true;
    show(done, total, detail, now);
  }

  /** Shows the last update again, whenever it came, and ends the bar's line. */
  public synchronized void finish() {
    if (finished) return;
    if (!(style == Style.LINES && lastUpdateShown)) show(lastDone, lastTotal, lastDetail, clock.getAsLong());
    if (style == Style.BAR) out.print('\n');
    out.flush();
    finished = true;
  }

  private void show(long done, long total, String detail, long now) {
    double fraction = total <= 0 ? 0 : Math.min(1, (double) done / total);
    String elapsed = clockTime((now - start) / 1e9);
    if (style == Style.LINES) {
      out.printf(Locale.ROOT, "%s: %3.0f%% %s [%s]%n", title, 100 * fraction, detail, elapsed);
      out.flush();
      return;
    }
    int filled = (int) Math.round(fraction * BAR_WIDTH);
    String text = String.format(Locale.ROOT, "%s: %3.0f%%|%s%s| %s [%s]", title, 100 * fraction,
        "#".repeat(filled), " ".repeat(BAR_WIDTH - filled), detail, elapsed);
    // Carriage return, the line, then erase what a longer earlier line left after it.
    out.print("\r" + text + (text.length() < lastWidth ? "\033[K" : ""));
    lastWidth = text.length();
    out.flush();
  }

  /** Seconds as m:ss, or h:mm:ss from an hour. */
  static String clockTime(double seconds) {
    long s = (long) seconds;
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }

  /** Progress of writing a checkpoint: bytes of weights, and the part being written ("layer 3/28"). */
  public void bytesWritten(long done, long total, String where) {
    update(done, total, where + ", " + bytes(done) + " of " + bytes(total));
  }

  /** Bytes as MiB or GiB, for detail texts. */
  public static String bytes(long bytes) {
    return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30))
        : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
  }
}
