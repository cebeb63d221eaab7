// Structured output as the OpenAI Node SDK's users write it, against a running barista server on a random-weight
// model (only the constraint can make its output valid):
//   node structured-node.mjs http://127.0.0.1:8000/v1
// zod 4 and zod 3 schemas through zodResponseFormat and zodFunction (the SDK validates with zod), every output
// checked again by ajv with ajv-formats (an independent JSON Schema validator), and bounded integers. One line per
// check; exits non-zero on the first failure.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { z as z3 } from 'zod3';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const baseURL = process.argv[2] ?? process.env.OPENAI_BASE_URL;
if (!baseURL) {
  console.error('usage: node structured-node.mjs BASE_URL (e.g. http://127.0.0.1:8000/v1)');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY ?? 'unused', maxRetries: 0 });
const model = (await client.models.list()).data[0].id;
const messages = [{ role: 'user', content: 'Describe a person.' }];
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

/** Validates a value against the JSON schema the server was sent, independently of zod and of the server. */
function check(label, schema, value) {
  const validate = ajv.compile(schema);
  assert.ok(validate(value), `${label}: ${JSON.stringify(value)} fails its schema: ${ajv.errorsText(validate.errors)}`);
}

// The keywords the issue names: .int() (zod 4: minimum/maximum), .nullable(), .email(), .datetime(), .uuid(),
// .positive() (exclusiveMinimum), in each zod's own way of writing them.
function person(zz) {
  return zz.object({
    name: zz.string().max(12),
    age: zz.number().int(),
    email: zz.string().email(),
    joined: zz.string().datetime(),
    id: zz.string().uuid(),
    score: zz.number().positive(),
    nickname: zz.string().max(8).nullable(),
  });
}

for (const [label, zz] of [['zod 4', z], ['zod 3', z3]]) {
  const format = zodResponseFormat(person(zz), 'person');
  for (let seed = 1; seed <= 3; seed++) {
    const completion = await client.chat.completions.parse({
      model, messages, max_tokens: 400, seed, temperature: 1, response_format: format,
    });
    const message = completion.choices[0].message;
    assert.equal(completion.choices[0].finish_reason, 'stop', `${label} seed ${seed}: ${message.content}`);
    assert.ok(message.parsed, `${label}: the SDK parsed nothing from ${message.content}`);
    check(`${label} seed ${seed}`, format.json_schema.schema, JSON.parse(message.content));
  }
  console.log(`parse ${label}: zodResponseFormat outputs valid (zod and ajv)`);

  const tool = zodFunction({ name: 'record_person', parameters: person(zz) });
  const called = await client.chat.completions.parse({
    model, messages, max_tokens: 400, seed: 7, tools: [tool],
    tool_choice: { type: 'function', function: { name: 'record_person' } },
  });
  const call = called.choices[0].message.tool_calls?.[0];
  assert.ok(call && call.function.name === 'record_person', JSON.stringify(called.choices[0].message));
  assert.ok(call.function.parsed_arguments, `${label}: the SDK parsed no arguments from ${call.function.arguments}`);
  check(`${label} tool`, tool.function.parameters, JSON.parse(call.function.arguments));
  console.log(`zodFunction ${label}: forced tool call valid (zod and ajv)`);
}

// A forced tool beside a response format (LangChain4j sends both): the tool's schema governs the turn.
const beside = await client.chat.completions.create({
  model, messages, max_tokens: 400, seed: 9,
  tools: [zodFunction({ name: 'record_person', parameters: person(z) })], tool_choice: 'required',
  response_format: zodResponseFormat(z.object({ answer: z.string() }), 'answer'),
});
assert.equal(beside.choices[0].finish_reason, 'tool_calls', JSON.stringify(beside.choices[0]));
check('tool beside format', zodFunction({ name: 'record_person', parameters: person(z) }).function.parameters,
  JSON.parse(beside.choices[0].message.tool_calls[0].function.arguments));
console.log('tool beside response_format: the tool call is valid');

// Bounded integers: 200 requests, none out of range.
const bounded = { type: 'integer', minimum: -5, maximum: 300 };
let outside = 0;
const seen = new Set();
for (let batch = 0; batch < 10; batch++) {
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.chat.completions.create({
    model, messages, max_tokens: 8, seed: batch * 20 + i, temperature: 1.5,
    response_format: { type: 'json_schema', json_schema: { name: 'n', schema: bounded } },
  })));
  for (const r of results) {
    const v = JSON.parse(r.choices[0].message.content);
    check('bounded integer', bounded, v);
    if (!(Number.isInteger(v) && v >= -5 && v <= 300)) outside++;
    seen.add(v);
  }
}
assert.equal(outside, 0);
console.log(`bounded integers: 200 of 200 within [-5, 300] (${seen.size} distinct)`);
console.log('structured-node: all checks passed');
