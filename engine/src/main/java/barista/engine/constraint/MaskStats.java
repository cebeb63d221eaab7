package barista.engine.constraint;

import java.util.concurrent.atomic.LongAdder;

/**
 * What constrained decoding costs the engine loop: the time spent getting masks (a cache hit, or a walk of the
 * vocabulary on a miss) and how many were got. Process-wide; the stats log line reports the change per interval.
 */
public final class MaskStats {
  private static final LongAdder NANOS = new LongAdder();
  private static final LongAdder MASKS = new LongAdder();
  private static final LongAdder STEPS = new LongAdder();

  private MaskStats() {}

  /** One engine step that needed {@code masks} masks (at least one) and spent {@code nanos} getting them. */
  public static void recordStep(long nanos, int masks) {
    NANOS.add(nanos);
    MASKS.add(masks);
    STEPS.increment();
  }

  /** Engine steps with at least one constrained row since start. */
  public static long steps() {
    return STEPS.sum();
  }

  /** Total nanoseconds spent on masks on engine threads since start. */
  public static long nanos() {
    return NANOS.sum();
  }

  /** Masks handed to the sampler since start (one per constrained row per step). */
  public static long masks() {
    return MASKS.sum();
  }
}
