package barista.scheduler;

import static barista.scheduler.SchedulerConfig.Policy.FCFS;

import barista.engine.ScheduledSequence;
import barista.engine.StepExecutor;
import barista.engine.sampling.SampleResult;
import barista.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The engine thread's own cost per step (scheduling, applying results, stop checks, delivery) with a model that
 * costs nothing: the ceiling the host puts on steps per second whatever the GPU does. Not a test (a benchmark):
 * {@code java -cp <scheduler test classpath> barista.scheduler.HostPathBench [streams] [outputLen] [async]}.
 */
public final class HostPathBench {
  public static void main(String[] args) throws Exception {
    int streams = args.length > 0 ? Integer.parseInt(args[0]) : 256;
    int outputLen = args.length > 1 ? Integer.parseInt(args[1]) : 128;
    boolean async = args.length > 2 && Boolean.parseBoolean(args[2]);
    int promptLen = 128;
    int blockSize = 16;
    int blocks = streams * ((promptLen + outputLen) / blockSize + 2) + 1;
    for (int round = 0; round < 5; round++) {
      FreeExecutor executor = new FreeExecutor(blocks, blockSize);
      SchedulerConfig config = new SchedulerConfig(streams, 8192, true, false, FCFS, promptLen + outputLen + 16,
          streams).withAsyncScheduling(async);
      EngineCore core = new EngineCore(executor, config,
          new EngineCore.Limits(promptLen + outputLen + 16, FakeExecutor.VOCAB, new int[] {0}),
          LetterDetokenizer.FACTORY, 42);
      List<Collector> collectors = new ArrayList<>();
      long t0 = System.nanoTime();
      for (int i = 0; i < streams; i++) {
        Collector c = new Collector();
        SamplingParams params = SamplingParams.builder().maxTokens(outputLen).temperature(0).ignoreEos(true).build();
        core.submit(new GenerationRequest("r" + i, FakeExecutor.randomPrompt(i + round * 1000L, promptLen), params, 0,
            System.nanoTime()), c);
        collectors.add(c);
      }
      for (Collector c : collectors) c.await();
      long ns = System.nanoTime() - t0;
      int steps = executor.steps;
      core.close();
      System.out.printf("round %d: %d streams x %d tokens, %s: %d steps in %.1f ms, %.1f us a step%n", round,
          streams, outputLen, async ? "async" : "sync", steps, ns / 1e6, ns / 1e3 / steps);
    }
  }

  /** A model that costs nothing: each sampled row gets a token from its sequence id and length, no audit. */
  private static final class FreeExecutor implements StepExecutor {
    private final int numBlocks, blockSize;
    volatile int steps;

    FreeExecutor(int numBlocks, int blockSize) {
      this.numBlocks = numBlocks;
      this.blockSize = blockSize;
    }

    @Override
    public SampleResult execute(List<ScheduledSequence> sequences) {
      steps++;
      int n = 0;
      for (ScheduledSequence s : sequences) if (s.sample()) n++;
      if (n == 0) return null;
      int[] tokens = new int[n];
      int row = 0;
      for (ScheduledSequence s : sequences) {
        if (s.sample()) tokens[row++] = 1 + (int) ((s.seqId() * 31 + s.numComputed()) % (FakeExecutor.VOCAB - 1));
      }
      float[] logprobs = new float[n];
      Arrays.fill(logprobs, Float.NaN);
      return new SampleResult(tokens, logprobs, new int[n][0], new float[n][0]);
    }

    @Override
    public int numBlocks() {
      return numBlocks;
    }

    @Override
    public int blockSize() {
      return blockSize;
    }
  }
}
