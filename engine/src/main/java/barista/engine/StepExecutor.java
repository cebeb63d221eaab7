package barista.engine;

import barista.engine.sampling.SampleResult;
import java.util.List;

/** Runs one scheduled step: the {@link ModelRunner} on a device, or a fake in scheduler tests. */
public interface StepExecutor {

  /** One result row per sequence with {@code sample} set, in order; null when none samples. */
  SampleResult execute(List<ScheduledSequence> sequences);

  int numBlocks();

  int blockSize();
}
