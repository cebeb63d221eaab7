package barista.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * A KV cache of 24 blocks of 16 tokens (368 usable) for {@link ConcurrentStreamsTest}'s 20 requests of about 30 to
 * 70 prompt and 24 to 43 output tokens: each fits alone, all together cannot, so the scheduler must preempt; every
 * request must still finish with the text it gets alone.
 */
class PreemptionTest {
  @Test
  void preemptedRequestsFinishWithTheirGreedyText() throws Exception {
    String[] smallCache = {"--num-gpu-blocks-override", "24", "--block-size", "16"};
    int requests = ConcurrentStreamsTest.REQUESTS;
    List<String> alone = new ArrayList<>();
    try (RealServer reference = RealServer.start(smallCache[0], smallCache[1], smallCache[2], smallCache[3],
        "--no-enable-prefix-caching")) { // one at a time on a server of their own: nothing cached for the pass below
      for (int i = 0; i < requests; i++) {
        alone.add(ConcurrentStreamsTest.answer(reference.postStream(ConcurrentStreamsTest.path(i),
            ConcurrentStreamsTest.request(i))));
      }
      assertEquals(0, EndToEndTest.metric(reference.get("/metrics").body(), "vllm:num_preemptions_total"),
          "alone, every request fits");
    }
    try (RealServer server = RealServer.start(smallCache)) {
      ExecutorService clients = Executors.newFixedThreadPool(requests);
      try {
        List<Callable<String>> calls = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
          int r = i;
          calls.add(() -> ConcurrentStreamsTest.answer(server.postStream(ConcurrentStreamsTest.path(r),
              ConcurrentStreamsTest.request(r))));
        }
        List<Future<String>> together = clients.invokeAll(calls);
        for (int i = 0; i < requests; i++) assertEquals(alone.get(i), together.get(i).get(), "request " + i);
      } finally {
        clients.shutdownNow();
      }
      String metrics = server.get("/metrics").body();
      assertTrue(EndToEndTest.metric(metrics, "vllm:num_preemptions_total") > 0, metrics);
    }
  }
}
