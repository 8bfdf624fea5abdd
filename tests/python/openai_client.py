"""Drives Cliffwatch's proxy with the official OpenAI Python SDK, as a user would: the base URL
points at the proxy, the key is the client's own. Prints one JSON object with what the SDK got.

    openai_client.py BASE_URL API_KEY normal|breaker
"""
import json
import sys

import openai

base_url, api_key, phase = sys.argv[1], sys.argv[2], sys.argv[3]
client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=60)
messages = [{"role": "user", "content": "When does my balance run out?"}]
out = {}

if phase == "normal":
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=messages)
    plain = raw.parse()
    out["plain"] = {
        "status": raw.status_code,
        "body": raw.http_response.text,
        "content": plain.choices[0].message.content,
        "usage": plain.usage.model_dump(),
        "request_id": raw.headers.get("x-request-id"),
    }
    text, usage = "", None
    for chunk in client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage.model_dump()
    out["stream"] = {"text": text, "usage": usage}
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=messages, stream=True
    ) as resp:
        out["stream_raw"] = {
            "status": resp.status_code,
            "content_type": resp.headers.get("content-type"),
            "body": b"".join(resp.iter_bytes()).decode(),
        }

try:
    client.chat.completions.create(
        model="out-of-credit" if phase == "normal" else "gpt-4o-mini", messages=messages
    )
    out["refused"] = None
except openai.APIStatusError as e:
    out["refused"] = {
        "status": e.status_code,
        "body": e.response.text,
        "breaker": e.response.headers.get("x-cliffwatch-breaker"),
    }

print(json.dumps(out))
