package barista.engine.constraint;

import java.util.concurrent.atomic.LongAdder;

/**
 * What constrained decoding costs the engine loop: the time its thread spends on masks (looking them up, and
 * waiting for those still being computed when the sampler needs them) and how many were used. Process-wide; the
 * stats log line reports the change per interval.
 */
public final class MaskStats {
  private static final LongAdder NANOS = new LongAdder();
  private static final LongAdder MASKS = new LongAdder();
  private static final LongAdder STEPS = new LongAdder();

  private MaskStats() {}

  /** One engine step that needed {@code masks} masks (at least one) and spent {@code nanos} looking them up. */
  public static void recordStep(long nanos, int masks) {
    NANOS.add(nanos);
    MASKS.add(masks);
    STEPS.increment();
  }

  /** Time the engine thread waited for a mask still being computed when the sampler needed it. */
  public static void recordWait(long nanos) {
    NANOS.add(nanos);
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
