package barista.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The bytes of response this connection has written that its client has not taken yet (those in Netty's outbound
 * buffer, which the kernel's socket buffer did not accept), counted in the shared --max-pending-response-bytes.
 * It sits first in the pipeline, where responses are bytes. {@link ApiHandler} starts a connection's next request
 * only when this backlog is empty, so a client that pipelines requests and never reads holds one response at most;
 * a backlog the client takes nothing of for --response-stall-timeout closes the connection (logged, rate-limited).
 * Every write's promise gives its bytes back, written or failed, so a closed connection returns all it held.
 * Confined to the connection's event loop.
 */
final class ResponseBacklog extends ChannelOutboundHandlerAdapter {
  private final ConnectionLimits limits;
  private ChannelHandlerContext ctx;
  private long unread;
  private long takenTotal; // bytes the client has taken since the connection opened: progress
  private Runnable whenEmpty;
  private ScheduledFuture<?> stallCheck;
  private long lastProgressNanos;
  private long seenTaken;
  private Object seenMessage;
  private long seenMessageProgress;

  ResponseBacklog(ConnectionLimits limits) {
    this.limits = limits;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    long bytes = sizeOf(msg);
    if (bytes == 0) {
      ctx.write(msg, promise);
      return;
    }
    if (unread == 0) lastProgressNanos = System.nanoTime();
    unread += bytes;
    limits.responseBytesWritten(bytes);
    promise = promise.unvoid();
    promise.addListener(done -> taken(bytes));
    ctx.write(msg, promise);
    if (stallCheck == null) scheduleStallCheck();
  }

  private static long sizeOf(Object msg) {
    if (msg instanceof ByteBuf buf) return buf.readableBytes();
    if (msg instanceof ByteBufHolder holder) return holder.content().readableBytes();
    if (msg instanceof FileRegion region) return region.count() - region.transferred();
    return 0;
  }

  private void taken(long bytes) {
    unread -= bytes;
    takenTotal += bytes;
    limits.responseBytesTaken(bytes);
    if (unread == 0 && whenEmpty != null) {
      Runnable run = whenEmpty;
      whenEmpty = null;
      ctx.executor().execute(run); // not inside the write's completion: the next request starts afresh
    }
  }

  /** Whether every byte written so far has been taken by the client. */
  boolean isEmpty() {
    return unread == 0;
  }

  /** Runs {@code then} on the event loop once the backlog is empty (the connection may close first: then never). */
  void whenEmpty(Runnable then) {
    if (unread == 0) {
      then.run();
    } else {
      whenEmpty = then;
    }
  }

  /** Looks at the backlog four times per timeout, so a stall is found between 1 and 1.25 timeouts after it began. */
  private void scheduleStallCheck() {
    stallCheck = ctx.executor().schedule(this::checkStall, Math.max(1, limits.stallTimeoutNanos() / 4),
        TimeUnit.NANOSECONDS);
  }

  private void checkStall() {
    stallCheck = null;
    if (unread == 0 || !ctx.channel().isActive()) return;
    long now = System.nanoTime();
    // Progress: whole writes taken, or part of the one being written now (a large response read slowly).
    ChannelOutboundBuffer outbound = ctx.channel().unsafe().outboundBuffer();
    Object message = outbound == null ? null : outbound.current();
    long messageProgress = outbound == null ? 0 : outbound.currentProgress();
    if (takenTotal != seenTaken || message != seenMessage || messageProgress != seenMessageProgress) {
      seenTaken = takenTotal;
      seenMessage = message;
      seenMessageProgress = messageProgress;
      lastProgressNanos = now;
    }
    if (now - lastProgressNanos >= limits.stallTimeoutNanos()) {
      limits.stalledResponses.event("Closed the connection of {}: its client took no byte of its {} bytes of "
          + "response for {} s (--response-stall-timeout)", ctx.channel().remoteAddress(), unread,
          limits.stallTimeoutNanos() / 1e9);
      ctx.close();
      return;
    }
    scheduleStallCheck();
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    cancelStallCheck();
    ctx.close(promise);
  }

  private void cancelStallCheck() {
    if (stallCheck != null) stallCheck.cancel(false);
    stallCheck = null;
  }
}
