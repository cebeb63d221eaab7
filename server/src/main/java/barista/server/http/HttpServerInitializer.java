package barista.server.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import java.util.concurrent.Executor;

/**
 * The pipeline of one connection: the response backlog (unread response bytes), the timeouts' raw-read watch, codec,
 * body budget, timeouts, keep-alive, body limit and aggregation, then the API router. A connection beyond
 * --max-connections gets only the refusal.
 */
public final class HttpServerInitializer extends ChannelInitializer<SocketChannel> {
  public static final int MAX_HEADER_BYTES = 64 * 1024;
  public static final int MAX_INITIAL_LINE_BYTES = 16 * 1024;

  private final Router router;
  private final ApiKeyCheck apiKey;
  private final CorsPolicy cors;
  private final int maxBodyBytes;
  private final ResponseObserver observer;
  private final ConnectionLimits limits;
  private final ChannelGroup connections;
  private final Executor workers;

  /**
   * @param apiKey null when no key is required
   * @param connections where every served connection is added (a closed one leaves it), so shutdown can close them
   * @param workers the bounded pool heavy endpoints run on (a full one refuses with RejectedExecutionException)
   */
  public HttpServerInitializer(Router router, String apiKey, CorsPolicy cors, int maxBodyBytes,
      ResponseObserver observer, ConnectionLimits limits, ChannelGroup connections, Executor workers) {
    this.workers = workers;
    this.connections = connections;
    this.router = router;
    this.observer = observer;
    this.apiKey = apiKey == null ? null : new ApiKeyCheck(apiKey);
    this.cors = cors;
    this.maxBodyBytes = maxBodyBytes;
    this.limits = limits;
  }

  @Override
  protected void initChannel(SocketChannel channel) {
    ChannelPipeline pipeline = channel.pipeline();
    if (!limits.tryOpen()) {
      pipeline.addLast(new ConnectionRefusal(limits));
      return;
    }
    channel.closeFuture().addListener(closed -> limits.closed());
    connections.add(channel);
    ConnectionTimeouts timeouts = new ConnectionTimeouts(limits);
    ResponseBacklog backlog = new ResponseBacklog(limits);
    pipeline.addLast(backlog);
    pipeline.addLast(timeouts.rawReads());
    pipeline.addLast(new HttpServerCodec(new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
        .setMaxHeaderSize(MAX_HEADER_BYTES)));
    pipeline.addLast(new BodyBudget(limits, maxBodyBytes));
    pipeline.addLast(timeouts);
    pipeline.addLast(new HttpServerKeepAliveHandler());
    pipeline.addLast(new BodyLimitAggregator(maxBodyBytes));
    pipeline.addLast(new ApiHandler(router, apiKey, cors, observer, backlog, limits, workers));
  }
}
