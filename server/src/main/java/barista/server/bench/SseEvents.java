package barista.server.bench;

import java.io.BufferedReader;
import java.io.IOException;

/**
 * Reads the data of server-sent events (text/event-stream) one event at a time: "data:" lines are joined with
 * newlines, a blank line ends the event; comments (":") and other fields (event, id, retry) are skipped.
 */
final class SseEvents {
  private final BufferedReader reader;

  SseEvents(BufferedReader reader) {
    this.reader = reader;
  }

  /** The next event's data, or null at the end of the stream (an unterminated last event still counts). */
  String next() throws IOException {
    StringBuilder data = null;
    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
      if (line.isEmpty()) {
        if (data != null) return data.toString();
        continue;
      }
      if (!line.startsWith("data:")) continue;
      String value = line.substring(line.startsWith("data: ") ? 6 : 5);
      if (data == null) data = new StringBuilder(value);
      else data.append('\n').append(value);
    }
    return data == null ? null : data.toString();
  }
}
