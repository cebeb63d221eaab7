package barista.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection's timeouts, and the answer to a request refused before it fully arrived ({@link RefuseRequest}). It
 * sits after the HTTP codec and {@link BodyBudget}, where it sees requests end and responses leave; {@link #rawReads()}
 * sits before the codec to see the first bytes of a request whose headers are not complete yet.
 *
 * <p>At any moment the connection is in one of three states, and only the first has no deadline:
 * <ul>
 *   <li>a response is owed (a request arrived whole and its last response byte has not been written): no timeout,
 *       so a long generation or stream is never cut;</li>
 *   <li>part of a request has arrived: it must be complete within --request-read-timeout, else 408 and close;</li>
 *   <li>nothing is in flight: the connection closes after --timeout-keep-alive.</li>
 * </ul>
 * Bytes that arrive while a response is owed (pipelining) start the read timeout when that response is written.
 * One timer runs at a time; when it fires early (the deadline moved later) it is scheduled again, so busy
 * connections do not schedule a task per read. Confined to the connection's event loop.
 */
final class ConnectionTimeouts extends ChannelDuplexHandler {
  private final ConnectionLimits limits;
  private ChannelHandlerContext ctx;
  private int responsesOwed;
  private boolean bytesSinceLastRequest;
  private boolean partial;
  private long partialSinceNanos;
  private long idleSinceNanos;
  private boolean refused; // answered 408/503 before the request was complete: drop the rest until the close
  private ApiException refusalOnHold; // waits for the responses owed on this connection (pipelining)
  private ScheduledFuture<?> timer;
  private long timerDeadlineNanos;

  ConnectionTimeouts(ConnectionLimits limits) {
    this.limits = limits;
  }

  /** The handler to put before the HTTP codec: it tells this one when request bytes arrive. */
  ChannelHandler rawReads() {
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext rawCtx, Object msg) {
        if (msg instanceof ByteBuf bytes && bytes.isReadable()) bytesArrived();
        rawCtx.fireChannelRead(msg);
      }
    };
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    idleSinceNanos = System.nanoTime();
    arm();
  }

  private void bytesArrived() {
    bytesSinceLastRequest = true;
    if (responsesOwed == 0 && !partial) startPartial();
  }

  private void startPartial() {
    partial = true;
    partialSinceNanos = System.nanoTime();
    arm();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (refused) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof LastHttpContent) { // the request's end (or the codec's whole stand-in for a malformed one)
      responsesOwed++;
      partial = false;
      bytesSinceLastRequest = false;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    boolean informational = msg instanceof HttpResponse response
        && response.status().codeClass() == HttpStatusClass.INFORMATIONAL; // 100 Continue: the request goes on
    if (msg instanceof LastHttpContent && !informational) {
      promise = promise.unvoid();
      promise.addListener(written -> responseWritten());
    }
    ctx.write(msg, promise);
  }

  private void responseWritten() {
    if (responsesOwed > 0) responsesOwed--;
    if (responsesOwed > 0) return;
    if (refusalOnHold != null) {
      writeAndClose(refusalOnHold);
      return;
    }
    idleSinceNanos = System.nanoTime();
    if (bytesSinceLastRequest && !partial) startPartial();
    arm();
  }

  /** Schedules the timer for the current deadline unless one already fires no later than it. */
  private void arm() {
    if (responsesOwed > 0 || refused || !ctx.channel().isActive()) return;
    long deadline = deadline();
    if (timer != null) {
      if (timerDeadlineNanos - deadline <= 0) return; // it fires first and looks again
      timer.cancel(false);
    }
    timerDeadlineNanos = deadline;
    timer = ctx.executor().schedule(this::expire, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  private long deadline() {
    return partial ? partialSinceNanos + limits.readTimeoutNanos() : idleSinceNanos + limits.keepAliveNanos();
  }

  private void expire() {
    timer = null;
    if (responsesOwed > 0 || refused || !ctx.channel().isActive()) return;
    if (System.nanoTime() - deadline() < 0) {
      arm();
      return;
    }
    if (!partial) {
      ctx.close(); // idle keep-alive connection
      return;
    }
    limits.readTimeouts.event("Request from {} not complete after {} s (--request-read-timeout): 408",
        ctx.channel().remoteAddress(), limits.readTimeoutNanos() / 1e9);
    // From the head, so that the body gathered so far is dropped too.
    ctx.pipeline().fireUserEventTriggered(new RefuseRequest(new ApiException(HttpResponseStatus.REQUEST_TIMEOUT,
        "RequestTimeoutError", "The request did not arrive completely within " + limits.readTimeoutNanos() / 1e9
            + " s (--request-read-timeout)", null)));
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof RefuseRequest refusal) refuse(refusal.error());
    else ctx.fireUserEventTriggered(event);
  }

  /**
   * Answers a request that has not fully arrived, and closes: its unread rest cannot be told from a next request.
   * Responses still owed to earlier pipelined requests (a stream, say) are finished first.
   */
  private void refuse(ApiException error) {
    refused = true;
    if (responsesOwed > 0) {
      refusalOnHold = error;
    } else {
      writeAndClose(error);
    }
  }

  private void writeAndClose(ApiException error) {
    refusalOnHold = null;
    ctx.writeAndFlush(ClosingError.response(error)).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (timer != null) timer.cancel(false);
    timer = null;
    ctx.fireChannelInactive();
  }
}
