package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StreamMeterTest {
  private static final long MS = 1_000_000;
  private static final double EPS = 1e-9;

  private static String chunk(String text, int prompt, int completion) {
    return "{\"choices\":[{\"index\":0,\"text\":\"" + text + "\"}],\"usage\":{\"prompt_tokens\":" + prompt
        + ",\"completion_tokens\":" + completion + "}}";
  }

  @Test
  void usageCountsTokensAndChunkArrivalsTimeThem() {
    StreamMeter meter = new StreamMeter(0);
    meter.onEvent(chunk("a", 5, 1), 100 * MS);
    meter.onEvent(chunk("bc", 5, 3), 130 * MS); // two tokens in one chunk: one gap
    meter.onEvent(chunk("", 5, 4), 150 * MS); // a token with no text yet still counts
    meter.onEvent("{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4}}", 151 * MS);
    meter.onEvent("[DONE]", 152 * MS);
    RequestResult result = meter.result(160 * MS);
    assertTrue(result.success());
    assertEquals(5, result.promptTokens());
    assertEquals(4, result.outputTokens());
    assertEquals(0.1, result.ttft(), EPS);
    assertEquals(List.of(0.03, 0.02), result.interTokenLatencies().stream()
        .map(x -> Math.round(x * 1e6) / 1e6).toList());
    assertEquals(0.16, result.latency(), EPS);
    assertEquals((0.16 - 0.1) / 3, result.timePerOutputToken(), EPS);
  }

  @Test
  void withoutUsageEachChunkWithTextIsOneToken() {
    StreamMeter meter = new StreamMeter(10 * MS);
    meter.onEvent("{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}", 11 * MS);
    meter.onEvent("{\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"hm\"}}]}", 20 * MS);
    meter.onEvent("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}", 25 * MS);
    meter.onEvent("[DONE]", 26 * MS);
    RequestResult result = meter.result(26 * MS);
    assertEquals(2, result.outputTokens());
    assertEquals(0.01, result.ttft(), EPS);
    assertEquals(1, result.interTokenLatencies().size());
  }

  @Test
  void anErrorEventFailsTheRequest() {
    StreamMeter meter = new StreamMeter(0);
    meter.onEvent(chunk("a", 1, 1), MS);
    meter.onEvent("{\"error\":{\"message\":\"engine died\",\"code\":500}}", 2 * MS);
    meter.onEvent("[DONE]", 3 * MS);
    RequestResult result = meter.result(3 * MS);
    assertFalse(result.success());
    assertEquals("engine died", result.error());
  }

  @Test
  void aStreamCutBeforeDoneFails() {
    StreamMeter meter = new StreamMeter(0);
    meter.onEvent(chunk("a", 1, 1), MS);
    RequestResult result = meter.result(2 * MS);
    assertFalse(result.success());
    assertEquals("the stream ended without [DONE]", result.error());
  }

  @Test
  void noTokensMeansNoTtft() {
    StreamMeter meter = new StreamMeter(0);
    meter.onEvent("[DONE]", MS);
    RequestResult result = meter.result(MS);
    assertTrue(result.success());
    assertNull(result.ttft());
    assertNull(result.timePerOutputToken());
  }
}
