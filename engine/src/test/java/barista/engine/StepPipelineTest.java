package barista.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.sampling.SampleResult;
import barista.engine.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The pipeline's feed: a row scheduled before its last token was known gets the token its previous step sampled. */
class StepPipelineTest {
  private static final SamplingParams GREEDY = SamplingParams.greedy(8);

  /** Samples, for each row, 100 + the number of tokens it has; records what it was given. */
  private static class Recording implements StepExecutor {
    final List<List<ScheduledSequence>> steps = new CopyOnWriteArrayList<>();
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public SampleResult execute(List<ScheduledSequence> sequences) {
      try {
        if (!release.await(10, TimeUnit.SECONDS)) throw new AssertionError("never released");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      steps.add(sequences);
      List<Integer> tokens = new ArrayList<>();
      for (ScheduledSequence s : sequences) if (s.sample()) tokens.add(100 + s.numComputed() + s.numNew());
      int n = tokens.size();
      return new SampleResult(tokens.stream().mapToInt(Integer::intValue).toArray(), new float[n], new int[n][],
          new float[n][]);
    }

    @Override
    public int numBlocks() {
      return 8;
    }

    @Override
    public int blockSize() {
      return 4;
    }
  }

  private static ScheduledSequence row(long seq, int[] tokens, int numPrompt, int numOutput, int numComputed,
      int numNew) {
    return ScheduledSequences.plain(seq, tokens, numPrompt, numOutput, numComputed, numNew, new int[] {1, 2}, true,
        GREEDY);
  }

  @Test
  void aRowAheadOfItsTokensIsFedWhatItsSequenceSampledTheStepBefore() throws Exception {
    Recording device = new Recording();
    try (StepPipeline pipeline = new StepPipeline(device)) {
      int[] a = {5, 6, 7}; // prompt of 3
      int[] b = {9, 9};
      var first = pipeline.launch(List.of(row(1, a, 3, 0, 0, 3), row(2, b, 2, 0, 0, 2)));
      // Scheduled before the first step's result: each row computes one position past what it knows.
      var second = pipeline.launch(List.of(row(2, b, 2, 0, 2, 1), row(1, a, 3, 0, 3, 1)));
      device.release.countDown();
      assertArrayEquals(new int[] {103, 102}, first.get(10, TimeUnit.SECONDS).tokens());
      assertArrayEquals(new int[] {103, 104}, second.get(10, TimeUnit.SECONDS).tokens());
      ScheduledSequence fedB = device.steps.get(1).get(0);
      ScheduledSequence fedA = device.steps.get(1).get(1);
      assertArrayEquals(new int[] {9, 9, 102}, fedB.history());
      assertArrayEquals(new int[] {5, 6, 7, 103}, fedA.history());
      assertEquals(103, fedA.token(3), "the fed token is the row's input");
      assertEquals(1, fedA.numOutput(), "the fed token is part of its history (penalties count it)");
      assertArrayEquals(new int[] {5, 6, 7}, a, "the engine's own array is not written");
      assertSame(a, fedA.tokens(), "nor copied: the fed token goes beside it");
      assertSame(device.steps.get(0).get(0).tokens(), a, "a row that feeds nothing goes as it is");
    }
  }

  @Test
  void aRowWithNothingToFeedFailsItsStepAndEveryLaterOne() {
    Recording device = new Recording();
    device.release.countDown();
    try (StepPipeline pipeline = new StepPipeline(device)) {
      var orphan = pipeline.launch(List.of(row(3, new int[] {1, 2}, 2, 0, 2, 1)));
      var after = pipeline.launch(List.of(row(4, new int[] {1, 2}, 2, 0, 0, 2)));
      ExecutionException e = assertThrows(ExecutionException.class, () -> orphan.get(10, TimeUnit.SECONDS));
      assertInstanceOf(IllegalStateException.class, e.getCause());
      assertThrows(ExecutionException.class, () -> after.get(10, TimeUnit.SECONDS), "its inputs may depend on it");
      assertEquals(0, device.steps.size());
    }
  }

  /** The engine closes the pipeline from its interrupted thread: close must still wait for the step running. */
  @Test
  void closeOnAnInterruptedThreadWaitsForTheRunningStep() throws Exception {
    CountDownLatch started = new CountDownLatch(1), finish = new CountDownLatch(1);
    List<Integer> done = new CopyOnWriteArrayList<>();
    StepExecutor device = new Recording() {
      @Override
      public SampleResult execute(List<ScheduledSequence> sequences) {
        started.countDown();
        while (true) { // a device step: an interrupt does not stop it
          try {
            finish.await();
            break;
          } catch (InterruptedException e) {
            // keep waiting
          }
        }
        done.add(1);
        return null;
      }
    };
    StepPipeline pipeline = new StepPipeline(device);
    pipeline.launch(List.of(row(1, new int[] {1, 2}, 2, 0, 0, 2)));
    assertTrue(started.await(10, TimeUnit.SECONDS));
    int[] seenAtReturn = {-1};
    boolean[] stillInterrupted = {false};
    Thread engine = new Thread(() -> {
      Thread.currentThread().interrupt();
      pipeline.close();
      seenAtReturn[0] = done.size();
      stillInterrupted[0] = Thread.currentThread().isInterrupted();
    });
    engine.start();
    engine.join(2000);
    assertTrue(engine.isAlive(), "close returned while the step was running");
    finish.countDown();
    engine.join(10_000);
    assertEquals(1, seenAtReturn[0], "the step had finished when close returned");
    assertTrue(stillInterrupted[0], "the interrupt is kept for the caller");
  }
}
