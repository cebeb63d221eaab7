// Writes engine/src/test/resources/fixtures/no-decoder/: a WordLevel tokenizer without a decoder (the shape
// Hugging Face transformers saves for a word-level vocabulary: "decoder": null), and decode.json, the text of
// fixed id sequences as Hugging Face's decode gives it -- computed here by @huggingface/tokenizers (Tokenizers.js,
// the tokenizer of transformers.js), an implementation independent of the Rust library barista runs through DJL.
// NoDecoderTokenizerTest compares our decode and incremental detokenizer with it.
//
//   npm install --prefix /tmp/tokenizers-js @huggingface/tokenizers@0.2.0
//   NODE_PATH=/tmp/tokenizers-js/node_modules node scripts/make-no-decoder-fixture.mjs
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('@huggingface/tokenizers');
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'engine/src/test/resources/fixtures/no-decoder');

const vocab = { '[UNK]': 0, '<s>': 1, '</s>': 2 };
for (let i = 0; i < 509; i++) vocab[`t${i}`] = i + 3;
vocab['caf\u00e9'] = 512; // a non-ASCII word: stays whole (no byte-level mapping without a decoder)
vocab['\u0120x'] = 513;   // 'Ġx' is text here, not a space: only a ByteLevel decoder would map it
const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
  normalized: false, special: true });
const tokenizerJson = {
  version: '1.0', truncation: null, padding: null,
  added_tokens: [special(0, '[UNK]'), special(1, '<s>'), special(2, '</s>')],
  normalizer: null, pre_tokenizer: { type: 'WhitespaceSplit' }, post_processor: null, decoder: null,
  model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
};
const tokenizerConfig = { bos_token: '<s>', eos_token: '</s>', unk_token: '[UNK]',
  clean_up_tokenization_spaces: false, model_max_length: 256, tokenizer_class: 'PreTrainedTokenizerFast' };

const sequences = [[438, 451, 133], [1, 438, 451, 2], [2, 2, 7], [512, 513, 3], [5], [1, 2], [0, 9, 0]];
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
const cases = [];
for (const ids of sequences) {
  for (const skip of [true, false]) {
    cases.push({ ids, skip_special_tokens: skip, text: tokenizer.decode(ids, { skip_special_tokens: skip }) });
  }
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizerJson, null, 1) + '\n');
writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 1) + '\n');
writeFileSync(join(out, 'decode.json'), JSON.stringify({ made_by: '@huggingface/tokenizers 0.2.0', cases }, null, 1)
  + '\n');
console.log(cases.map((c) => `${JSON.stringify(c.ids)} skip=${c.skip_special_tokens}: ${JSON.stringify(c.text)}`)
  .join('\n'));
