#!/usr/bin/python3
"""Renders barista's tool-aware R1 chat template (engine/src/main/resources/barista/r1-distill/
chat-template.tools.jinja) with Python's Jinja2, set up as transformers' apply_chat_template sets it up (the
environment of make-template-fixtures.py), into engine/src/test/resources/fixtures/chat-template/tools-*.{json,txt}.
ChatTemplateTest renders the same inputs (messages, tools) with Jinjava and compares byte for byte.

Run: python3 scripts/make-tool-template-fixtures.py (needs jinja2; made with 3.1.6)
"""
import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("fixtures", ROOT / "scripts/make-template-fixtures.py")
base = importlib.util.module_from_spec(spec)
spec.loader.exec_module(base)

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather of a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City, \"quoted\""},
                                                     "unit": {"enum": ["c", "f"]}},
                   "required": ["city"], "additionalProperties": False}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}


def call(id_, name, args):
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


CASES = {
    "tools-round-trip": (True, [WEATHER, TIME], [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather and time in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call("call_1", "get_weather", {"city": "Paris"}),
                                                             call("call_2", "get_time", {})]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 18}"},
        {"role": "tool", "tool_call_id": "call_2", "content": "14:05"},
        {"role": "assistant", "content": "<think>done</think>It is 18 °C at 14:05."},
        {"role": "user", "content": "Thanks, and in Rome?"},
    ]),
    "tools-after-tool-result": (True, [WEATHER], [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [call("call_9", "get_weather",
                                                                              {"city": "Paris", "unit": "c"})]},
        {"role": "tool", "tool_call_id": "call_9", "content": "sunny"},
    ]),
}


def main():
    config = json.loads((base.MODEL / "tokenizer_config.json").read_text(encoding="utf-8"))
    source = (base.MODEL / "chat-template.tools.jinja").read_text(encoding="utf-8")
    for name, (add_generation_prompt, tools, messages) in CASES.items():
        rendered = base.compile_template(source).render(
            messages=messages, tools=tools, add_generation_prompt=add_generation_prompt,
            bos_token=config["bos_token"], eos_token=config["eos_token"])
        inputs = {"template": "tools", "add_generation_prompt": add_generation_prompt, "tools": tools,
                  "messages": messages}
        (base.OUT / f"{name}.json").write_text(json.dumps(inputs, ensure_ascii=False, indent=2) + "\n",
                                               encoding="utf-8")
        (base.OUT / f"{name}.txt").write_bytes(rendered.encode("utf-8"))
        print(f"{name}: {len(rendered)} chars")


if __name__ == "__main__":
    main()
