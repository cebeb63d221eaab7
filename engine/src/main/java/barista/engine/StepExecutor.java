package barista.engine;

import barista.engine.sampling.SampleResult;
import java.util.List;

/** Runs one scheduled step: the {@link ModelRunner} on a device, or a fake in scheduler tests. */
public interface StepExecutor {

  /** One result row per sequence with {@code sample} set, in order; null when none samples. */
  SampleResult execute(List<ScheduledSequence> sequences);

  int numBlocks();

  int blockSize();

  /** The most tokens a step may have and still replay a CUDA graph; 0 without graphs. */
  default int graphTokens() {
    return 0;
  }
}
