package barista.server.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes the requests of one connection, one at a time: pipelined requests wait their turn so responses go out
 * in order, and reading pauses while too many are waiting. The next request starts only once the client has taken
 * every byte of the responses before it ({@link ResponseBacklog}) and the responses unread over all connections
 * are under --max-pending-response-bytes, so a client that does not read cannot make the server buffer more.
 * A closed connection cancels the request in flight.
 */
final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
  private static final int MAX_QUEUED = 16;

  private final Router router;
  private final ResponseObserver observer;
  private final ApiKeyCheck apiKey; // null: no key required
  private final CorsPolicy cors;
  private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>();
  private final ResponseBacklog backlog;
  private final ConnectionLimits limits;
  private final Executor workers;
  private Exchange current;
  private boolean waiting; // for the backlog to empty or for response room: a resume is scheduled

  ApiHandler(Router router, ApiKeyCheck apiKey, CorsPolicy cors, ResponseObserver observer, ResponseBacklog backlog,
      ConnectionLimits limits, Executor workers) {
    super(false);
    this.workers = workers;
    this.backlog = backlog;
    this.limits = limits;
    this.router = router;
    this.apiKey = apiKey;
    this.cors = cors;
    this.observer = observer;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    queued.add(request);
    if (queued.size() >= MAX_QUEUED) ctx.channel().config().setAutoRead(false);
    startNext(ctx);
  }

  /** Starts the next queued request unless one is running or the responses before it are not taken yet. */
  private void startNext(ChannelHandlerContext ctx) {
    if (current != null || waiting || queued.isEmpty() || !ctx.channel().isActive()) return;
    if (!backlog.isEmpty()) {
      waiting = true;
      backlog.whenEmpty(() -> resume(ctx));
      return;
    }
    if (!limits.responseRoom()) {
      limits.responseBudgetSpent.event("Responses unread by their clients fill --max-pending-response-bytes {}: "
          + "requests wait until clients read or stalled connections close", limits.maxPendingResponseBytes());
      waiting = true;
      limits.awaitResponseRoom(ctx.executor(), () -> resume(ctx));
      return;
    }
    if (queued.size() < MAX_QUEUED) ctx.channel().config().setAutoRead(true);
    dispatch(ctx, queued.poll());
  }

  private void resume(ChannelHandlerContext ctx) {
    waiting = false;
    startNext(ctx);
  }

  private void dispatch(ChannelHandlerContext ctx, FullHttpRequest request) {
    Exchange exchange = new Exchange(ctx, request, cors, router, observer, workers, () -> next(ctx));
    current = exchange;
    boolean handedOff = false;
    try {
      handedOff = serve(exchange);
    } catch (ApiException e) {
      FullHttpResponse response = exchange.errorResponse(e);
      if (e.status() == HttpResponseStatus.METHOD_NOT_ALLOWED) {
        response.headers().set(HttpHeaderNames.ALLOW, router.allowedMethods(exchange.path()));
      }
      exchange.send(response);
    } catch (RuntimeException e) {
      log.error("Bug while serving {} {}", request.method(), exchange.path(), e);
      if (!exchange.isDone() && !exchange.isStreaming()) exchange.sendError(ApiException.internal("Internal error: " + e));
    } finally {
      if (!handedOff) request.release();
    }
  }

  /** Serves the request on the event loop, or hands it to the worker pool (true: the body is released there). */
  private boolean serve(Exchange exchange) {
    FullHttpRequest request = exchange.request();
    DecoderResult decoded = request.decoderResult();
    if (decoded.isFailure() && decoded.cause() instanceof PrematureChannelClosureException) {
      // The client hung up before its request was complete: nobody to answer, and no request to count.
      exchange.abandon();
      return false;
    }
    if (decoded.isFailure()) {
      rejectUndecodable(exchange, decoded.cause());
      return false;
    }
    if (exchange.path() == null) {
      throw ApiException.badRequest("Malformed request URI (an invalid percent escape or invalid UTF-8): "
          + abbreviated(request.uri()), null);
    }
    if (cors.isPreflight(request)) {
      FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), HttpResponseStatus.NO_CONTENT);
      cors.addPreflightHeaders(request, response.headers());
      exchange.send(response);
      return false;
    }
    Router.Route route = router.find(request.method(), exchange.path());
    if (!route.open() && apiKey != null && !apiKey.accepts(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
      throw ApiException.unauthorized();
    }
    Endpoint endpoint = route.endpoint();
    if (!endpoint.heavy()) {
      endpoint.handle(exchange);
      return false;
    }
    try {
      workers.execute(() -> {
        try {
          endpoint.handle(exchange);
        } catch (ApiException e) {
          exchange.sendErrorUnlessStarted(e);
        } catch (RuntimeException | StackOverflowError e) {
          log.error("Bug while serving {} {}", request.method(), exchange.path(), e);
          exchange.sendErrorUnlessStarted(ApiException.internal("Internal error: " + e));
        } finally {
          request.release();
        }
      });
    } catch (RejectedExecutionException e) {
      throw ApiException.overloaded("The server has too many requests being prepared; retry later");
    }
    return true;
  }

  private static String abbreviated(String text) {
    return text.length() <= 200 ? text : text.substring(0, 200) + "...";
  }

  /** The codec gave up on the request (header block or line too long, malformed): answer and close. */
  private static void rejectUndecodable(Exchange exchange, Throwable cause) {
    ApiException error;
    if (cause instanceof TooLongHttpHeaderException) {
      error = new ApiException(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "RequestHeaderFieldsTooLargeError",
          "The request header block is too large: " + cause.getMessage(), null);
    } else if (cause instanceof TooLongHttpLineException || cause instanceof TooLongFrameException) {
      error = new ApiException(HttpResponseStatus.REQUEST_URI_TOO_LONG, "URITooLongError",
          "The request line is too long: " + cause.getMessage(), null);
    } else {
      error = ApiException.badRequest("Malformed HTTP request: " + cause.getMessage(), null);
    }
    FullHttpResponse response = exchange.errorResponse(error);
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    exchange.send(response);
  }

  /** The next pipelined request starts in a task of its own, so other connections of this loop get their turn. */
  private void next(ChannelHandlerContext ctx) {
    current = null;
    if (queued.isEmpty()) return;
    waiting = true;
    ctx.executor().execute(() -> resume(ctx));
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (current != null) current.writabilityChanged();
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (current != null) current.cancel();
    current = null;
    queued.forEach(FullHttpRequest::release);
    queued.clear();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() instanceof IllegalStateException
        && String.valueOf(cause.getCause().getMessage()).contains("maxPipelineDepth")) {
      // The codec holds at most 128 requests awaiting their responses: a client this deep does not read.
      limits.deepPipelines.event("Closed the connection of {}: it pipelined more requests than the server holds "
          + "(128) without reading the responses", ctx.channel().remoteAddress());
    } else {
      log.debug("Connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    }
    ctx.close();
  }
}
