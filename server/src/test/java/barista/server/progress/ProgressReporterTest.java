package barista.server.progress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressReporterTest {
  private static final long SECOND = 1_000_000_000L;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  private final AtomicLong now = new AtomicLong(1000 * SECOND);

  private String output() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void plainLinesComeAtOnceThenPeriodicallyThenAtTheEndWithoutControlCharacters() {
    ProgressReporter p = new ProgressReporter(out, ProgressReporter.Style.LINES, "quantize", now::get, 5 * SECOND);
    p.update(1, 10, "layer 1/10");
    now.addAndGet(2 * SECOND);
    p.update(2, 10, "layer 2/10"); // within the interval: not shown
    now.addAndGet(4 * SECOND);
    p.update(5, 10, "layer 5/10");
    now.addAndGet(SECOND);
    p.update(10, 10, "head"); // complete: shown at once
    p.finish(); // the last state is already shown
    assertEquals(List.of("quantize:  10% layer 1/10 [0:00]", "quantize:  50% layer 5/10 [0:06]",
        "quantize: 100% head [0:07]"), output().lines().toList());
    assertNoControlCharacters(output());
  }

  @Test
  void finishShowsTheLastUpdateWhenItWasHeldBack() {
    ProgressReporter p = new ProgressReporter(out, ProgressReporter.Style.LINES, "bench", now::get, 5 * SECOND);
    p.update(0, 4, "0/4 requests");
    p.update(3, 4, "3/4 requests");
    p.finish();
    assertEquals(List.of("bench:   0% 0/4 requests [0:00]", "bench:  75% 3/4 requests [0:00]"), output().lines().toList());
  }

  @Test
  void barRedrawsInPlaceAtMostTenTimesASecondAndEndsItsLine() {
    ProgressReporter p = new ProgressReporter(out, ProgressReporter.Style.BAR, "make-model", now::get, 5 * SECOND);
    p.update(1, 4, "layer 1/4, a long detail text");
    now.addAndGet(SECOND / 20);
    p.update(2, 4, "layer 2/4"); // too soon: not drawn
    now.addAndGet(SECOND / 10);
    p.update(3, 4, "layer 3/4");
    now.addAndGet(SECOND);
    p.update(4, 4, "head");
    p.finish();
    String text = output();
    String[] draws = text.split("\r", -1);
    assertEquals("", draws[0]);
    assertEquals("make-model:  25%|########                      | layer 1/4, a long detail text [0:00]", draws[1]);
    assertEquals("make-model:  75%|#######################       | layer 3/4 [0:00]\033[K", draws[2]);
    assertTrue(draws[3].startsWith("make-model: 100%|" + "#".repeat(30) + "| head [0:01]"), draws[3]);
    assertTrue(text.endsWith("\n"), text);
    assertFalse(text.contains("layer 2/4"), text);
  }

  @Test
  void clockTimes() {
    assertEquals("0:07", ProgressReporter.clockTime(7.9));
    assertEquals("2:05", ProgressReporter.clockTime(125));
    assertEquals("1:00:01", ProgressReporter.clockTime(3601));
    assertEquals("1.5 MiB", ProgressReporter.bytes(3 << 19));
    assertEquals("2.00 GiB", ProgressReporter.bytes(2L << 30));
  }

  /** Only printable characters and line ends: what a log file or journald should get. */
  static void assertNoControlCharacters(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      assertTrue(c == '\n' || c >= 0x20 && c != 0x7f, "control character " + (int) c + " at " + i + " in: " + text);
    }
  }
}
