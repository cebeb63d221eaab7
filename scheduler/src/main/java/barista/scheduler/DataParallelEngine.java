package barista.scheduler;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Several engines behind one front end (vLLM's --data-parallel-size): each with its own scheduler, KV cache and
 * thread. A new request goes to the live engine with the fewest requests in flight (ties: fewest KV blocks in use)
 * and stays there for its whole life, so an abort reaches the engine that holds it.
 */
public final class DataParallelEngine implements EngineClient, AutoCloseable {
  private final List<EngineCore> engines;
  private final int[] inFlight; // per engine: submitted here, final output not yet delivered; guarded by this
  private final AtomicLong[] submitted; // per engine, since start
  private final Map<String, EngineCore> owners = new ConcurrentHashMap<>();
  private volatile boolean accepting = true;
  private final CompletableFuture<Throwable> death = new CompletableFuture<>();

  public DataParallelEngine(List<EngineCore> engines) {
    if (engines.isEmpty()) throw new IllegalArgumentException("data parallelism needs at least one engine");
    this.engines = List.copyOf(engines);
    this.inFlight = new int[engines.size()];
    this.submitted = new AtomicLong[engines.size()];
    for (int i = 0; i < submitted.length; i++) submitted[i] = new AtomicLong();
    // One engine's death is the server's, as in vLLM: a restart brings its GPU back, where routing around it
    // would serve on at a fraction of the capacity with nobody told.
    for (EngineCore e : this.engines) e.death().thenAccept(death::complete);
  }

  @Override
  public CompletionStage<Throwable> death() {
    return death;
  }

  @Override
  public StepTokenHistogram.Snapshot stepTokens() {
    return StepTokenHistogram.Snapshot.sum(engines.stream().map(EngineCore::stepTokens).toList());
  }

  @Override
  public void submit(GenerationRequest request, OutputListener listener) {
    submitAll(List.of(request), List.of(listener));
  }

  /** All of them go to one engine, which admits or refuses them as one. */
  @Override
  public void submitAll(List<GenerationRequest> requests, List<OutputListener> listeners) {
    if (!accepting) throw new EngineOverloadedException("the server is shutting down");
    int count = requests.size();
    int i = route(count);
    EngineCore engine = engines.get(i);
    List<OutputListener> counted = new java.util.ArrayList<>(count);
    for (int r = 0; r < count; r++) {
      String id = requests.get(r).requestId();
      OutputListener listener = listeners.get(r);
      owners.put(id, engine);
      counted.add(output -> {
        if (output.finished()) finish(id, i);
        listener.onOutput(output);
      });
    }
    try {
      engine.submitAll(requests, counted);
    } catch (RuntimeException e) {
      for (GenerationRequest r : requests) finish(r.requestId(), i);
      throw e;
    }
    submitted[i].addAndGet(count);
  }

  /** Picks an engine and counts the requests on it, in one step so concurrent submits spread out. */
  private synchronized int route(int count) {
    int best = -1;
    int bestBlocks = 0;
    for (int i = 0; i < engines.size(); i++) {
      EngineStatus s = engines.get(i).status();
      if (!s.alive()) continue;
      int blocks = s.totalBlocks() - s.freeBlocks();
      if (best < 0 || inFlight[i] < inFlight[best] || (inFlight[i] == inFlight[best] && blocks < bestBlocks)) {
        best = i;
        bestBlocks = blocks;
      }
    }
    if (best < 0) throw new EngineOverloadedException("no engine is alive");
    inFlight[best] += count;
    return best;
  }

  private synchronized void finish(String requestId, int engine) {
    owners.remove(requestId);
    inFlight[engine]--;
  }

  @Override
  public void abort(String requestId) {
    EngineCore engine = owners.get(requestId);
    if (engine != null) engine.abort(requestId);
  }

  /** Ready and alive only when every engine is; counts summed, KV usage over all blocks. */
  @Override
  public EngineStatus status() {
    boolean ready = true;
    boolean alive = true;
    int running = 0;
    int waiting = 0;
    int total = 0;
    int free = 0;
    long preemptions = 0;
    long queries = 0;
    long hits = 0;
    for (EngineCore engine : engines) {
      EngineStatus s = engine.status();
      ready &= s.ready();
      alive &= s.alive();
      running += s.running();
      waiting += s.waiting();
      total += s.totalBlocks();
      free += s.freeBlocks();
      preemptions += s.preemptions();
      queries += s.prefixCacheQueries();
      hits += s.prefixCacheHits();
    }
    double usage = total == 0 ? 0 : (double) (total - free) / total;
    return new EngineStatus(ready, alive, running, waiting, total, free, usage, preemptions, queries, hits);
  }

  /** The engines, in order (engine i runs on cuda:i). */
  public List<EngineCore> engines() {
    return engines;
  }

  /** How many requests each engine has been given since start. */
  public long[] submittedCounts() {
    long[] counts = new long[submitted.length];
    for (int i = 0; i < counts.length; i++) counts[i] = submitted[i].get();
    return counts;
  }

  /** Drains all engines together within {@code grace}; true when every one finished its requests in time. */
  public boolean shutdown(Duration grace) throws InterruptedException {
    accepting = false; // the engines drain one after another but run side by side: none may take new work meanwhile
    long deadline = System.nanoTime() + grace.toNanos();
    boolean clean = true;
    for (EngineCore engine : engines) {
      clean &= engine.shutdown(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }
    return clean;
  }

  @Override
  public void close() {
    for (EngineCore engine : engines) engine.close();
  }
}
