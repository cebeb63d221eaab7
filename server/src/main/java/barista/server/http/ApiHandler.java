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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes the requests of one connection, one at a time: pipelined requests wait their turn so responses go out
 * in order, and reading pauses while too many are waiting. A closed connection cancels the request in flight.
 */
final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
  private static final int MAX_QUEUED = 16;

  private final Router router;
  private final ResponseObserver observer;
  private final ApiKeyCheck apiKey; // null: no key required
  private final CorsPolicy cors;
  private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>();
  private Exchange current;

  ApiHandler(Router router, ApiKeyCheck apiKey, CorsPolicy cors, ResponseObserver observer) {
    super(false);
    this.router = router;
    this.apiKey = apiKey;
    this.cors = cors;
    this.observer = observer;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (current != null) {
      queued.add(request);
      if (queued.size() >= MAX_QUEUED) ctx.channel().config().setAutoRead(false);
      return;
    }
    dispatch(ctx, request);
  }

  private void dispatch(ChannelHandlerContext ctx, FullHttpRequest request) {
    Exchange exchange = new Exchange(ctx, request, cors, router, observer, () -> next(ctx));
    current = exchange;
    try {
      serve(exchange);
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
      request.release();
    }
  }

  private void serve(Exchange exchange) {
    FullHttpRequest request = exchange.request();
    DecoderResult decoded = request.decoderResult();
    if (decoded.isFailure() && decoded.cause() instanceof PrematureChannelClosureException) {
      // The client hung up before its request was complete: nobody to answer, and no request to count.
      exchange.abandon();
      return;
    }
    if (decoded.isFailure()) {
      rejectUndecodable(exchange, decoded.cause());
      return;
    }
    if (cors.isPreflight(request)) {
      FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), HttpResponseStatus.NO_CONTENT);
      cors.addPreflightHeaders(request, response.headers());
      exchange.send(response);
      return;
    }
    Router.Route route = router.find(request.method(), exchange.path());
    if (!route.open() && apiKey != null && !apiKey.accepts(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
      throw ApiException.unauthorized();
    }
    route.endpoint().handle(exchange);
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

  private void next(ChannelHandlerContext ctx) {
    current = null;
    if (queued.size() < MAX_QUEUED) ctx.channel().config().setAutoRead(true);
    FullHttpRequest request = queued.poll();
    if (request != null) dispatch(ctx, request); // nests at most MAX_QUEUED deep

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
    log.debug("Connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
