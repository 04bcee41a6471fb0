"""A local HTTP server speaking the OpenAI chat-completions and Anthropic messages protocols, for
testing the generation adapters without a network. Each test scripts what the "model" does:

    server.script(Reply(status=429, headers={"retry-after": "0"}), Reply(text="Fine [1]."))
    server.responder = lambda request: Reply(text=...)     # decide from the prompt

Replies are served in order; when the script runs out, `responder` (default: an echo) decides.
Every request's parsed JSON body is kept in `server.requests`.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    text: str = "ok"
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (timeouts)
    raw: bytes | None = None  # sent as is (malformed output)
    usage: tuple[int, int] = (120, 30)
    stream_chunks: list[str] | None = None  # how a streamed reply is cut; default: by word
    fail_after_chunks: int | None = None  # stream: drop the connection after this many chunks


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


class _Handler(BaseHTTPRequestHandler):
    server: "FakeLLMServer"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests.append({"path": self.path, "body": body})
        reply = self.server.next_reply(body)
        if reply.delay:
            time.sleep(reply.delay)
        anthropic = self.path.rstrip("/").endswith("/messages")
        if reply.raw is not None or reply.status != 200:
            payload = (
                reply.raw if reply.raw is not None else json.dumps({"error": {"message": "scripted failure"}}).encode()
            )
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if body.get("stream"):
            self._stream(reply, anthropic)
            return
        payload = json.dumps(self._anthropic(reply) if anthropic else self._openai(reply)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    @staticmethod
    def _openai(reply: Reply) -> dict:
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": "test-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": reply.usage[0],
                "completion_tokens": reply.usage[1],
                "total_tokens": sum(reply.usage),
            },
        }

    @staticmethod
    def _anthropic(reply: Reply) -> dict:
        return {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": "test-model",
            "content": [{"type": "text", "text": reply.text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": reply.usage[0], "output_tokens": reply.usage[1]},
        }

    def _stream(self, reply: Reply, anthropic: bool) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        chunks = reply.stream_chunks if reply.stream_chunks is not None else _words(reply.text)

        def send(event: str | None, data) -> None:
            line = (
                f"event: {event}\n" if event else ""
            ) + f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
            self.wfile.write(line.encode())
            self.wfile.flush()

        if anthropic:
            send(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_test",
                        "type": "message",
                        "role": "assistant",
                        "model": "test-model",
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": reply.usage[0], "output_tokens": 1},
                    },
                },
            )
            send(
                "content_block_start",
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            )
        for i, chunk in enumerate(chunks):
            if reply.fail_after_chunks is not None and i >= reply.fail_after_chunks:
                self.close_connection = True
                self.wfile.write(b"data: {broken")
                self.wfile.flush()
                return
            if anthropic:
                send(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": chunk}},
                )
            else:
                send(
                    None,
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "test-model",
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"content": chunk},
                                "finish_reason": "stop" if i == len(chunks) - 1 else None,
                            }
                        ],
                    },
                )
        if anthropic:
            send("content_block_stop", {"type": "content_block_stop", "index": 0})
            send(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": reply.usage[1]},
                },
            )
            send("message_stop", {"type": "message_stop"})
        else:
            send(
                None,
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "test-model",
                    "choices": [],
                    "usage": {
                        "prompt_tokens": reply.usage[0],
                        "completion_tokens": reply.usage[1],
                        "total_tokens": sum(reply.usage),
                    },
                },
            )
            send(None, "[DONE]")


class FakeLLMServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self.responder: Callable[[dict], Reply] = lambda body: Reply(text="ok")
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def next_reply(self, body: dict) -> Reply:
        with self._lock:
            if self._script:
                return self._script.pop(0)
        return self.responder(body)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def prompt_of(body: dict) -> str:
    """All text a request sent to the model (system and messages), for fakes that read it."""
    parts = [body.get("system") or ""]
    for message in body.get("messages", []):
        content = message.get("content")
        parts.append(content if isinstance(content, str) else json.dumps(content))
    return "\n".join(parts)
