package barista.server;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;

/**
 * The listening socket, bound before the model loads so that a busy port or a wrong --host fails in a second rather
 * than after minutes of loading, and so that nothing takes the port meanwhile (vLLM binds early too).
 */
final class ListenAddress {
  /** Connections the kernel queues before they are accepted (also while the model is still loading). */
  static final int BACKLOG = 1024;

  private ListenAddress() {}

  /** Binds host:port; throws IllegalArgumentException "cannot listen on HOST:PORT: why" when it cannot. */
  static ServerSocketChannel reserve(String host, int port) {
    String shown = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    InetSocketAddress address = new InetSocketAddress(host, port);
    if (address.isUnresolved()) throw new IllegalArgumentException("cannot listen on " + shown + ": unknown host");
    ServerSocketChannel channel = null;
    try {
      channel = ServerSocketChannel.open();
      channel.bind(address, BACKLOG);
      return channel;
    } catch (IOException e) {
      try {
        if (channel != null) channel.close();
      } catch (IOException ignored) {
        // the bind failed; nothing is held
      }
      String why = e instanceof BindException && String.valueOf(e.getMessage()).contains("in use")
          ? "address already in use" : String.valueOf(e.getMessage()).toLowerCase();
      throw new IllegalArgumentException("cannot listen on " + shown + ": " + why, e);
    }
  }
}
