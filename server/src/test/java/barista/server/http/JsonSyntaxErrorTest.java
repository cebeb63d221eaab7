package barista.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonSyntaxErrorTest {

  @Test
  void saysWhereAndWhatInTheClientsTerms() {
    assertDescribed("{\"prompt\":\"hi\", ", "at line 1, column 17: unexpected end of input");
    assertDescribed("{\"messages\":[{\"role\":\"user\"}", "at line 1, column 29: unexpected end of input");
    assertDescribed("{\"a\":1,}", "at line 1, column 8: unexpected character '}': was expecting double-quote to "
        + "start field name");
    assertDescribed("{\"a\":tru}", "at line 1, column 10: unrecognized token 'tru': was expecting a JSON value");
    assertDescribed("{\"a\":1\n\"b\":2}", "at line 2, column 1: unexpected character '\"': was expecting comma to "
        + "separate Object entries");
    assertDescribed("{'a':1}", "at line 1, column 2: unexpected character ''': was expecting double-quote to start "
        + "field name");
  }

  private static void assertDescribed(String body, String whereAndWhat) {
    String message = describe(body);
    assertEquals("Invalid JSON in the request body " + whereAndWhat, message);
    assertFalse(message.contains("Source:") || message.contains("StreamReadFeature") || message.contains("code "),
        message);
  }

  /** Parsed from bytes, as {@link Exchange#jsonBody} reads a request. */
  private static String describe(String body) {
    JsonProcessingException e = assertThrows(JsonProcessingException.class,
        () -> Json.MAPPER.readTree(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8))));
    return JsonSyntaxError.describe(e);
  }
}
