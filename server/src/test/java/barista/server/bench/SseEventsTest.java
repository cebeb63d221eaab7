package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseEventsTest {

  private static List<String> events(String stream) throws IOException {
    SseEvents events = new SseEvents(new BufferedReader(new StringReader(stream)));
    List<String> all = new ArrayList<>();
    for (String data = events.next(); data != null; data = events.next()) all.add(data);
    return all;
  }

  @Test
  void eachBlankLineEndsAnEvent() throws IOException {
    assertEquals(List.of("{\"a\":1}", "{\"b\":2}", "[DONE]"),
        events("data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n"));
  }

  @Test
  void multiLineDataIsJoinedWithNewlines() throws IOException {
    assertEquals(List.of("one\ntwo"), events("data: one\ndata: two\n\n"));
  }

  @Test
  void commentsOtherFieldsAndExtraBlankLinesAreSkipped() throws IOException {
    assertEquals(List.of("x", "y"), events(": keep-alive\n\nevent: message\nid: 7\ndata:x\n\n\n\nretry: 10\ndata: y\n\n"));
  }

  @Test
  void crlfLineEndsAndAnUnterminatedLastEvent() throws IOException {
    assertEquals(List.of("first", "last"), events("data: first\r\n\r\ndata: last"));
  }

  @Test
  void emptyStreamHasNoEvents() throws IOException {
    assertEquals(List.of(), events(""));
  }
}
