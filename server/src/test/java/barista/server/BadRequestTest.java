package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The bad-input catalogue: each case gets its exact status and OpenAI error body, and the server keeps serving. */
class BadRequestTest {
  private static final String CHAT = "/v1/chat/completions";
  private static final String COMPLETIONS = "/v1/completions";
  private static final String USER = "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]";
  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new TestServer();
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        bad("invalid JSON", CHAT, "{\"messages\":", null),
        bad("JSON not an object", CHAT, "[1,2]", null),
        bad("empty body", CHAT, "", null),
        bad("missing messages", CHAT, "{}", "messages"),
        bad("empty messages", CHAT, "{\"messages\":[]}", "messages"),
        bad("messages not an array", CHAT, "{\"messages\":\"Hi\"}", "messages"),
        bad("message not an object", CHAT, "{\"messages\":[\"Hi\"]}", "messages[0]"),
        bad("message without role", CHAT, "{\"messages\":[{\"content\":\"Hi\"}]}", "messages[0].role"),
        bad("message without content", CHAT, "{\"messages\":[{\"role\":\"user\"}]}", "messages[0].content"),
        bad("unknown role", CHAT, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"Hi\"}]}", "messages[0].role"),
        bad("role not a string", CHAT, "{\"messages\":[{\"role\":1,\"content\":\"Hi\"}]}", "messages[0].role"),
        bad("image part", CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
            + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}}]}]}", "messages[0].content[1]"),
        bad("template rejects the conversation", CHAT,
            "{\"messages\":[{\"role\":\"user\",\"content\":\"reject me\"}]}", "messages"),
        bad("temperature a string", CHAT, "{" + USER + ",\"temperature\":\"hot\"}", "temperature"),
        bad("temperature negative", CHAT, "{" + USER + ",\"temperature\":-1}", "temperature"),
        bad("temperature huge", CHAT, "{" + USER + ",\"temperature\":1e300}", "temperature"),
        bad("top_p zero", CHAT, "{" + USER + ",\"top_p\":0}", "top_p"),
        bad("top_p over one", CHAT, "{" + USER + ",\"top_p\":1.5}", "top_p"),
        bad("top_k below -1", CHAT, "{" + USER + ",\"top_k\":-2}", "top_k"),
        bad("top_k a float", CHAT, "{" + USER + ",\"top_k\":2.5}", "top_k"),
        bad("min_p over one", CHAT, "{" + USER + ",\"min_p\":2}", "min_p"),
        bad("repetition_penalty zero", CHAT, "{" + USER + ",\"repetition_penalty\":0}", "repetition_penalty"),
        bad("presence_penalty over two", CHAT, "{" + USER + ",\"presence_penalty\":3}", "presence_penalty"),
        bad("frequency_penalty a bool", CHAT, "{" + USER + ",\"frequency_penalty\":true}", "frequency_penalty"),
        bad("n zero", CHAT, "{" + USER + ",\"n\":0}", "n"),
        bad("n over 128", CHAT, "{" + USER + ",\"n\":129}", "n"),
        bad("max_tokens zero", CHAT, "{" + USER + ",\"max_tokens\":0}", "max_tokens"),
        bad("max_tokens negative", CHAT, "{" + USER + ",\"max_tokens\":-5}", "max_tokens"),
        bad("max_tokens over the context", CHAT, "{" + USER + ",\"max_tokens\":1000}", "max_tokens"),
        bad("max_tokens a string", CHAT, "{" + USER + ",\"max_tokens\":\"ten\"}", "max_tokens"),
        bad("min_tokens over max_tokens", CHAT, "{" + USER + ",\"max_tokens\":2,\"min_tokens\":3}", "min_tokens"),
        bad("seed a float", CHAT, "{" + USER + ",\"seed\":1.5}", "seed"),
        bad("stop a number", CHAT, "{" + USER + ",\"stop\":5}", "stop"),
        bad("stop with an empty string", CHAT, "{" + USER + ",\"stop\":[\"\"]}", "stop"),
        bad("more than 16 stop strings", CHAT, "{" + USER + ",\"stop\":[" + "\"s\",".repeat(16) + "\"t\"]}", "stop"),
        bad("stop_token_ids not integers", CHAT, "{" + USER + ",\"stop_token_ids\":[\"a\"]}", "stop_token_ids"),
        bad("top_logprobs over --max-logprobs", CHAT, "{" + USER + ",\"logprobs\":true,\"top_logprobs\":21}",
            "top_logprobs"),
        bad("top_logprobs without logprobs", CHAT, "{" + USER + ",\"top_logprobs\":2}", "top_logprobs"),
        bad("logprobs not a bool", CHAT, "{" + USER + ",\"logprobs\":2}", "logprobs"),
        bad("stream not a bool", CHAT, "{" + USER + ",\"stream\":\"yes\"}", "stream"),
        bad("stream_options without stream", CHAT, "{" + USER + ",\"stream_options\":{\"include_usage\":true}}",
            "stream_options"),
        bad("stream_options field of the wrong type", CHAT,
            "{" + USER + ",\"stream\":true,\"stream_options\":{\"include_usage\":1}}", "stream_options.include_usage"),
        bad("invalid streaming request gets 400 before any event", CHAT,
            "{" + USER + ",\"stream\":true,\"temperature\":-3}", "temperature"),
        bad("priority without --scheduling-policy priority", CHAT, "{" + USER + ",\"priority\":5}", "priority"),
        bad("response_format of an unknown type", CHAT, "{" + USER + ",\"response_format\":{\"type\":\"bogus\"}}",
            "response_format.type"),
        bad("tool of an unknown type", CHAT, "{" + USER + ",\"tools\":[{\"type\":\"retrieval\"}]}", "tools[0].type"),
        bad("tool_choice without tools", CHAT, "{" + USER + ",\"tool_choice\":\"required\"}", "tool_choice"),
        bad("tool_choice auto without --enable-auto-tool-choice", CHAT, "{" + USER + ",\"tools\":[{\"type\":"
            + "\"function\",\"function\":{\"name\":\"f\"}}]}", "tool_choice"),
        bad("functions (deprecated) not honoured", CHAT, "{" + USER + ",\"functions\":[]}", "functions"),
        bad("guided_grammar not honoured", COMPLETIONS, "{\"prompt\":\"x\",\"guided_grammar\":\"a\"}",
            "guided_grammar"),
        bad("json_schema without a name", CHAT, "{" + USER + ",\"response_format\":{\"type\":\"json_schema\","
            + "\"json_schema\":{\"schema\":{}}}}", "response_format.json_schema.name"),
        bad("best_of on chat (completions only)", CHAT, "{" + USER + ",\"best_of\":2}", "best_of"),
        bad("use_beam_search not honoured", CHAT, "{" + USER + ",\"use_beam_search\":true}", "use_beam_search"),
        bad("structured_outputs.grammar not honoured", CHAT, "{" + USER + ",\"structured_outputs\":{\"grammar\":"
            + "\"root ::= x\"}}", "structured_outputs.grammar"),
        bad("model not a string", CHAT, "{" + USER + ",\"model\":7}", "model"),
        of("unknown model", "POST", CHAT, "{" + USER + ",\"model\":\"gpt-4\"}", 404, "NotFoundError", null),
        bad("logit_bias not an object", CHAT, "{" + USER + ",\"logit_bias\":[1]}", "logit_bias"),
        bad("logit_bias key not a token id", CHAT, "{" + USER + ",\"logit_bias\":{\"notanumber\":5}}", "logit_bias"),
        bad("logit_bias value over 100", CHAT, "{" + USER + ",\"logit_bias\":{\"7\":500}}", "logit_bias"),
        bad("logit_bias value under -100", COMPLETIONS, "{\"prompt\":\"x\",\"logit_bias\":{\"7\":-101}}",
            "logit_bias"),
        bad("logit_bias value a string", CHAT, "{" + USER + ",\"logit_bias\":{\"7\":\"up\"}}", "logit_bias.7"),
        bad("logit_bias negative token id", CHAT, "{" + USER + ",\"logit_bias\":{\"-3\":1}}", "logit_bias"),
        bad("seed beyond 64 bits", CHAT, "{" + USER + ",\"seed\":1180591620717411303424}", "seed"),
        bad("beam search on completions", COMPLETIONS, "{\"prompt\":\"x\",\"use_beam_search\":true}",
            "use_beam_search"),
        bad("suffix", COMPLETIONS, "{\"prompt\":\"x\",\"suffix\":\"end\"}", "suffix"),
        bad("best_of below n", COMPLETIONS, "{\"prompt\":\"x\",\"n\":2,\"best_of\":1}", "best_of"),
        bad("best_of above n streamed", COMPLETIONS, "{\"prompt\":\"x\",\"best_of\":3,\"stream\":true}", "best_of"),
        bad("best_of over 128", COMPLETIONS, "{\"prompt\":\"x\",\"best_of\":129}", "best_of"),
        bad("reasoning budget without a reasoning parser", CHAT, "{" + USER + ",\"max_reasoning_tokens\":8}",
            "max_reasoning_tokens"),
        bad("reasoning_effort without a reasoning parser", CHAT, "{" + USER + ",\"reasoning_effort\":\"low\"}",
            "reasoning_effort"),
        of("a near miss of a served name", "POST", CHAT, "{" + USER + ",\"model\":\"fake-mode\"}", 404,
            "NotFoundError", null),
        bad("missing prompt", COMPLETIONS, "{}", "prompt"),
        bad("empty prompt", COMPLETIONS, "{\"prompt\":\"\"}", "prompt"),
        bad("prompt an object", COMPLETIONS, "{\"prompt\":{}}", "prompt"),
        bad("prompt of mixed lists", COMPLETIONS, "{\"prompt\":[\"a\",[1],{}]}", "prompt"),
        bad("prompt token id outside the vocabulary", COMPLETIONS, "{\"prompt\":[1,70000]}", "prompt"),
        bad("negative prompt token id", COMPLETIONS, "{\"prompt\":[[-1]]}", "prompt"),
        bad("prompt over --max-model-len", COMPLETIONS, "{\"prompt\":\"" + "x".repeat(300) + "\"}", "prompt"),
        bad("logprobs over --max-logprobs", COMPLETIONS, "{\"prompt\":\"x\",\"logprobs\":21}", "logprobs"),
        bad("prompt_logprobs while streaming", COMPLETIONS,
            "{\"prompt\":\"x\",\"prompt_logprobs\":1,\"stream\":true}", "prompt_logprobs"),
        bad("detokenize ids outside the vocabulary", "/detokenize", "{\"tokens\":[99999]}", "tokens"),
        bad("tokenize without prompt", "/tokenize", "{}", "prompt"),
        of("unknown path", "POST", "/v1/nothing", "{}", 404, "NotFoundError", null),
        of("wrong method", "GET", CHAT, null, 405, "MethodNotAllowedError", null),
        of("wrong method on health", "POST", "/health", "{}", 405, "MethodNotAllowedError", null));
  }

  private static Arguments bad(String name, String path, String body, String param) {
    return of(name, "POST", path, body, 400, "BadRequestError", param);
  }

  private static Arguments of(String name, String method, String path, String body, int status, String type,
      String param) {
    return Arguments.of(name, method, path, body, status, type, param);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void answersWithTheErrorThenServesAGoodRequest(String name, String method, String path, String body, int status,
      String type, String param) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(server.uri(path)).header("Content-Type", "application/json");
    request.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> response = server.client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertError(response, status, type, param);
    if (status == 405) assertEquals(path.equals(CHAT) ? "POST" : "GET", response.headers().firstValue("allow").orElseThrow());
    assertGoodRequestStillWorks();
  }

  @Test
  void nonJsonContentTypeIs415() throws Exception {
    HttpResponse<String> response = server.client.send(HttpRequest.newBuilder(server.uri(CHAT))
        .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{" + USER + "}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertError(response, 415, "UnsupportedMediaTypeError", null);
    HttpResponse<String> missing = server.client.send(HttpRequest.newBuilder(server.uri(CHAT))
        .POST(HttpRequest.BodyPublishers.ofString("{" + USER + "}")).build(), HttpResponse.BodyHandlers.ofString());
    assertError(missing, 415, "UnsupportedMediaTypeError", null);
    assertGoodRequestStillWorks();
  }

  @Test
  void invalidUtf8Is400() throws Exception {
    byte[] body = "{\"prompt\":\"ab\"}".getBytes(StandardCharsets.UTF_8);
    body[11] = (byte) 0xC3; // a lead byte followed by an ASCII byte
    HttpResponse<String> response = server.client.send(HttpRequest.newBuilder(server.uri(COMPLETIONS))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertError(response, 400, "BadRequestError", null);
    assertGoodRequestStillWorks();
  }

  /** Overlong, encoded surrogates (CESU-8), a lone continuation, truncated, beyond U+10FFFF, bytes never used. */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"C0AF", "E080AF", "EDA080", "EDBFBF", "80", "E282",
      "F4908080", "F5808080", "FF"})
  void invalidUtf8InEveryFormIs400(String hex) throws Exception {
    byte[] bad = java.util.HexFormat.of().parseHex(hex);
    java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
    body.writeBytes("{\"prompt\":\"a".getBytes(StandardCharsets.UTF_8));
    body.writeBytes(bad);
    body.writeBytes("b\",\"max_tokens\":2}".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> response = server.client.send(HttpRequest.newBuilder(server.uri(COMPLETIONS))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertError(response, 400, "BadRequestError", null);
    assertTrue(TestServer.json(response).get("error").get("message").asText().contains("UTF-8"), response.body());
  }

  @Test
  void aMalformedPercentEncodingIs400AndThePipelinedRequestBehindItIsAnswered() throws Exception {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.server.port())) {
      socket.getOutputStream().write(("GET /v1/models% HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /v1/models%C0%AF HTTP/1.1\r\nHost: x\r\n\r\n"
          + "GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String responses = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String[] statusLines = java.util.regex.Pattern.compile("HTTP/1\\.1 \\d{3}").matcher(responses).results()
          .map(java.util.regex.MatchResult::group).toArray(String[]::new);
      assertEquals(3, statusLines.length, responses);
      assertTrue(statusLines[0].startsWith("HTTP/1.1 400"), responses);
      assertTrue(statusLines[1].startsWith("HTTP/1.1 400"), responses);
      assertTrue(statusLines[2].startsWith("HTTP/1.1 200"), responses);
      assertTrue(responses.contains("\"type\":\"BadRequestError\""), responses);
    }
  }

  @Test
  void seedMinusOneMeansNoSeedAsInVllm() throws Exception {
    server.engine.arrivals.clear();
    assertEquals(200, server.post(COMPLETIONS, "{\"prompt\":\"ab\",\"max_tokens\":2,\"seed\":-1}").statusCode());
    assertEquals(null, server.engine.arrivals.poll(5, java.util.concurrent.TimeUnit.SECONDS).params().seed());
    assertEquals(200, server.post(COMPLETIONS, "{\"prompt\":\"ab\",\"max_tokens\":2,\"seed\":-2}").statusCode());
    assertEquals(-2L, server.engine.arrivals.poll(5, java.util.concurrent.TimeUnit.SECONDS).params().seed());
  }

  @Test
  void contextLimitMessageStatesEveryNumber() throws Exception {
    HttpResponse<String> response = server.post(CHAT, "{" + USER + ",\"max_tokens\":250}");
    String prompt = "user: Hi\nassistant:";
    assertEquals("This model's maximum context length is 256 tokens. However, you requested "
        + (prompt.length() + 250) + " tokens (" + prompt.length() + " in the messages, 250 in the completion). "
        + "Please reduce the length of the messages or completion.",
        TestServer.json(response).get("error").get("message").asText());
  }

  @Test
  void rangeErrorsSayWhatIsAllowed() throws Exception {
    assertEquals("seed is out of range: it must be between -9223372036854775808 and 9223372036854775807, got "
        + "1180591620717411303424", message(server.post(CHAT, "{" + USER + ",\"seed\":1180591620717411303424}")));
    assertEquals("top_k must be -1 or 0 (disable), or at least 1, got -2",
        message(server.post(CHAT, "{" + USER + ",\"top_k\":-2}")));
  }

  @Test
  void malformedJsonSaysWhereAndWhatWithoutParserInternals() throws Exception {
    String message = message(server.post(CHAT, "{" + USER + ",\n \"max_tokens\": 2,,}"));
    assertTrue(message.startsWith("Invalid JSON in the request body at line 2, column 18: "), message);
    assertFalse(message.contains("Source:") || message.contains("StreamReadFeature"), message);
    assertEquals("Invalid JSON in the request body at line 1, column 17: unexpected end of input",
        message(server.post(COMPLETIONS, "{\"prompt\":\"hi\", ")));
  }

  @Test
  void fieldsSentAsNullOrAtTheirNoOpValueAreAccepted() throws Exception {
    assertEquals(200, server.post(CHAT, "{" + USER + ",\"max_tokens\":2,\"frobnicate\":null}").statusCode());
    assertEquals(200, server.post(COMPLETIONS, "{\"prompt\":\"x\",\"max_tokens\":2,\"best_of\":1,"
        + "\"suffix\":null}").statusCode());
    assertEquals(200, server.post(CHAT, "{" + USER + ",\"max_tokens\":2,\"logit_bias\":{\"5\":-100,\"6\":100}}")
        .statusCode());
  }

  private static String message(HttpResponse<String> response) throws Exception {
    assertEquals(400, response.statusCode(), response.body());
    return TestServer.json(response).get("error").get("message").asText();
  }

  static void assertError(HttpResponse<String> response, int status, String type, String param) throws Exception {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("content-type").orElseThrow());
    JsonNode error = TestServer.json(response).get("error");
    assertEquals(type, error.get("type").asText(), response.body());
    assertEquals(status, error.get("code").asInt());
    assertFalse(error.get("message").asText().isBlank());
    if (param == null) {
      assertTrue(error.get("param").isNull(), response.body());
    } else {
      assertEquals(param, error.get("param").asText(), response.body());
    }
  }

  private static void assertGoodRequestStillWorks() throws Exception {
    HttpResponse<String> good = server.post(CHAT, "{" + USER + ",\"max_tokens\":2}");
    assertEquals(200, good.statusCode(), good.body());
  }
}
