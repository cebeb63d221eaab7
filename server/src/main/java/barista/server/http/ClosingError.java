package barista.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * The error answers of the connection layer (timeouts, limits, the Expect path): OpenAI's error body, with
 * {@code Connection: close} because the connection ends after them, and {@code Retry-After} on a 503.
 */
final class ClosingError {
  private ClosingError() {}

  static FullHttpResponse response(ApiException error) {
    byte[] body = Json.bytes(Json.errorBody(error));
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, error.status(), Unpooled.wrappedBuffer(body));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    if (error.status().equals(HttpResponseStatus.SERVICE_UNAVAILABLE)) {
      response.headers().set(HttpHeaderNames.RETRY_AFTER, 1);
    }
    HttpUtil.setContentLength(response, body.length);
    return response;
  }

  /** The same answer as bytes on the wire, for a connection that has no HTTP codec. */
  static ByteBuf encoded(ApiException error) {
    FullHttpResponse response = response(error);
    StringBuilder head = new StringBuilder("HTTP/1.1 ").append(response.status()).append("\r\n");
    response.headers().forEach(h -> head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n"));
    head.append("\r\n");
    ByteBuf wire = Unpooled.copiedBuffer(Unpooled.wrappedBuffer(head.toString().getBytes(StandardCharsets.US_ASCII)),
        response.content());
    response.release();
    return Unpooled.unreleasableBuffer(wire.asReadOnly());
  }
}
