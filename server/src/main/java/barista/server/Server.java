package barista.server;

import barista.config.ServeOptions;
import barista.scheduler.EngineClient;
import barista.scheduler.EngineStatus;
import barista.server.endpoints.ChatCompletionHandler;
import barista.server.endpoints.CompletionHandler;
import barista.server.endpoints.DetokenizeHandler;
import barista.server.endpoints.HealthHandler;
import barista.server.endpoints.MetricsHandler;
import barista.server.endpoints.ModelsHandler;
import barista.server.endpoints.ServerContext;
import barista.server.endpoints.TokenizeHandler;
import barista.server.endpoints.VersionHandler;
import barista.server.frontend.Frontend;
import barista.server.frontend.StatusData;
import barista.server.generation.ActiveSessions;
import barista.server.http.ConnectionLimits;
import barista.server.http.CorsPolicy;
import barista.server.http.HttpServerInitializer;
import barista.server.http.Router;
import barista.server.metrics.ServerMetrics;
import barista.server.metrics.StatsLogger;
import barista.server.model.ServedModel;
import com.sun.management.UnixOperatingSystemMXBean;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The OpenAI-compatible HTTP server over an engine and a model: start it, then close it gracefully. */
public final class Server implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Server.class);
  /** File descriptors kept free of connections (lingering refusals, files, the JVM's own), at most. */
  private static final int MAX_FD_RESERVE = 1024;
  /** Requests waiting for a request worker, at most (each holds its body): beyond it, 503. */
  private static final int MAX_QUEUED_PREPARATIONS = 1024;

  private final ServeOptions options;
  private final ServerContext context;
  private final EventLoopGroup acceptors = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  /** Where heavy endpoints parse, template and tokenize, off the event loops; a full queue answers 503. */
  private final ThreadPoolExecutor requestWorkers = requestWorkers();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicBoolean closing = new AtomicBoolean();
  private volatile Throwable engineDeath;
  private Channel listener;
  private ConnectionLimits connectionLimits;
  private StatusData statusData; // null: --disable-frontend

  private Server(ServeOptions options, EngineClient engine, ServedModel model) {
    this.options = options;
    EngineStatus status = engine.status();
    ServerMetrics metrics = new ServerMetrics(engine, model.servedNames().get(0), model.maxModelLen(), Map.of(
        "block_size", Integer.toString(options.blockSize),
        "num_gpu_blocks", Integer.toString(status.totalBlocks()),
        "enable_prefix_caching", Boolean.toString(options.enablePrefixCaching),
        "gpu_memory_utilization", Double.toString(options.gpuMemoryUtilization)));
    this.context = new ServerContext(engine, model, options, metrics, new ActiveSessions());
  }

  /** Binds --host:--port (0 picks a free port) and serves until {@link #close}. */
  public static Server start(ServeOptions options, EngineClient engine, ServedModel model) throws InterruptedException {
    return start(options, engine, model, null);
  }

  /**
   * Serves on {@code bound}, a socket already bound to --host:--port (see {@link ListenAddress}), or binds one when
   * it is null; the server owns and closes it.
   */
  static Server start(ServeOptions options, EngineClient engine, ServedModel model, ServerSocketChannel bound)
      throws InterruptedException {
    return start(options, engine, model, bound, false);
  }

  /**
   * As above; with {@code warmUp}, first the startup warm-up of {@code --warmup-seconds} (serve's; tests' servers
   * start cold unless they ask).
   */
  static Server start(ServeOptions options, EngineClient engine, ServedModel model, ServerSocketChannel bound,
      boolean warmUp) throws InterruptedException {
    Server server = new Server(options, engine, model);
    server.bind(bound, warmUp && options.warmupSeconds > 0);
    return server;
  }

  private void bind(ServerSocketChannel bound, boolean warmUp) throws InterruptedException {
    log.info("Started server process [{}]", ProcessHandle.current().pid());
    HeapReturn.enable();
    String apiKey = options.apiKey(System.getenv());
    HttpServerInitializer pipeline = new HttpServerInitializer(routes(), apiKey,
        new CorsPolicy(options.allowedOrigins()), options.maxRequestBodySize, context.metrics()::httpResponse,
        connectionLimits(), connections, requestWorkers);
    if (warmUp) warmUp(bootstrap(NioServerSocketChannel::new, pipeline), apiKey);
    ServerBootstrap bootstrap = bootstrap(
        () -> bound == null ? new NioServerSocketChannel() : new NioServerSocketChannel(bound), pipeline);
    try {
      // A bound socket starts accepting once registered with the event loop.
      listener = bound == null ? bootstrap.bind(options.host, options.port).sync().channel()
          : bootstrap.register().sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      shutDownLoops();
      throw e;
    }
    if (!options.disableLogStats) {
      workers.next().scheduleAtFixedRate(new StatsLogger(context.engine(), context.metrics()), 10, 10, TimeUnit.SECONDS);
    }
    log.info("Serving {} on http://{}:{}{}", context.model().servedNames(), options.host, port(),
        apiKey == null ? "" : " (API key required)");
    log.info("Application startup complete.");
    context.engine().death().thenAccept(cause -> {
      engineDeath = cause;
      if (closing.get()) return; // already on the way out (a signal): the exit code still says it
      log.error("The engine died ({}); shutting the server down so that its service manager can restart it",
          cause.toString());
      new Thread(this::close, "barista-engine-died").start(); // not on the dying engine's thread
    });
  }

  private ServerBootstrap bootstrap(io.netty.channel.ChannelFactory<NioServerSocketChannel> channels,
      HttpServerInitializer pipeline) {
    return new ServerBootstrap()
        .group(acceptors, workers)
        .channelFactory(channels)
        .option(ChannelOption.SO_BACKLOG, ListenAddress.BACKLOG)
        .childOption(ChannelOption.TCP_NODELAY, true)
        // One read (at most 64 KiB) per connection per turn of its event loop, not Netty's 16: a connection
        // uploading a large body otherwise holds the loop for a megabyte at a time while the loop's other
        // connections, a /health probe among them, wait (docs/reliability.md).
        .childOption(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(1))
        .childHandler(pipeline);
  }

  /**
   * The startup warm-up ({@link StartupWarmup}) through a listener of its own on a free loopback port, the same
   * pipeline and handlers behind it, before the real socket takes anyone (clients wait in its backlog, as while the
   * model loads). Its requests are not counted in the metrics; its connections are closed after it.
   */
  private void warmUp(ServerBootstrap bootstrap, String apiKey) {
    Channel local = null;
    context.metrics().mute(true);
    try {
      local = bootstrap.bind("127.0.0.1", 0).sync().channel();
      int port = ((InetSocketAddress) local.localAddress()).getPort();
      StartupWarmup.Result r = StartupWarmup.run(port, context.defaultModelName(), apiKey, options.warmupSeconds,
          Math.min(StartupWarmup.WIDE, options.maxNumSeqs));
      log.info("Warm-up: {} of {} requests answered in {} ms (--warmup-seconds {})", r.succeeded(), r.sent(),
          r.millis(), options.warmupSeconds);
    } catch (Exception | LinkageError e) { // LinkageError: a trimmed runtime without java.net.http
      log.warn("Warm-up skipped: {}", e.toString());
      if (e instanceof InterruptedException) Thread.currentThread().interrupt();
    } finally {
      if (local != null) {
        Channel listener = local;
        listener.close().awaitUninterruptibly();
        connections.close(ch -> ch.parent() == listener).awaitUninterruptibly();
      }
      context.metrics().mute(false);
    }
  }

  /**
   * What killed the engine when that is why the server closed (then {@code serve} exits with 1, which systemd's
   * Restart=on-failure and Kubernetes restart); null otherwise.
   */
  public Throwable engineDeath() {
    return engineDeath;
  }

  /**
   * The connection cap is lowered to what the process's file descriptor limit leaves after the descriptors open
   * now and a reserve (refused connections that linger, model files, logs), so a flood never runs into
   * "Too many open files".
   */
  private ConnectionLimits connectionLimits() {
    int maxConnections = options.maxConnections;
    int maxLingering = MAX_FD_RESERVE / 2;
    if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean os) {
      long maxFds = os.getMaxFileDescriptorCount();
      int lowered = connectionCap(maxConnections, maxFds, os.getOpenFileDescriptorCount());
      if (lowered < maxConnections) {
        log.warn("--max-connections {} lowered to {}: the file descriptor limit is {} ({} open); raise it with "
            + "ulimit -n or systemd's LimitNOFILE", maxConnections, lowered, maxFds, os.getOpenFileDescriptorCount());
        maxConnections = lowered;
      }
      maxLingering = (int) (fdReserve(maxFds) / 2);
    }
    connectionLimits = new ConnectionLimits(maxConnections, maxLingering, options.maxPendingBodyBytes,
        options.timeoutKeepAliveSeconds(System.getenv()), options.requestReadTimeoutSeconds,
        options.maxPendingResponseBytes, options.responseStallTimeoutSeconds);
    return connectionLimits;
  }

  private static ThreadPoolExecutor requestWorkers() {
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    AtomicInteger count = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(MAX_QUEUED_PREPARATIONS), r -> {
          Thread t = new Thread(r, "barista-request-worker-" + count.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** The descriptors kept free: 1024, or a quarter of a smaller limit; half of them for lingering refusals. */
  static long fdReserve(long maxFds) {
    return Math.max(2, Math.min(MAX_FD_RESERVE, maxFds / 4));
  }

  /** --max-connections, or fewer: what the descriptor limit leaves after those open and the reserve (at least 1). */
  static int connectionCap(int requested, long maxFds, long openFds) {
    long spare = maxFds - openFds - fdReserve(maxFds);
    return (int) Math.max(1, Math.min(requested, spare));
  }

  /** The limits every connection shares (open connections, pending body bytes), for tests. */
  public ConnectionLimits connections() {
    return connectionLimits;
  }

  private Router routes() {
    boolean metricsOpen = !options.protectMetrics;
    HealthHandler health = new HealthHandler(context.engine());
    Router router = new Router();
    if (!options.disableFrontend) {
      statusData = new StatusData(context.engine(), context.metrics(), options, new StatusData.ModelSummary(
          context.defaultModelName(), context.model().maxModelLen(), context.model().facts()), context.sessions()::size);
      Frontend.addRoutes(router, statusData, metricsOpen);
    }
    ChatCompletionHandler chat = new ChatCompletionHandler(context);
    return router
        .add(HttpMethod.POST, "/v1/chat/completions", chat, false)
        .add(HttpMethod.POST, "/v1/responses", new barista.server.endpoints.ResponsesHandler(context, chat), false)
        .add(HttpMethod.POST, "/v1/completions", new CompletionHandler(context), false)
        .add(HttpMethod.GET, "/v1/models", new ModelsHandler(context), false)
        .add(HttpMethod.POST, "/tokenize", new TokenizeHandler(context), false)
        .add(HttpMethod.POST, "/detokenize", new DetokenizeHandler(context), false)
        .add(HttpMethod.GET, "/health", health, true)
        .add(HttpMethod.GET, "/ping", health, true)
        .add(HttpMethod.POST, "/ping", health, true)
        .add(HttpMethod.GET, "/version", new VersionHandler(), true)
        .add(HttpMethod.GET, "/metrics", new MetricsHandler(context.metrics()), metricsOpen);
  }

  public int port() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Requests in flight (for tests and shutdown). */
  public int activeRequests() {
    return context.sessions().size();
  }

  /** Blocks until the server is closed. */
  public void awaitClosed() throws InterruptedException {
    closed.await();
  }

  /** True once close() has begun: new generation requests are refused with 503. */
  public boolean draining() {
    return context.sessions().draining();
  }

  /**
   * Stops accepting connections and refuses new requests on open ones, lets running requests finish for up to
   * --shutdown-timeout seconds, ends the rest with finish_reason "abort", then stops the event loops. Safe to call
   * twice, and from two threads at once (the second returns when the first is done).
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) { // a second caller (a signal beside an engine death) waits for the first
      try {
        closed.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    try {
      listener.close().syncUninterruptibly();
      context.sessions().startDraining();
      long timeoutMillis = (long) (options.shutdownTimeoutSeconds * 1000);
      if (!context.sessions().awaitEmpty(timeoutMillis)) {
        log.info("Aborting {} requests still running after {} s", context.sessions().size(),
            options.shutdownTimeoutSeconds);
        context.sessions().abortAll();
        context.sessions().awaitEmpty(1000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      // Whatever the clients do (one that never reads holds its connection open): the loops must stop in time.
      requestWorkers.shutdownNow();
      connections.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
      shutDownLoops();
      if (statusData != null) statusData.close();
      context.metrics().close();
      closed.countDown();
    }
  }

  /** Stops the event loops, waiting a bounded time: a loop stuck in a task must not hold the exit. */
  private void shutDownLoops() {
    acceptors.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    if (!workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS)) {
      log.warn("The event loops did not stop within 5 s; exiting without them");
    }
  }
}
