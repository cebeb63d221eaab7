package barista.server.http;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * The whole pipeline of a connection beyond --max-connections: it writes the prepared 503 (no HTTP codec is set up
 * for it) and closes its side. The socket then lingers for up to {@link #LINGER_MILLIS} reading and dropping what
 * the client sends, until the client hangs up: closing with unread request bytes would send a TCP reset, which can
 * destroy the 503 before the client reads it. A bounded number linger at a time (half the descriptors the server
 * keeps in reserve), so a flood cannot pile up file descriptors; beyond that the socket closes at once.
 */
final class ConnectionRefusal extends ChannelInboundHandlerAdapter {
  static final long LINGER_MILLIS = 1000;

  private final ConnectionLimits limits;

  ConnectionRefusal(ConnectionLimits limits) {
    this.limits = limits;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    limits.connectionRefusals.event("Refused a connection from {}: {} connections are open (--max-connections)",
        ctx.channel().remoteAddress(), limits.maxConnections());
    ctx.writeAndFlush(limits.tooManyConnectionsResponse()).addListener(written -> linger(ctx, (ChannelFuture) written));
  }

  private void linger(ChannelHandlerContext ctx, ChannelFuture written) {
    if (!written.isSuccess() || !limits.tryLinger()) {
      ctx.close();
      return;
    }
    ctx.channel().closeFuture().addListener(closed -> limits.lingerEnded());
    ((SocketChannel) ctx.channel()).shutdownOutput();
    ctx.executor().schedule(() -> ctx.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
