package barista.server.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;

/**
 * Aggregates request bodies up to a limit; a larger body gets 413 with an OpenAI error body, then the connection
 * closes. The {@code Expect} path answers with the same JSON: 413 for {@code 100-continue} with a too-large
 * Content-Length, 417 for any other expectation; the connection closes after both (the client may or may not send
 * the body it announced, so what follows cannot be read reliably as a next request).
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
  private final int maxBytes;

  BodyLimitAggregator(int maxBytes) {
    super(maxBytes, true);
    this.maxBytes = maxBytes;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    // The unread rest of the body would be taken for the next request: close instead.
    ctx.writeAndFlush(ClosingError.response(tooLarge())).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
    String expectation = start.headers().get(HttpHeaderNames.EXPECT); // Netty removes it when it answers
    Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
    if (!(answer instanceof FullHttpResponse netty) || netty.status().codeClass() != HttpStatusClass.CLIENT_ERROR) {
      return answer; // null (no Expect) or 100 Continue
    }
    HttpResponseStatus status = netty.status();
    netty.release();
    if (status.equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE)) return ClosingError.response(tooLarge());
    return ClosingError.response(new ApiException(HttpResponseStatus.EXPECTATION_FAILED, "ExpectationFailedError",
        "Unsupported Expect header '" + expectation + "': only 100-continue is supported", null));
  }

  private ApiException tooLarge() {
    return new ApiException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "RequestEntityTooLargeError",
        "The request body is larger than " + maxBytes + " bytes (--max-request-body-size)", null);
  }
}
