package barista.server.reliability;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A plain socket, for a client that hangs up at a chosen moment (HttpClient cannot). */
final class RawConnection implements AutoCloseable {
  private final Socket socket;
  private final ByteArrayOutputStream read = new ByteArrayOutputStream();

  RawConnection(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(30_000);
  }

  /** A connection from another loopback address (127.0.0.2, say): another client to the server. */
  RawConnection(String localAddress, int port) throws IOException {
    socket = new Socket("127.0.0.1", port, java.net.InetAddress.getByName(localAddress), 0);
    socket.setSoTimeout(30_000);
  }

  /** Sends one POST with a JSON body. */
  RawConnection post(String path, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    String head = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\n\r\n";
    socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().write(body);
    socket.getOutputStream().flush();
    return this;
  }

  /** Sends {@code text} as is (a partial request, say). */
  RawConnection send(String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
    socket.getOutputStream().flush();
    return this;
  }

  /** Everything the server sends until it closes the connection (fails after the 30 s read timeout). */
  String readToEnd() throws IOException {
    read.write(socket.getInputStream().readAllBytes());
    return read.toString(StandardCharsets.UTF_8);
  }

  /** Reads until {@code marker} has arrived {@code times} times in all; returns everything read so far. */
  String readUntil(String marker, int times) throws IOException {
    InputStream in = socket.getInputStream();
    byte[] buffer = new byte[4096];
    while (count(read.toString(StandardCharsets.UTF_8), marker) < times) {
      int n = in.read(buffer);
      if (n < 0) throw new IOException("closed before '" + marker + "' x" + times + ": " + read);
      read.write(buffer, 0, n);
    }
    return read.toString(StandardCharsets.UTF_8);
  }

  private static int count(String text, String marker) {
    int count = 0;
    for (int i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + marker.length())) count++;
    return count;
  }

  /** The client goes away without reading the rest. */
  @Override
  public void close() throws IOException {
    socket.close();
  }
}
