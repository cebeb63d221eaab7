package barista.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link BodyBudget} and {@link ConnectionTimeouts} together, as HttpServerInitializer places them after the codec:
 * the body handed on whole with its budget returned, and a refusal from either handler (the budget's 503, the
 * timeouts' 408) dropping the body gathered so far and answered after the responses still owed.
 */
class ConnectionHandlersTest {
  private final List<Object> received = new ArrayList<>();
  private final List<Long> pendingWhenHandedOn = new ArrayList<>();
  private EmbeddedChannel channel;

  @AfterEach
  void release() {
    received.forEach(ReferenceCountUtil::release);
    if (channel != null) channel.finishAndReleaseAll();
  }

  private ConnectionLimits limits(long bodyBudget, double readTimeoutSeconds) {
    return new ConnectionLimits(100, 10, bodyBudget, 60, readTimeoutSeconds, 1 << 20, 30);
  }

  private ConnectionTimeouts open(ConnectionLimits limits) {
    return open(limits, 1 << 20);
  }

  private ConnectionTimeouts open(ConnectionLimits limits, int maxBodyBytes) {
    ConnectionTimeouts timeouts = new ConnectionTimeouts(limits);
    channel = new EmbeddedChannel(timeouts.rawReads(), new BodyBudget(limits, maxBodyBytes), timeouts,
        new ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof LastHttpContent) pendingWhenHandedOn.add(limits.pendingBodyBytes());
            received.add(msg);
          }
        });
    return timeouts;
  }

  private static HttpRequest post(int contentLength) {
    HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/completions");
    request.headers().set(HttpHeaderNames.CONTENT_LENGTH, contentLength);
    return request;
  }

  private static ByteBuf bytes(String text) {
    return Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
  }

  @Test
  void aBodyIsHandedOnAsOneLastPieceAndItsBudgetReturnsAfterward() {
    ConnectionLimits limits = limits(1 << 20, 60);
    open(limits);
    channel.writeInbound(post(11), new DefaultHttpContent(bytes("hello ")), new DefaultLastHttpContent(bytes("world")));
    assertEquals(2, received.size(), "the request line and headers, then the whole body: " + received);
    assertInstanceOf(HttpRequest.class, received.get(0));
    LastHttpContent body = assertInstanceOf(LastHttpContent.class, received.get(1));
    assertEquals("hello world", body.content().toString(StandardCharsets.UTF_8));
    assertTrue(pendingWhenHandedOn.get(0) >= 11, "the budget is held while the body is handed on");
    assertEquals(0, limits.pendingBodyBytes(), "and returned once it has been");
  }

  @Test
  void aLargeBodyArrivesWholeOffTheHeapAndIsFreedWithTheRequest() {
    ConnectionLimits limits = limits(64 << 20, 60);
    open(limits, 16 << 20);
    byte[] sent = new byte[(3 << 20) + 12_345];
    new java.util.Random(7).nextBytes(sent);
    channel.writeInbound(post(sent.length));
    for (int at = 0; at < sent.length; at += 64 << 10) {
      int n = Math.min(64 << 10, sent.length - at);
      ByteBuf bytes = Unpooled.wrappedBuffer(sent, at, n);
      channel.writeInbound(at + n == sent.length ? new DefaultLastHttpContent(bytes) : new DefaultHttpContent(bytes));
    }
    LastHttpContent body = assertInstanceOf(LastHttpContent.class, received.get(1));
    ByteBuf content = body.content();
    assertTrue(content.isDirect(), "held off the heap");
    byte[] got = new byte[content.readableBytes()];
    content.getBytes(content.readerIndex(), got);
    assertTrue(java.util.Arrays.equals(sent, got), "the body arrives byte for byte");
    assertEquals(0, limits.pendingBodyBytes(), "the budget returns once the body is handed on");
    body.release();
    assertEquals(0, content.refCnt(), "and its memory is freed with the request");
    received.remove(1);
  }

  @Test
  void aChunkedBodyOverTheBudgetIsRefusedMidwayAndItsChunksFreed() {
    ConnectionLimits limits = limits(2 << 20, 60);
    open(limits, 16 << 20);
    HttpRequest chunked = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/v1/completions");
    chunked.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
    channel.writeInbound(chunked);
    for (int i = 0; i < 48 && channel.isOpen(); i++) {
      channel.writeInbound(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[64 << 10])));
    }
    FullHttpResponse answer = assertInstanceOf(FullHttpResponse.class, channel.readOutbound());
    assertEquals(503, answer.status().code());
    answer.release();
    assertEquals(0, limits.pendingBodyBytes(), "what was gathered is dropped and its budget returned");
    assertEquals(1, received.size(), "only the request line and headers were handed on: " + received);
  }

  @Test
  void aReadTimeoutDropsTheBodyGatheredSoFarAndAnswers408() {
    ConnectionLimits limits = limits(1 << 20, 0); // the deadline passes as soon as bytes are seen arriving
    open(limits);
    channel.writeInbound(post(100), new DefaultHttpContent(bytes("part of it")));
    assertTrue(limits.pendingBodyBytes() > 0, "a body is being gathered");
    long[] pendingWhenAnswered = {-1};
    channel.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        pendingWhenAnswered[0] = limits.pendingBodyBytes();
        ctx.write(msg, promise);
      }
    });
    channel.writeInbound(bytes("more of it")); // raw bytes, as before the codec: the read timer starts, fires at once
    FullHttpResponse answer = assertInstanceOf(FullHttpResponse.class, channel.readOutbound());
    assertEquals(408, answer.status().code());
    answer.release();
    assertEquals(0, pendingWhenAnswered[0], "the gathered body was dropped before the answer, not at the close");
    assertFalse(channel.isOpen(), "the connection closes after the answer");
  }

  @Test
  void aBodyTheBudgetCannotTakeIsRefusedAfterTheResponseOwedBeforeIt() {
    ConnectionLimits limits = limits(64, 60);
    open(limits);
    channel.writeInbound(post(0), new DefaultLastHttpContent()); // a first request, whole: a response is owed
    channel.writeInbound(post(1000)); // a pipelined one whose declared body is over the budget
    assertEquals(2, received.size(), "the refused request is not handed on: " + received);
    assertNull(channel.readOutbound(), "the refusal waits for the response owed");
    ByteBuf late = bytes("more");
    channel.writeInbound(new DefaultHttpContent(late));
    assertEquals(0, late.refCnt(), "what arrives after a refusal is dropped");
    assertEquals(2, received.size());
    channel.writeOutbound(new DefaultLastHttpContent()); // that response's end
    assertInstanceOf(HttpContent.class, channel.readOutbound());
    FullHttpResponse answer = assertInstanceOf(FullHttpResponse.class, channel.readOutbound());
    assertEquals(503, answer.status().code());
    assertEquals("1", answer.headers().get(HttpHeaderNames.RETRY_AFTER));
    answer.release();
    assertFalse(channel.isOpen(), "the connection closes after the refusal");
  }
}
