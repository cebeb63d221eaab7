package barista.server.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import java.util.regex.Pattern;

/**
 * A JSON syntax error said in a client's terms: where (line and column of the body) and what, without Jackson's
 * class names, source descriptions or feature flags.
 */
final class JsonSyntaxError {
  /** Jackson's "('}' (code 125))": the character is enough. */
  private static final Pattern CHARACTER_CODE = Pattern.compile("\\('(.+?)' \\(code \\d+\\)\\)");
  /** Where Jackson starts describing its own state: source, start marker, feature flags. */
  private static final Pattern INTERNALS = Pattern.compile("\\s*(\\(start marker|\\[Source|at \\[Source|\\(through reference).*",
      Pattern.DOTALL);

  private JsonSyntaxError() {}

  /** "Invalid JSON in the request body at line L, column C: what", one line. */
  static String describe(JsonProcessingException e) {
    JsonLocation at = e.getLocation();
    String where = at == null || at.getLineNr() < 1 ? ""
        : " at line " + at.getLineNr() + ", column " + Math.max(1, at.getColumnNr());
    return "Invalid JSON in the request body" + where + ": " + what(e);
  }

  private static String what(JsonProcessingException e) {
    String message = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    if (e instanceof JsonEOFException || message.startsWith("Unexpected end-of-input")) return "unexpected end of input";
    message = message.lines().findFirst().orElse("");
    message = INTERNALS.matcher(message).replaceFirst("");
    message = CHARACTER_CODE.matcher(message).replaceAll("'$1'");
    message = message.replace("(JSON String, Number, Array, Object or token 'null', 'true' or 'false')", "a JSON value");
    if (message.isBlank() || message.contains("Source:") || message.contains("Feature")) return "malformed JSON";
    message = message.strip();
    return Character.toLowerCase(message.charAt(0)) + message.substring(1);
  }
}
