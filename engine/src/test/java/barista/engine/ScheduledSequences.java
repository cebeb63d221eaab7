package barista.engine;

import barista.engine.sampling.SamplingParams;

/** Test steps: a sequence's part of a step with no random draw, nothing banned, no constraint or forced token. */
final class ScheduledSequences {
  private ScheduledSequences() {}

  static ScheduledSequence plain(long seqId, int[] tokens, int numPrompt, int numOutput, int numComputed, int numNew,
      int[] blockTable, boolean sample, SamplingParams params) {
    return new ScheduledSequence(seqId, tokens, numPrompt, numOutput, numComputed, numNew, blockTable, sample, params,
        0, new int[0], null, -1, null);
  }
}
