package barista.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.client.ResponseEntity;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.converter.BeanOutputConverter;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.openai.api.OpenAiApi;
import org.springframework.ai.openai.api.ResponseFormat;

/**
 * Spring AI's ChatClient over its OpenAI chat model, as its users write it: {@code .entity(Record.class)} with the
 * record's JSON schema (BeanOutputConverter's, which writes {@code format} date, date-time and uuid for LocalDate,
 * LocalDateTime and UUID) as the response format. The raw output is validated by networknt with format assertions on.
 */
class SpringAiTest {
  record Meeting(String title, LocalDate day, LocalDateTime start, UUID id, int attendees) {}

  @Test
  void entityOfARecordWithDatesAndAUuid() throws Exception {
    try (RealServer server = RealServer.start("--served-model-name", "barista-tiny", "--max-model-len", "2048")) {
      String root = server.baseUrl().replaceAll("/v1/?$", "");
      OpenAiApi api = OpenAiApi.builder().baseUrl(root).apiKey("unused").build();
      OpenAiChatModel model = OpenAiChatModel.builder().openAiApi(api).defaultOptions(OpenAiChatOptions.builder()
          .model("barista-tiny").maxTokens(400).seed(11).build()).build();
      String schema = new BeanOutputConverter<>(Meeting.class).getJsonSchema();
      assertTrue(schema.contains("\"date-time\"") && schema.contains("\"uuid\"") && schema.contains("\"date\""),
          schema);
      for (int seed = 11; seed < 14; seed++) {
        ResponseEntity<ChatResponse, Meeting> r = ChatClient.create(model).prompt().user("Plan a meeting.")
            .options(OpenAiChatOptions.builder().seed(seed)
                .responseFormat(new ResponseFormat(ResponseFormat.Type.JSON_SCHEMA, schema)).build())
            .call().responseEntity(Meeting.class);
        Meeting meeting = r.entity();
        assertNotNull(meeting);
        assertNotNull(meeting.day());
        assertNotNull(meeting.start());
        assertNotNull(meeting.id());
        String text = r.response().getResult().getOutput().getText();
        assertEquals("STOP", r.response().getResult().getMetadata().getFinishReason().toUpperCase(), text);
        JsonNode value = RealServer.JSON.readTree(text);
        Set<ValidationMessage> errors = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
            .getSchema(schema, SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build())
            .validate(value);
        assertTrue(errors.isEmpty(), text + ": " + errors);
      }
    }
  }
}
