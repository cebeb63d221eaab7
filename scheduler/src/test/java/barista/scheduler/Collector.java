package barista.scheduler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Collects one request's outputs; completes when the one with a finish reason arrives. */
final class Collector implements OutputListener {
  /** Everything a request produced. */
  record Result(List<RequestOutput> outputs) {
    RequestOutput last() {
      return outputs.get(outputs.size() - 1);
    }

    FinishReason finishReason() {
      return last().finishReason();
    }

    int[] tokens() {
      return outputs.stream().flatMapToInt(o -> Arrays.stream(o.newTokenIds())).toArray();
    }

    /** The streamed pieces joined. */
    String text() {
      StringBuilder sb = new StringBuilder();
      for (RequestOutput o : outputs) sb.append(o.newText());
      return sb.toString();
    }
  }

  private final List<RequestOutput> outputs = new ArrayList<>(); // engine thread only
  final CompletableFuture<RequestOutput> first = new CompletableFuture<>();
  private final CompletableFuture<Result> done = new CompletableFuture<>();

  @Override
  public void onOutput(RequestOutput output) {
    if (done.isDone()) throw new AssertionError("output after the last one: " + output);
    outputs.add(output);
    first.complete(output);
    if (output.finished()) done.complete(new Result(List.copyOf(outputs)));
  }

  Result await() throws Exception {
    return done.get(10, TimeUnit.SECONDS);
  }
}
