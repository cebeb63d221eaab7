package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A client that pipelines requests and never reads its responses: the server stops at one unread response per
 * connection and --max-pending-response-bytes in all, serves everyone else promptly, closes the connection after
 * --response-stall-timeout, and shuts down in time while it is connected.
 */
class ResponseBackpressureTest {
  private static final int BUDGET = 1 << 20;
  private static final byte[] METRICS_REQUEST =
      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /**
   * Pipelines GET /metrics on a socket it never reads, {@code batch} requests at a time every 10 ms, until it has
   * sent {@code requests} or the server closes the socket (a daemon thread). The pause only paces the attack.
   */
  private static Socket nonReader(int port, int requests, int batch) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096); // before connecting, so the window stays small
    socket.connect(new InetSocketAddress("127.0.0.1", port));
    Thread writer = new Thread(() -> {
      try {
        OutputStream out = socket.getOutputStream();
        for (int sent = 0; sent < requests; sent += batch) {
          for (int i = 0; i < batch; i++) out.write(METRICS_REQUEST);
          out.flush();
          Thread.sleep(10);
        }
      } catch (IOException | InterruptedException closed) {
        // the server closed it (the stall timeout, or pipelining deeper than the codec's 128)
      }
    }, "non-reader");
    writer.setDaemon(true);
    writer.start();
    return socket;
  }

  /** Polls a condition until it holds; fails at the deadline. */
  static void until(String what, long timeoutMillis, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting until " + what);
      Thread.sleep(5);
    }
  }

  /** Heap after a full collection plus NIO direct buffers (Netty's pooled arenas are counted there too). */
  private static long usedMemory() {
    System.gc();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long direct = 0;
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      direct += pool.getMemoryUsed();
    }
    return heap + direct + io.netty.util.internal.PlatformDependent.usedDirectMemory();
  }

  @Test
  void aNonReadingPipelinerHoldsNoMoreThanTheBudgetWhileOthersAreServedAndShutdownIsOnTime() throws Exception {
    TestServer server = new TestServer("--max-pending-response-bytes", Integer.toString(BUDGET),
        "--response-stall-timeout", "60");
    boolean closed = false;
    try {
      int metricsBytes = server.get("/metrics").body().length();
      for (int i = 0; i < 20; i++) server.get("/v1/models"); // warm up the victim's path
      long before = usedMemory();
      // Unbounded, these would be 20,000 responses, hundreds of MiB (each /metrics response is tens of KiB).
      List<Socket> attackers = new ArrayList<>();
      for (int i = 0; i < 4; i++) attackers.add(nonReader(server.server.port(), 5_000, 50));
      long peakPending = 0;
      long slowestVictimNanos = 0;
      for (int i = 0; i < 40; i++) {
        long start = System.nanoTime();
        assertEquals(200, server.get("/v1/models").statusCode());
        slowestVictimNanos = Math.max(slowestVictimNanos, System.nanoTime() - start);
        peakPending = Math.max(peakPending, server.server.connections().pendingResponseBytes());
        Thread.sleep(25); // paces the victim, not synchronization
      }
      long grown = usedMemory() - before;
      assertTrue(slowestVictimNanos < 1_000_000_000L, "a victim's request took " + slowestVictimNanos / 1e6 + " ms");
      // Each attacker holds at most the one response it has not read.
      assertTrue(peakPending <= 4L * (metricsBytes + 4096), "unread response bytes peaked at " + peakPending);
      assertTrue(grown < BUDGET + 16L * 1024 * 1024, "server memory grew by " + grown / 1024 + " KiB");

      // Two that stay connected (pipelining less deep than the codec allows), each with a response it never reads.
      for (int i = 0; i < 2; i++) attackers.add(nonReader(server.server.port(), 100, 100));
      until("both hold an unread response", 5_000, () -> server.server.connections().pendingResponseBytes() > 0
          && server.server.connections().openConnections() >= 3);
      long closing = System.nanoTime();
      server.close(); // what SIGTERM runs; --shutdown-timeout 1
      closed = true;
      double seconds = (System.nanoTime() - closing) / 1e9;
      assertTrue(seconds < 1 + 3, "shutdown took " + seconds + " s with non-reading clients connected");
      assertEquals(0, server.server.connections().pendingResponseBytes(), "every unread byte was given back");
      for (Socket attacker : attackers) attacker.close();
    } finally {
      if (!closed) server.close();
    }
  }

  @Test
  void aConnectionWhoseClientTakesNothingIsClosedAfterTheStallTimeout() throws Exception {
    try (TestServer server = new TestServer("--response-stall-timeout", "0.5");
        Socket attacker = nonReader(server.server.port(), 100, 100)) {
      until("the attacker's response is stuck", 5_000,
          () -> server.server.connections().pendingResponseBytes() > 0);
      until("the stalled connection is closed and its bytes given back", 5_000,
          () -> server.server.connections().openConnections() == 0
              && server.server.connections().pendingResponseBytes() == 0);
      assertEquals(200, server.get("/v1/models").statusCode());
    }
  }
}
