package barista.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection's timeouts and its share of the pending-body budget. It sits right after the HTTP codec, where it
 * sees requests arrive (headers, body pieces, the last piece) and responses leave; {@link #rawReads()} sits before
 * the codec to see the first bytes of a request whose headers are not complete yet.
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
final class ConnectionGuard extends ChannelDuplexHandler {
  private static final int LARGE_BODY_BYTES = 1 << 20;
  private final ConnectionLimits limits;
  private final int maxBodyBytes;
  private ChannelHandlerContext ctx;
  private int responsesOwed;
  private boolean bytesSinceLastRequest;
  private boolean partial;
  private long partialSinceNanos;
  private long idleSinceNanos;
  private long bodyBytesTaken; // budget held for this connection's body buffer (its capacity)
  private ByteBuf body; // the body arriving, on the heap; null when none has come yet
  private int bodyMaxBytes; // its declared length, else --max-request-body-size
  private boolean bodyDeclared; // bodyMaxBytes is the declared Content-Length
  private boolean bodyPassThrough; // over --max-request-body-size: its pieces go on for the aggregator to refuse
  private boolean refused; // answered 408/503 before the request was complete: drop the rest until the close
  private ApiException refusalOnHold; // waits for the responses owed on this connection (pipelining)
  private ScheduledFuture<?> timer;
  private long timerDeadlineNanos;

  ConnectionGuard(ConnectionLimits limits, int maxBodyBytes) {
    this.limits = limits;
    this.maxBodyBytes = maxBodyBytes;
  }

  /** The handler to put before the HTTP codec: it tells this guard when request bytes arrive. */
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
    if (msg instanceof HttpRequest request) {
      long declared = declaredLength(request);
      // Larger than --max-request-body-size: the aggregator answers 413 at once; its pieces go on for it to drop.
      bodyPassThrough = declared > maxBodyBytes;
      bodyMaxBytes = declared >= 0 && !bodyPassThrough ? (int) declared : maxBodyBytes;
      bodyDeclared = declared >= 0 && !bodyPassThrough;
      if (!bodyPassThrough && declared > 0 && !limits.bodyFits(declared)) {
        ReferenceCountUtil.release(msg);
        refuseBody(declared);
        return;
      }
      if (!(msg instanceof LastHttpContent)) {
        ctx.fireChannelRead(msg);
        return;
      }
      // else a whole message: the codec's stand-in for a malformed request, answered as the request's end
    } else if (msg instanceof HttpContent content) {
      if (bodyPassThrough) {
        if (msg instanceof LastHttpContent) requestArrived(ctx, msg);
        else ctx.fireChannelRead(msg);
        return;
      }
      ByteBuf piece = content.content();
      if ((body == null ? 0L : body.writerIndex()) + piece.readableBytes() > bodyMaxBytes) {
        // A chunked body over --max-request-body-size: what came so far goes on, the aggregator answers 413.
        bodyPassThrough = true;
        if (body != null) ctx.fireChannelRead(new DefaultHttpContent(takeBody()));
        ctx.fireChannelRead(msg);
        return;
      }
      if (!append(piece)) {
        ReferenceCountUtil.release(msg);
        refuseBody(piece.readableBytes());
        return;
      }
      if (!(msg instanceof LastHttpContent last)) {
        content.release();
        return;
      }
      DefaultLastHttpContent whole = new DefaultLastHttpContent(body == null ? Unpooled.EMPTY_BUFFER : takeBody());
      whole.trailingHeaders().set(last.trailingHeaders());
      whole.setDecoderResult(last.decoderResult());
      last.release();
      msg = whole;
    } else {
      ctx.fireChannelRead(msg);
      return;
    }
    requestArrived(ctx, msg);
  }

  /** Content-Length, or -1 (none, or a malformed request the codec flagged: the API answers it with 400). */
  private static long declaredLength(HttpRequest request) {
    if (!request.decoderResult().isSuccess()) return -1;
    try {
      return HttpUtil.getContentLength(request, -1L);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void requestArrived(ChannelHandlerContext ctx, Object last) {
    responsesOwed++;
    partial = false;
    bytesSinceLastRequest = false;
    bodyPassThrough = false;
    try {
      ctx.fireChannelRead(last); // aggregated into a full request: no longer a body on its way in
    } finally {
      limits.returnBody(bodyBytesTaken);
      bodyBytesTaken = 0;
    }
  }

  /**
   * Copies a body piece into this request's body buffer, growing it (to at most the declared length) with budget
   * taken for its capacity, not just the bytes in it; false when the budget is spent. The socket buffer the piece
   * came in is released by the caller at once: left in Netty's direct buffers, a burst of unfinished bodies cost up
   * to 2.7x their bytes (a 64 KiB read buffer per few KiB) and stayed resident after it ended (+0.5 to 0.8 GiB of
   * RSS measured, docs/reliability.md). A body stays on the Java heap while it is small (the GC takes it back, see
   * HeapReturn); from 1 MiB it moves to a direct buffer of its own, outside any pool, freed when the request is
   * released: on the heap each such body was a humongous array for G1, and a burst of them started concurrent
   * cycles and heap growth whose pauses and safepoints held up /health (docs/reliability.md).
   */
  private boolean append(ByteBuf piece) {
    int bytes = piece.readableBytes();
    if (bytes == 0) return true;
    if (body == null) body = Unpooled.buffer(0, bodyMaxBytes);
    int needed = body.writerIndex() + bytes;
    if (needed > body.capacity()) {
      // The next power of two, at most the declared length: garbage under 1x the body (Netty's own growth steps
      // by 4 MiB past 4 MiB, ~4x for 30 MiB), and the capacity depends only on the bytes come so far.
      long powerOfTwo = Long.highestOneBit(Math.max(256, needed) - 1L) << 1;
      int capacity = (int) Math.min(body.maxCapacity(), powerOfTwo);
      // Past 1 MiB a declared length is taken whole: one allocation and copy instead of one per doubling (a burst
      // of eight 8 MiB bodies once stalled every event loop in allocation).
      if (capacity >= LARGE_BODY_BYTES && bodyDeclared) capacity = body.maxCapacity();
      if (!limits.tryTakeBody(capacity - body.capacity())) return false;
      bodyBytesTaken += capacity - body.capacity();
      try {
        if (capacity >= LARGE_BODY_BYTES && !body.isDirect()) {
          ByteBuf offHeap = Unpooled.directBuffer(capacity, body.maxCapacity());
          offHeap.writeBytes(body);
          body.release();
          body = offHeap;
        } else {
          body.capacity(capacity);
        }
      } catch (OutOfMemoryError full) {
        // -XX:MaxDirectMemorySize below --max-pending-body-bytes: a 503 as for a spent budget; the body is dropped
        return false;
      }
    }
    body.writeBytes(piece);
    return true;
  }

  /** The body buffer, handed on (its budget is returned once the request is handed on). */
  private ByteBuf takeBody() {
    ByteBuf taken = body;
    body = null;
    return taken;
  }

  private void dropBody() {
    if (body != null) body.release();
    body = null;
    limits.returnBody(bodyBytesTaken);
    bodyBytesTaken = 0;
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
    refuse(new ApiException(HttpResponseStatus.REQUEST_TIMEOUT, "RequestTimeoutError",
        "The request did not arrive completely within " + limits.readTimeoutNanos() / 1e9
            + " s (--request-read-timeout)", null));
  }

  private void refuseBody(long bytes) {
    limits.bodyRefusals.event("Refused a request body from {}: {} bytes more would exceed --max-pending-body-bytes "
        + "{} ({} bytes of bodies are arriving)", ctx.channel().remoteAddress(), bytes, limits.maxPendingBodyBytes(),
        limits.pendingBodyBytes());
    refuse(ApiException.overloaded("The server is receiving too many request bodies at once "
        + "(--max-pending-body-bytes " + limits.maxPendingBodyBytes() + "); retry later"));
  }

  /**
   * Answers a request that has not fully arrived, and closes: its unread rest cannot be told from a next request.
   * Responses still owed to earlier pipelined requests (a stream, say) are finished first.
   */
  private void refuse(ApiException error) {
    refused = true;
    dropBody();
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
    dropBody();
    ctx.fireChannelInactive();
  }
}
