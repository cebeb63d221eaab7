package barista.server.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/** Aggregates request bodies up to a limit; a larger body gets 413 with an OpenAI error body, then the connection closes. */
final class BodyLimitAggregator extends HttpObjectAggregator {
  private final int maxBytes;

  BodyLimitAggregator(int maxBytes) {
    super(maxBytes);
    this.maxBytes = maxBytes;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    ApiException error = new ApiException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "RequestEntityTooLargeError",
        "The request body is larger than " + maxBytes + " bytes (--max-request-body-size)", null);
    byte[] body = Json.bytes(Json.errorBody(error));
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, error.status(), Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    HttpUtil.setContentLength(response, body.length);
    // The unread rest of the body would be taken for the next request: close instead.
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}
