package barista.scheduler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Collects one request's outputs; completes when the one with a finish reason arrives. An output after that one is
 * recorded, not thrown: a throw on the engine thread would only kill the loop, which aborts requests and can make an
 * abort-expecting test pass; {@link #assertNoLateOutput} reports it on the test thread.
 */
public class Collector implements OutputListener {
  /** Everything a request produced. */
  public record Result(List<RequestOutput> outputs) {
    public RequestOutput last() {
      return outputs.get(outputs.size() - 1);
    }

    public FinishReason finishReason() {
      return last().finishReason();
    }

    public int[] tokens() {
      return outputs.stream().flatMapToInt(o -> Arrays.stream(o.newTokenIds())).toArray();
    }

    /** The streamed pieces joined. */
    public String text() {
      StringBuilder sb = new StringBuilder();
      for (RequestOutput o : outputs) sb.append(o.newText());
      return sb.toString();
    }
  }

  private final List<RequestOutput> outputs = new ArrayList<>(); // engine thread only
  public final CompletableFuture<RequestOutput> first = new CompletableFuture<>();
  private final CompletableFuture<Result> done = new CompletableFuture<>();
  private final List<RequestOutput> late = new CopyOnWriteArrayList<>();

  @Override
  public void onOutput(RequestOutput output) {
    if (done.isDone()) {
      late.add(output);
      return;
    }
    outputs.add(output);
    first.complete(output);
    if (output.finished()) done.complete(new Result(List.copyOf(outputs)));
  }

  public Result await() throws Exception {
    return done.get(10, TimeUnit.SECONDS);
  }

  public void assertNoLateOutput() {
    if (!late.isEmpty()) throw new AssertionError("output after the last one: " + late);
  }
}
