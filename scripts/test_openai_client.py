#!/usr/bin/env python3
"""Drives a running `swift-tune deploy` with the official `openai` client: chat and text completions, streaming
(with usage), named adapters, logprobs, n, the API key, and OpenAI-shaped errors.

    .cache/python/bin/python scripts/test_openai_client.py --base-url http://127.0.0.1:8000/v1 \
        --api-key KEY --model qwen2 --adapter sw

Started by Tests/SwiftTuneCLITests/DeployCommandTests.swift; prints one line per check and ends with
'N passed, N failed'. Every call has a timeout and no retries, so it always ends.
"""
import argparse
import sys
import traceback

import openai

checks = []


def check(function):
    checks.append(function)
    return function


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--adapter", required=True)
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, timeout=60, max_retries=0)
    passed = failed = 0
    for function in checks:
        try:
            function(client, args)
            print(f"ok    {function.__name__}")
            passed += 1
        except Exception:
            print(f"FAIL  {function.__name__}")
            traceback.print_exc(file=sys.stdout)
            failed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


MESSAGES = [{"role": "user", "content": "Hi there"}]


@check
def models_list_the_model_and_the_adapter(client, args):
    ids = [model.id for model in client.models.list().data]
    assert ids == [args.model, args.adapter], ids


@check
def chat_completion(client, args):
    response = client.chat.completions.create(model=args.model, messages=MESSAGES, max_tokens=8, temperature=0)
    choice = response.choices[0]
    assert response.object == "chat.completion" and response.model == args.model, response
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str), choice
    assert choice.finish_reason in ("stop", "length"), choice
    usage = response.usage
    assert usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 8, usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, usage


@check
def streamed_chat_equals_the_whole_answer(client, args):
    whole = client.chat.completions.create(model=args.model, messages=MESSAGES, max_tokens=12, temperature=0)
    stream = client.chat.completions.create(model=args.model, messages=MESSAGES, max_tokens=12, temperature=0,
                                            stream=True, stream_options={"include_usage": True})
    text, finish, usage, roles = "", None, None, []
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk", chunk
        if chunk.usage is not None:
            usage = chunk.usage
            assert chunk.choices == [], chunk
            continue
        delta = chunk.choices[0].delta
        if delta.role:
            roles.append(delta.role)
        text += delta.content or ""
        finish = chunk.choices[0].finish_reason or finish
    assert roles == ["assistant"], roles
    assert text == whole.choices[0].message.content, (text, whole.choices[0].message.content)
    assert finish == whole.choices[0].finish_reason, finish
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens, usage


@check
def text_completion_and_its_stream(client, args):
    whole = client.completions.create(model=args.model, prompt="The sky is", max_tokens=10, temperature=0)
    assert whole.object == "text_completion" and whole.usage.completion_tokens <= 10, whole
    streamed = "".join(chunk.choices[0].text for chunk in client.completions.create(
        model=args.model, prompt="The sky is", max_tokens=10, temperature=0, stream=True) if chunk.choices)
    assert streamed == whole.choices[0].text, (streamed, whole.choices[0].text)


@check
def adapter_is_picked_by_model(client, args):
    response = client.chat.completions.create(model=args.adapter, messages=MESSAGES, max_tokens=8, temperature=0)
    assert response.model == args.adapter and response.usage.completion_tokens > 0, response


@check
def sampling_fields_logprobs_and_n(client, args):
    response = client.chat.completions.create(
        model=args.model, messages=MESSAGES, max_tokens=6, temperature=0.9, top_p=0.95, seed=7, n=2,
        presence_penalty=0.5, frequency_penalty=0.5, logprobs=True, top_logprobs=2, stop=["zzz"])
    assert [choice.index for choice in response.choices] == [0, 1], response.choices
    for choice in response.choices:
        content = choice.logprobs.content
        assert len(content) > 0 and all(len(entry.top_logprobs) == 2 for entry in content), content
        assert all(entry.logprob <= 0 for entry in content), content
    again = client.chat.completions.create(
        model=args.model, messages=MESSAGES, max_tokens=6, temperature=0.9, top_p=0.95, seed=7, n=2,
        presence_penalty=0.5, frequency_penalty=0.5)
    assert [c.message.content for c in again.choices] == [c.message.content for c in response.choices], "seeded"


@check
def a_wrong_api_key_is_401(client, args):
    bad = openai.OpenAI(base_url=args.base_url, api_key="wrong", timeout=30, max_retries=0)
    try:
        bad.models.list()
    except openai.AuthenticationError as error:
        assert error.status_code == 401 and error.body["code"] == "invalid_api_key", error.body
    else:
        raise AssertionError("no 401")


@check
def an_unknown_model_is_404(client, args):
    try:
        client.chat.completions.create(model="no-such-model", messages=MESSAGES, max_tokens=4)
    except openai.NotFoundError as error:
        assert error.body["code"] == "model_not_found" and error.body["param"] == "model", error.body
    else:
        raise AssertionError("no 404")


@check
def max_tokens_beyond_the_context_is_400(client, args):
    try:
        client.chat.completions.create(model=args.model, messages=MESSAGES, max_tokens=100000)
    except openai.BadRequestError as error:
        assert error.body["param"] == "max_tokens" and error.body["type"] == "invalid_request_error", error.body
    else:
        raise AssertionError("no 400")


@check
def empty_messages_are_400(client, args):
    try:
        client.chat.completions.create(model=args.model, messages=[], max_tokens=4)
    except openai.BadRequestError as error:
        assert error.body["param"] == "messages", error.body
    else:
        raise AssertionError("no 400")


if __name__ == "__main__":
    sys.exit(main())
