package barista.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The limits shared by every connection of one server: how many may be open (--max-connections), how many bytes
 * of request bodies may be on their way in at once (--max-pending-body-bytes), how many bytes of responses may wait
 * for their clients to read them (--max-pending-response-bytes), and the timeouts each connection applies
 * (--timeout-keep-alive, --request-read-timeout, --response-stall-timeout). The counters are touched by every
 * event loop.
 */
public final class ConnectionLimits {
  private static final Logger log = LoggerFactory.getLogger(ConnectionLimits.class);
  private final int maxConnections;
  private final int maxLingering; // refused connections waiting up to ConnectionRefusal.LINGER_MILLIS at once
  private final long maxPendingBodyBytes;
  private final long keepAliveNanos;
  private final long readTimeoutNanos;
  private final long maxPendingResponseBytes;
  private final long stallTimeoutNanos;
  private final AtomicLong pendingResponseBytes = new AtomicLong();
  /** Connections waiting for response room, each resumed on its own event loop. */
  private final ConcurrentLinkedQueue<Waiter> responseRoomWaiters = new ConcurrentLinkedQueue<>();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger lingering = new AtomicInteger();
  private final AtomicLong pendingBodyBytes = new AtomicLong();
  private final ByteBuf tooManyConnections;
  final RateLimitedWarning connectionRefusals = new RateLimitedWarning(log, 10, TimeUnit.SECONDS);
  final RateLimitedWarning bodyRefusals = new RateLimitedWarning(log, 10, TimeUnit.SECONDS);
  final RateLimitedWarning readTimeouts = new RateLimitedWarning(log, 10, TimeUnit.SECONDS);
  final RateLimitedWarning stalledResponses = new RateLimitedWarning(log, 10, TimeUnit.SECONDS);
  final RateLimitedWarning deepPipelines = new RateLimitedWarning(log, 10, TimeUnit.SECONDS);
  final RateLimitedWarning responseBudgetSpent = new RateLimitedWarning(log, 10, TimeUnit.SECONDS);

  private record Waiter(EventExecutor executor, Runnable resume) {}

  public ConnectionLimits(int maxConnections, int maxLingering, long maxPendingBodyBytes, double keepAliveSeconds,
      double readTimeoutSeconds, long maxPendingResponseBytes, double stallTimeoutSeconds) {
    this.maxPendingResponseBytes = maxPendingResponseBytes;
    this.stallTimeoutNanos = (long) (stallTimeoutSeconds * 1e9);
    this.maxConnections = maxConnections;
    this.maxLingering = maxLingering;
    this.maxPendingBodyBytes = maxPendingBodyBytes;
    this.keepAliveNanos = (long) (keepAliveSeconds * 1e9);
    this.readTimeoutNanos = (long) (readTimeoutSeconds * 1e9);
    this.tooManyConnections = ClosingError.encoded(ApiException.overloaded(
        "The server has too many open connections (--max-connections " + maxConnections + "); retry later"));
  }

  /** Connections open now, refused ones not counted (for tests and metrics). */
  public int openConnections() {
    return open.get();
  }

  /** Bytes of request bodies received but not yet complete, over all connections (for tests and metrics). */
  public long pendingBodyBytes() {
    return pendingBodyBytes.get();
  }

  int maxConnections() {
    return maxConnections;
  }

  long maxPendingBodyBytes() {
    return maxPendingBodyBytes;
  }

  long keepAliveNanos() {
    return keepAliveNanos;
  }

  long readTimeoutNanos() {
    return readTimeoutNanos;
  }

  /** Counts a new connection in; false (and not counted) when --max-connections are already open. */
  boolean tryOpen() {
    if (open.incrementAndGet() <= maxConnections) return true;
    open.decrementAndGet();
    return false;
  }

  void closed() {
    open.decrementAndGet();
  }

  /** The 503 a connection beyond the cap gets, as bytes; a fresh duplicate per write. */
  ByteBuf tooManyConnectionsResponse() {
    return tooManyConnections.duplicate();
  }

  boolean tryLinger() {
    if (lingering.incrementAndGet() <= maxLingering) return true;
    lingering.decrementAndGet();
    return false;
  }

  void lingerEnded() {
    lingering.decrementAndGet();
  }

  /** Whether {@code bytes} more would fit under the cap now (a declared Content-Length, before any of it came). */
  boolean bodyFits(long bytes) {
    return pendingBodyBytes.get() + bytes <= maxPendingBodyBytes;
  }

  /** Takes {@code bytes} of the body budget; false (nothing taken) when they would go over the cap. */
  boolean tryTakeBody(long bytes) {
    if (pendingBodyBytes.addAndGet(bytes) <= maxPendingBodyBytes) return true;
    pendingBodyBytes.addAndGet(-bytes);
    return false;
  }

  void returnBody(long bytes) {
    if (bytes != 0) pendingBodyBytes.addAndGet(-bytes);
  }

  /** Bytes of responses written to connections and not yet taken by their clients (for tests and metrics). */
  public long pendingResponseBytes() {
    return pendingResponseBytes.get();
  }

  long maxPendingResponseBytes() {
    return maxPendingResponseBytes;
  }

  long stallTimeoutNanos() {
    return stallTimeoutNanos;
  }

  void responseBytesWritten(long bytes) {
    pendingResponseBytes.addAndGet(bytes);
  }

  void responseBytesTaken(long bytes) {
    if (pendingResponseBytes.addAndGet(-bytes) < maxPendingResponseBytes) resumeWaiters();
  }

  /** Whether a connection may start its next request: responses unread by all clients are under the budget. */
  boolean responseRoom() {
    return pendingResponseBytes.get() < maxPendingResponseBytes;
  }

  /**
   * Runs {@code resume} on {@code executor} once there is response room (at once if there is by now: the bytes may
   * have been taken between the caller's check and this call).
   */
  void awaitResponseRoom(EventExecutor executor, Runnable resume) {
    responseRoomWaiters.add(new Waiter(executor, resume));
    if (responseRoom()) resumeWaiters();
  }

  private void resumeWaiters() {
    Waiter waiter;
    while (responseRoom() && (waiter = responseRoomWaiters.poll()) != null) {
      Runnable resume = waiter.resume();
      try {
        waiter.executor().execute(resume);
      } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
        // the loop is closing: its connections go with it
      }
    }
  }
}
