#!/usr/bin/python3
"""Renders the R1-Distill chat templates with Python's Jinja2, set up the way Hugging Face transformers'
apply_chat_template sets it up, into engine/src/test/resources/fixtures/chat-template/.

For each case it writes <name>.json (the inputs: a template revision of barista/r1-distill, or an inline template
"source") and <name>.txt (the exact rendered prompt, UTF-8);
ChatTemplateTest renders the same inputs with Jinjava and compares byte for byte.

Run with Debian's python (apt-get install python3-jinja2): /usr/bin/python3 scripts/make-template-fixtures.py
"""
import json
import pathlib

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "engine/src/main/resources/barista/r1-distill"
OUT = ROOT / "engine/src/test/resources/fixtures/chat-template"


def compile_template(source):
    """Mirrors transformers.utils.chat_template_utils._compile_jinja_template."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source)


THINKING_ANSWER = "<think>\nThe user greets me. I should greet back.\n</think>\n\nHello! How can I help you today?"
TOOL_CALL = {
    "type": "function",
    "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})},
}

# Exercises the Python str methods that chat templates (Qwen, DeepSeek) call, where Java's String differs.
STRING_METHODS = (
    "{% for message in messages %}{% set c = message['content'] %}"
    "[{{ c.split('</think>')[-1] }}|{{ c.split('</think>')[0].rstrip('\\n') }}|{{ c.split()|join(',') }}"
    "|{{ c.split(' ', 1)[-1] }}|{{ c.strip() }}|{{ c.lstrip('\\n<') }}|{{ c.strip('\\n') }}"
    "|{{ 'starts' if c.startswith('<think>') }}|{{ 'ends' if c.endswith('</think>') }}|{{ c.split('.')|length }}]\n"
    "{% endfor %}"
)

CASES = {
    "single-user-feb2025": ("feb2025", True, [
        {"role": "user", "content": "What is 2 + 2?"},
    ]),
    "single-user-jan2025": ("jan2025", True, [
        {"role": "user", "content": "What is 2 + 2?"},
    ]),
    "single-user-no-prompt-feb2025": ("feb2025", False, [
        {"role": "user", "content": "What is 2 + 2?"},
    ]),
    "system-user-feb2025": ("feb2025", True, [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": "Name three primes."},
    ]),
    "multi-turn-think-feb2025": ("feb2025", True, [
        {"role": "system", "content": "Be friendly."},
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": THINKING_ANSWER},
        {"role": "user", "content": "Tell me a joke.\nKeep it short."},
    ]),
    "multi-turn-think-jan2025": ("jan2025", False, [
        {"role": "user", "content": "Hi there"},
        {"role": "assistant", "content": THINKING_ANSWER},
        {"role": "user", "content": "Thanks!"},
        {"role": "assistant", "content": "You're welcome."},
    ]),
    "empty-answer-after-think-feb2025": ("feb2025", True, [
        {"role": "user", "content": "Think only."},
        {"role": "assistant", "content": "<think>\nnothing to say\n</think>"},
        {"role": "user", "content": "Again?"},
    ]),
    "non-ascii-feb2025": ("feb2025", True, [
        {"role": "system", "content": "你是一个乐于助人的助手。"},
        {"role": "user", "content": "用中文解释一下量子纠缠 🤔🚀，再写一行 Python：print('héllo')"},
        {"role": "assistant", "content": "<think>好的</think>量子纠缠是…… 😀"},
        {"role": "user", "content": "谢谢！👍🏽"},
    ]),
    "tool-calls-feb2025": ("feb2025", True, [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
        {"role": "tool", "content": "{\"temp_c\": 18}"},
        {"role": "tool", "content": "{\"sky\": \"clear\"}"},
        {"role": "assistant", "content": "It is 18 °C and clear."},
        {"role": "user", "content": "Thanks."},
    ]),
    "string-methods": (STRING_METHODS, False, [
        {"role": "user", "content": "<think>\nplan a.b.c\n</think>"},
        {"role": "assistant", "content": "\n\n  two  words\u00a0here \n"},
        {"role": "user", "content": "no think tag. 中文 😀"},
    ]),
}


def main():
    config = json.loads((MODEL / "tokenizer_config.json").read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (template, add_generation_prompt, messages) in CASES.items():
        inline = "{" in template
        source = template if inline else (MODEL / f"chat-template.{template}.jinja").read_text(encoding="utf-8")
        rendered = compile_template(source).render(
            messages=messages,
            add_generation_prompt=add_generation_prompt,
            bos_token=config["bos_token"],
            eos_token=config["eos_token"],
        )
        inputs = {"source" if inline else "template": template, "add_generation_prompt": add_generation_prompt,
                  "messages": messages}
        (OUT / f"{name}.json").write_text(json.dumps(inputs, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (OUT / f"{name}.txt").write_bytes(rendered.encode("utf-8"))
        print(f"{name}: {len(rendered)} chars")


if __name__ == "__main__":
    main()
