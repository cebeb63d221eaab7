package barista.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.models.Model;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK, unchanged, against the real server: what a Java user points at /v1. */
class OpenAiJavaSdkTest {
  private static final String MODEL = "barista-tiny";
  private static RealServer server;
  private static OpenAIClient client;

  @BeforeAll
  static void start() throws Exception {
    server = RealServer.start("--served-model-name", MODEL);
    client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("unused").maxRetries(0).build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  private static ChatCompletionCreateParams chat(String model, long maxTokens) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("Hello there")
        .maxCompletionTokens(maxTokens).temperature(0.0).build();
  }

  /** A class the SDK turns into a strict JSON schema, as Java users ask for structured output. */
  public static class Person {
    public String name;
    public long age;
    public List<String> tags;
  }

  @Test
  void responseFormatJsonObjectAndAClassSchemaGiveValidJson() throws Exception {
    ChatCompletion json = client.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
        .addUserMessage("Reply in JSON").maxCompletionTokens(120).seed(1L)
        .responseFormat(com.openai.models.ResponseFormatJsonObject.builder().build()).build());
    assertEquals(ChatCompletion.Choice.FinishReason.STOP, json.choices().get(0).finishReason());
    assertTrue(RealServer.JSON.readTree(json.choices().get(0).message().content().orElseThrow()).isObject());

    var structured = client.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
        .addUserMessage("Who?").maxCompletionTokens(150).seed(2L).responseFormat(Person.class).build());
    Person person = structured.choices().get(0).message().content().orElseThrow();
    assertTrue(person.name != null && person.tags != null, "the SDK parsed its own schema's answer");
  }

  @Test
  void toolChoiceRequiredGivesAToolCall() throws Exception {
    com.openai.models.FunctionDefinition weather = com.openai.models.FunctionDefinition.builder().name("get_weather")
        .parameters(com.openai.models.FunctionParameters.builder()
            .putAdditionalProperty("type", com.openai.core.JsonValue.from("object"))
            .putAdditionalProperty("properties", com.openai.core.JsonValue.from(
                java.util.Map.of("city", java.util.Map.of("type", "string", "maxLength", 20))))
            .putAdditionalProperty("required", com.openai.core.JsonValue.from(List.of("city"))).build())
        .build();
    ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
        .addUserMessage("Weather?").maxCompletionTokens(60).seed(3L).addFunctionTool(weather)
        .toolChoice(com.openai.models.chat.completions.ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
    assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, c.choices().get(0).finishReason());
    var call = c.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
    assertTrue(call.id().startsWith("call_"));
    assertEquals("get_weather", call.function().name());
    assertTrue(RealServer.JSON.readTree(call.function().arguments()).get("city").isTextual());
  }

  @Test
  void listsTheServedModel() {
    List<Model> models = client.models().list().data();
    assertEquals(List.of(MODEL), models.stream().map(Model::id).toList());
  }

  @Test
  void chatStreamedAndWholeAgree() {
    ChatCompletion whole = client.chat().completions().create(chat(MODEL, 16));
    assertTrue(whole.id().startsWith("chatcmpl-"));
    assertEquals(MODEL, whole.model());
    String content = whole.choices().get(0).message().content().orElse("");
    assertEquals(16, whole.usage().orElseThrow().completionTokens());

    StringBuilder streamed = new StringBuilder();
    int chunks = 0;
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chat(MODEL, 16))) {
      for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
        chunks++;
        chunk.choices().forEach(c -> c.delta().content().ifPresent(streamed::append));
      }
    }
    assertTrue(chunks > 2, "a chunk per token, got " + chunks);
    assertEquals(content, streamed.toString());
  }

  @Test
  void completionMatchesItsStream() {
    CompletionCreateParams params = CompletionCreateParams.builder().model(MODEL).prompt("Once upon a time")
        .maxTokens(12).temperature(0.0).build();
    Completion whole = client.completions().create(params);
    assertTrue(whole.id().startsWith("cmpl-"));
    String text = whole.choices().get(0).text();

    StringBuilder streamed = new StringBuilder();
    try (StreamResponse<Completion> stream = client.completions().createStreaming(params)) {
      stream.stream().forEach(chunk -> chunk.choices().forEach(c -> streamed.append(c.text())));
    }
    assertEquals(text, streamed.toString());
  }

  @Test
  void badRequestsRaiseTheSdksTypedErrors() {
    BadRequestException tooLong = assertThrows(BadRequestException.class,
        () -> client.chat().completions().create(chat(MODEL, 100_000)));
    assertEquals(400, tooLong.statusCode());
    assertTrue(tooLong.getMessage().contains("512"), tooLong.getMessage());

    NotFoundException unknown = assertThrows(NotFoundException.class,
        () -> client.chat().completions().create(chat("no-such-model", 4)));
    assertEquals(404, unknown.statusCode());
  }
}
