package barista.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * Gathers each request body of one connection into one buffer, within the shared pending-body budget of
 * {@link ConnectionLimits}: a body the budget cannot take is refused with 503 ({@link RefuseRequest}, answered by
 * {@link ConnectionTimeouts}). It sits right after the HTTP codec and hands on the request line and headers, then the
 * whole body as one last piece; the budget is returned once that piece has been handed on. A body over
 * --max-request-body-size is not gathered: its pieces go on for the aggregator to answer 413. Confined to the
 * connection's event loop.
 */
final class BodyBudget extends ChannelInboundHandlerAdapter {
  private static final int LARGE_BODY_BYTES = 1 << 20;
  private final ConnectionLimits limits;
  private final int maxBodyBytes;
  private long bodyBytesTaken; // budget held for this connection's body buffer (its capacity)
  private ByteBuf body; // the body arriving; null when none has come yet
  private int bodyMaxBytes; // its declared length, else --max-request-body-size
  private boolean bodyDeclared; // bodyMaxBytes is the declared Content-Length
  private boolean bodyPassThrough; // over --max-request-body-size: its pieces go on for the aggregator to refuse
  private boolean refused; // the request was refused before it was complete: drop the rest until the close

  BodyBudget(ConnectionLimits limits, int maxBodyBytes) {
    this.limits = limits;
    this.maxBodyBytes = maxBodyBytes;
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
        refuse(ctx, declared);
        return;
      }
      if (!(msg instanceof LastHttpContent)) {
        ctx.fireChannelRead(msg);
        return;
      }
      // else a whole message: the codec's stand-in for a malformed request, handed on as the request's end
    } else if (msg instanceof HttpContent content) {
      if (bodyPassThrough) {
        if (msg instanceof LastHttpContent) requestComplete(ctx, msg);
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
        refuse(ctx, piece.readableBytes());
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
    requestComplete(ctx, msg);
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

  private void requestComplete(ChannelHandlerContext ctx, Object last) {
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
   * came in is released by the caller at once: left in Netty's direct buffers, a burst of unfinished bodies cost
   * several times their bytes and stayed resident after it ended (docs/reliability.md). A body stays on the Java
   * heap while it is small (the GC takes it back, see HeapReturn); from LARGE_BODY_BYTES it moves to a direct buffer
   * of its own, outside any pool, freed when the request is released: on the heap each such body was a humongous
   * array for G1, and a burst of them started concurrent cycles and heap growth whose pauses and safepoints held up
   * /health. Where java.nio is open to Netty (the jar's manifest, Main) that buffer is not zeroed, so its pages are
   * touched as its bytes come, not all at once by this event loop (docs/reliability.md).
   */
  private boolean append(ByteBuf piece) {
    int bytes = piece.readableBytes();
    if (bytes == 0) return true;
    if (body == null) body = Unpooled.buffer(0, bodyMaxBytes);
    int needed = body.writerIndex() + bytes;
    if (needed > body.capacity()) {
      // The next power of two, at most the declared length: garbage under the body's size (Netty's own growth
      // steps linearly past 4 MiB), and the capacity depends only on the bytes come so far.
      long powerOfTwo = Long.highestOneBit(Math.max(256, needed) - 1L) << 1;
      int capacity = (int) Math.min(body.maxCapacity(), powerOfTwo);
      // A large declared length is taken whole: one allocation and copy instead of one per doubling (a burst of
      // large bodies once stalled every event loop in allocation).
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

  private void refuse(ChannelHandlerContext ctx, long bytes) {
    limits.bodyRefusals.event("Refused a request body from {}: {} bytes more would exceed --max-pending-body-bytes "
        + "{} ({} bytes of bodies are arriving)", ctx.channel().remoteAddress(), bytes, limits.maxPendingBodyBytes(),
        limits.pendingBodyBytes());
    RefuseRequest refusal = new RefuseRequest(ApiException.overloaded("The server is receiving too many request "
        + "bodies at once (--max-pending-body-bytes " + limits.maxPendingBodyBytes() + "); retry later"));
    stopGathering();
    ctx.fireUserEventTriggered(refusal);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    if (event instanceof RefuseRequest) stopGathering(); // a read timeout: the rest of this request is not wanted
    ctx.fireUserEventTriggered(event);
  }

  private void stopGathering() {
    refused = true;
    dropBody();
  }

  private void dropBody() {
    if (body != null) body.release();
    body = null;
    limits.returnBody(bodyBytesTaken);
    bodyBytesTaken = 0;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    dropBody();
    ctx.fireChannelInactive();
  }
}
