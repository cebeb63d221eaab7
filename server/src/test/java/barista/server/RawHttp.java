package barista.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A plain socket for what HttpClient cannot send: HTTP/1.0, pipelined requests, oversized headers, hang-ups. */
final class RawHttp implements AutoCloseable {
  private final Socket socket;

  RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(10_000);
  }

  void send(String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    socket.getOutputStream().flush();
  }

  /** Everything the server sends until it closes the connection. */
  String readToEnd() throws IOException {
    return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }

  /** Reads until {@code marker} has arrived; returns all read so far. */
  String readUntil(String marker) throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    while (!read.toString(StandardCharsets.UTF_8).contains(marker)) {
      int n = in.read(buffer);
      if (n < 0) throw new IOException("closed before '" + marker + "': " + read.toString(StandardCharsets.UTF_8));
      read.write(buffer, 0, n);
    }
    return read.toString(StandardCharsets.UTF_8);
  }

  static String post(String version, String path, String body, String extraHeaders) {
    return "POST " + path + " " + version + "\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n" + extraHeaders + "\r\n" + body;
  }

  /** The client goes away mid-request. */
  void hangUp() throws IOException {
    socket.close();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
